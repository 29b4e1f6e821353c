// Roles: `role grant|revoke|list`, stored in .flowrepo/workspace.json
// "roles" on the workspace branch.
//
// A role change is the one write besides publish that commits to a
// workspace branch directly instead of going through a draft. Access
// control must not wait for a review cycle (revoking a leaver is urgent),
// and a draft would let the change be judged against roles that differ by
// the time it is published. So the change is checked and written against
// one workspace head: its roles must make the acting user admin, and the
// new commit's parent is that head, moved to by compare-and-swap; a
// concurrent change of the workspace surfaces as kConflict and nothing is
// written. A draft that changes roles is still possible (plain git edits),
// and publish then requires the admin role too.

#include <algorithm>
#include <cctype>
#include <functional>

#include "flowrepo/error.h"
#include "json/json_io.h"
#include "repo/repository_impl.h"

namespace flowrepo {
namespace {

std::vector<RoleAssignment> Sorted(const std::map<std::string, Role>& roles) {
  std::vector<RoleAssignment> out;
  for (const auto& [user, role] : roles) out.push_back({user, role});
  return out;
}

}  // namespace

std::vector<RoleAssignment> FlowRepository::ListRoles(std::string_view workspace) const {
  impl_->RequireRole(workspace, Role::kViewer);
  return Sorted(WorkspaceSettings::AtCommit(impl_->store, impl_->WorkspaceHead(workspace)).Roles());
}

// Applies \a change to the roles at the workspace head and commits the
// result onto the workspace branch.
static RoleChange ChangeRoles(FlowRepository::Impl& impl, std::string_view ws, const std::string& summary,
                              const std::function<bool(Json& roles)>& change) {
  Store& store = impl.store;
  const git_oid head = impl.WorkspaceHead(ws);
  WorkspaceSettings settings = WorkspaceSettings::AtCommit(store, head);
  auto has = settings.RoleOf(impl.user);
  if (!has || *has < Role::kAdmin) {
    throw Error(ErrorCode::kPermissionDenied,
                "user '" + impl.user + "' needs role 'admin' in workspace '" + std::string(ws) + "' (has " +
                    (has ? std::string("'") + RoleName(*has) + "'" : std::string("none")) + ")");
  }
  Json& doc = settings.document;
  if (!doc.contains("roles") || !doc["roles"].is_object()) doc["roles"] = Json::object();
  RoleChange result;
  result.workspace = std::string(ws);
  if (!change(doc["roles"])) {
    result.commit = git::OidHex(head);
    result.roles = Sorted(settings.Roles());
    return result;
  }
  auto roles = settings.Roles();
  bool admin_left = false;
  for (const auto& [user, role] : roles) admin_left |= role == Role::kAdmin;
  if (!admin_left) {
    throw Error(ErrorCode::kInvalidArgument,
                "workspace '" + std::string(ws) + "' would have no admin; grant the admin role to someone first");
  }
  TreeEdits edits;
  edits[std::string(kSettingsPath)] = TreeEntry{store.WriteBlob(CanonicalJson(doc)), GIT_FILEMODE_BLOB};
  git_oid tree = store.EditTree(store.CommitTreeId(head), edits);
  git::SignaturePtr who = store.Signature(impl.user);
  std::string message = summary + "\n\nFlowrepo-Workspace: " + std::string(ws) + "\n";
  git_oid commit = store.CreateCommit(tree, {head}, message, who.get());
  impl.MoveRef(WorkspaceRef(ws), commit, head, "flowrepo: " + summary);
  result.commit = git::OidHex(commit);
  result.roles = Sorted(roles);
  result.changed = true;
  return result;
}

RoleChange FlowRepository::GrantRole(std::string_view workspace, std::string_view user, Role role) {
  RequireId(workspace, "workspace name");
  RequireUserName(user);
  std::string name(user);
  return ChangeRoles(
      *impl_, workspace,
      "Grant role " + std::string(RoleName(role)) + " to " + name + " in workspace " + std::string(workspace),
      [&](Json& roles) {
        if (roles.contains(name) && roles[name] == RoleName(role)) return false;
        roles[name] = RoleName(role);
        return true;
      });
}

RoleChange FlowRepository::RevokeRole(std::string_view workspace, std::string_view user) {
  RequireId(workspace, "workspace name");
  RequireUserName(user);
  std::string name(user);
  return ChangeRoles(*impl_, workspace, "Revoke the role of " + name + " in workspace " + std::string(workspace),
                     [&](Json& roles) {
                       if (!roles.contains(name)) {
                         throw Error(ErrorCode::kNotFound,
                                     "user '" + name + "' has no role in workspace '" + std::string(workspace) + "'");
                       }
                       roles.erase(name);
                       return true;
                     });
}

}  // namespace flowrepo
