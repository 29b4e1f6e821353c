#include "repo/settings.h"

#include "flowrepo/error.h"
#include "repo/layout.h"

namespace flowrepo {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kViewer: return "viewer";
    case Role::kIntegrator: return "integrator";
    case Role::kAdmin: return "admin";
  }
  return "viewer";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "viewer") return Role::kViewer;
  if (name == "integrator") return Role::kIntegrator;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

std::set<std::string> WorkspaceSettings::Components() const {
  std::set<std::string> out;
  for (const auto& c : document.value("components", Json::array())) {
    if (c.is_object()) {
      std::string name = StringOr(c, "name");
      std::string version = StringOr(c, "version");
      if (!name.empty()) out.insert(version.empty() ? name : name + "@" + version);
    } else if (c.is_string()) {
      out.insert(c.get<std::string>());
    }
  }
  return out;
}

std::set<std::string> WorkspaceSettings::Topics() const {
  std::set<std::string> out;
  for (const auto& t : document.value("topics", Json::array())) {
    if (t.is_string()) out.insert(t.get<std::string>());
    if (t.is_object() && t.contains("name") && t["name"].is_string()) {
      out.insert(t["name"].get<std::string>());
    }
  }
  return out;
}

std::map<std::string, Role> WorkspaceSettings::Roles() const {
  std::map<std::string, Role> out;
  auto roles = document.value("roles", Json::object());
  if (!roles.is_object()) return out;
  for (const auto& [user, role] : roles.items()) {
    if (!role.is_string()) continue;
    if (auto r = ParseRole(role.get<std::string>())) out[user] = *r;
  }
  return out;
}

std::optional<Role> WorkspaceSettings::RoleOf(const std::string& user) const {
  auto roles = Roles();
  if (roles.empty()) return Role::kAdmin;
  auto it = roles.find(user);
  if (it == roles.end()) return std::nullopt;
  return it->second;
}

Role WorkspaceSettings::ExportRole() const {
  auto it = document.find(kExportRoleField);
  if (it == document.end()) return Role::kIntegrator;
  return it->is_string() ? ParseRole(it->get<std::string>()).value_or(Role::kAdmin) : Role::kAdmin;
}

WorkspaceSettings WorkspaceSettings::Default(const std::string& admin) {
  Json doc = {
      {"schema", kSettingsSchema},
      {"components", Json::array({
                         {{"name", "http"}, {"version", "1"}, {"visibility", "public"}},
                         {{"name", "llm-chat"}, {"version", "1"}, {"visibility", "public"}},
                         {{"name", "javascript"}, {"version", "1"}, {"visibility", "public"}},
                     })},
      {"topics", Json::array()},
      {"roles", Json::object()},
  };
  if (!admin.empty()) doc["roles"][admin] = "admin";
  return WorkspaceSettings{doc};
}

WorkspaceSettings WorkspaceSettings::Parse(const std::string& text) {
  Json doc = ParseJson(text, kSettingsPath);
  if (!doc.is_object()) {
    throw Error(ErrorCode::kInvalidData, std::string(kSettingsPath) + ": not a JSON object");
  }
  return WorkspaceSettings{doc};
}

WorkspaceSettings WorkspaceSettings::AtCommit(const Store& store, const git_oid& commit) {
  git::TreePtr tree = store.CommitTree(commit);
  auto entry = store.EntryAt(tree.get(), std::string(kSettingsPath));
  if (!entry) return Default("");
  return Parse(store.ReadBlob(entry->id));
}

Availability::Availability(const WorkspaceSettings& settings)
    : components_(settings.Components()), topics_(settings.Topics()) {
  for (const auto& c : components_) {
    if (!c.empty() && c.back() == '*') prefixes_.push_back(c.substr(0, c.size() - 1));
  }
}

std::optional<Availability> AvailabilityOf(const WorkspaceSettings* settings) {
  if (!settings) return std::nullopt;
  return Availability(*settings);
}

bool Availability::HasComponent(const std::string& component) const {
  if (components_.count(component)) return true;
  // An entry ending in '*' provides every component it prefixes ("n8n:*":
  // all n8n node types).
  for (const auto& prefix : prefixes_) {
    if (component.compare(0, prefix.size(), prefix) == 0) return true;
  }
  // A component named without a version matches any version provided.
  if (component.find('@') == std::string::npos) {
    const std::string versioned = component + "@";
    auto it = components_.lower_bound(versioned);
    return it != components_.end() && it->compare(0, versioned.size(), versioned) == 0;
  }
  return false;
}

}  // namespace flowrepo
