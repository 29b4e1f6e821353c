#ifndef FLOWREPO_REPO_SETTINGS_H_
#define FLOWREPO_REPO_SETTINGS_H_

// .flowrepo/workspace.json: schema version, available components, topics
// and roles of one workspace.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "flowrepo/access.h"
#include "json/json_io.h"
#include "repo/store.h"

namespace flowrepo {

inline constexpr std::string_view kSettingsSchema = "flowrepo/workspace@1";
/// The settings field naming the role needed to export (ExportRole).
inline constexpr const char* kExportRoleField = "export_role";

struct WorkspaceSettings {
  Json document;  ///< the whole file, unknown fields kept

  /// "name@version" of every component the workspace provides.
  std::set<std::string> Components() const;
  std::set<std::string> Topics() const;
  /// user -> role; empty means the workspace is unmanaged (everyone admin).
  std::map<std::string, Role> Roles() const;
  std::optional<Role> RoleOf(const std::string& user) const;
  /// The role needed to export flows of the workspace ("export_role"):
  /// integrator when absent; admin when it names no role (validation
  /// refuses that, and an unreadable setting must not open exports).
  Role ExportRole() const;

  static WorkspaceSettings Default(const std::string& admin);
  static WorkspaceSettings Parse(const std::string& text);
  /// Reads the settings in \a commit's tree; Default("") when absent.
  static WorkspaceSettings AtCommit(const Store& store, const git_oid& commit);
};

/// The components and topics a workspace provides, read out of its
/// settings once: validation asks for every node of every flow.
class Availability {
 public:
  explicit Availability(const WorkspaceSettings& settings);
  /// Whether \a component ("name@version" or "name") is available; an
  /// entry ending in '*' ("n8n:*") provides every component it prefixes.
  bool HasComponent(const std::string& component) const;
  /// Empty when the workspace does not manage topics (any is available).
  const std::set<std::string>& Topics() const { return topics_; }

 private:
  std::set<std::string> components_;
  std::vector<std::string> prefixes_;  ///< of entries ending in '*'
  std::set<std::string> topics_;
};

/// Availability of \a settings; none for nullptr.
std::optional<Availability> AvailabilityOf(const WorkspaceSettings* settings);

}  // namespace flowrepo

#endif  // FLOWREPO_REPO_SETTINGS_H_
