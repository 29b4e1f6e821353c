#ifndef FLOWREPO_ACCESS_H_
#define FLOWREPO_ACCESS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowrepo {

/// Roles per workspace, weakest first: each includes the ones before it.
enum class Role { kViewer, kIntegrator, kAdmin };

const char* RoleName(Role role);
/// Parses "viewer", "integrator" or "admin".
std::optional<Role> ParseRole(std::string_view name);

/// One user's role in a workspace.
struct RoleAssignment {
  std::string user;
  Role role = Role::kViewer;
};

/// The roles of a workspace after a change (or as listed).
struct RoleChange {
  std::string workspace;
  std::string commit;                 ///< workspace head after the change
  std::vector<RoleAssignment> roles;  ///< sorted by user; empty: unmanaged
  bool changed = false;               ///< false: the role was already so
};

}  // namespace flowrepo

#endif  // FLOWREPO_ACCESS_H_
