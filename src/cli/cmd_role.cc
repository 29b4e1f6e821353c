#include "cli/cli.h"

namespace flowrepo::cli {
namespace {

void PrintChange(const Globals& g, const RoleChange& c, const std::string& what) {
  Emit(g, ToJson(c), [&](std::ostream& os) {
    if (c.changed) {
      os << what << " in workspace '" << c.workspace << "' at " << c.commit.substr(0, 7) << "\n";
    } else {
      os << "Unchanged: " << what << " already\n";
    }
  });
}

}  // namespace

void AddRoleCommand(CLI::App& app, Globals& g) {
  auto* cmd =
      app.add_subcommand("role", "Grant, revoke and list the roles of a workspace (viewer, integrator, admin).");
  cmd->require_subcommand(1);

  static std::string user, role_name;
  auto* grant = cmd->add_subcommand("grant",
                                    "Give USER a role in the workspace (admin only). Commits to the workspace branch.\n"
                                    "Example: flowrepo role grant bob@example.com integrator\n"
                                    "         flowrepo -w prod role grant carol@example.com viewer");
  grant->add_option("USER", user, "user name or e-mail, as --user / FLOWREPO_USER name it")->required();
  grant->add_option("ROLE", role_name, "viewer, integrator or admin")->required();
  AddJsonFlag(grant, g);
  grant->callback([&g] {
    auto role = ParseRole(role_name);
    if (!role) {
      throw Error(ErrorCode::kInvalidArgument,
                  "unknown role '" + role_name + "' (expected viewer, integrator or admin)");
    }
    auto repo = OpenRepository(g);
    PrintChange(g, repo.GrantRole(g.workspace, user, *role), "'" + user + "' is " + RoleName(*role));
  });

  auto* revoke = cmd->add_subcommand("revoke",
                                     "Remove USER's role in the workspace (admin only).\n"
                                     "Example: flowrepo role revoke bob@example.com");
  revoke->add_option("USER", user, "user name or e-mail")->required();
  AddJsonFlag(revoke, g);
  revoke->callback([&g] {
    auto repo = OpenRepository(g);
    PrintChange(g, repo.RevokeRole(g.workspace, user), "'" + user + "' has no role");
  });

  auto* list = cmd->add_subcommand("list", "List the roles of the workspace.\nExample: flowrepo role list");
  AddJsonFlag(list, g);
  list->callback([&g] {
    auto repo = OpenRepository(g);
    auto roles = repo.ListRoles(g.workspace);
    Emit(g, {{"workspace", g.workspace}, {"roles", forms::RolesJson(roles)}}, [&](std::ostream& os) {
      for (const auto& r : roles) os << r.user << "\t" << RoleName(r.role) << "\n";
      if (roles.empty()) os << "(no roles: workspace '" << g.workspace << "' is unmanaged, everyone is admin)\n";
    });
  });
}

}  // namespace flowrepo::cli
