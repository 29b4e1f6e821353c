// Administration: roles of a workspace, creating workspaces. Admin role
// (listing roles: viewer).

#include "flowrepo/error.h"
#include "server/routes.h"

namespace flowrepo::server {
namespace {

void ListRoles(Call& call) {
  const std::string& ws = call.Path("ws");
  call.Reply({{"workspace", ws}, {"roles", forms::RolesJson(call.repo().ListRoles(ws))}});
}

void GrantRole(Call& call) {
  const std::string user = StringField(call.body(), "user");
  const std::string role_name = StringField(call.body(), "role");
  const auto role = ParseRole(role_name);
  if (!role) {
    throw Error(ErrorCode::kInvalidArgument, "unknown role '" + role_name + "' (expected viewer, integrator or admin)");
  }
  call.Reply(forms::ToJson(call.repo().GrantRole(call.Path("ws"), user, *role)));
}

void RevokeRole(Call& call) { call.Reply(forms::ToJson(call.repo().RevokeRole(call.Path("ws"), call.Path("user")))); }

void CreateWorkspace(Call& call) {
  const std::string name = StringField(call.body(), "name");
  const std::string from = StringField(call.body(), "from");
  const WorkspaceInfo ws = call.repo().CreateWorkspace(name, from.empty() ? "main" : from);
  call.Reply(forms::CreatedJson(ws), 201);
}

}  // namespace

void AddAdminRoutes(std::vector<Route>& routes) {
  const std::string roles = "/api/v1/workspaces/{ws}/roles";
  routes.push_back(
      {"GET", roles, "The roles of a workspace (role list)", "viewer", {}, Route::Body::kNone, {}, false, ListRoles});
  routes.push_back({"POST",
                    roles,
                    "Give a user a role (role grant)",
                    "admin",
                    {},
                    Route::Body::kJson,
                    {"user: string - the user", "role: string - viewer, integrator or admin"},
                    false,
                    GrantRole});
  routes.push_back({"DELETE",
                    roles + "/{user}",
                    "Remove a user's role (role revoke)",
                    "admin",
                    {},
                    Route::Body::kNone,
                    {},
                    false,
                    RevokeRole});
  routes.push_back({"POST",
                    "/api/v1/workspaces",
                    "Create a workspace from another (workspace create)",
                    "admin",
                    {},
                    Route::Body::kJson,
                    {"name: string - the new workspace", "from: string - the source workspace (default main)"},
                    false,
                    CreateWorkspace});
}

}  // namespace flowrepo::server
