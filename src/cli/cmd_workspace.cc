#include "cli/cli.h"

namespace flowrepo::cli {

void AddWorkspaceCommand(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("workspace", "Create and list workspaces (branches).");
  cmd->require_subcommand(1);

  auto* create =
      cmd->add_subcommand("create",
                          "Create a workspace from another: one commit on its head gives every flow v1 in the new\n"
                          "workspace, naming the version it came from. Rerun it if it was interrupted.\n"
                          "Example: flowrepo workspace create dev --from main");
  static std::string name, from = "main";
  create->add_option("NAME", name, "new workspace name")->required();
  create->add_option("--from", from, "source workspace (default: main)");
  AddJsonFlag(create, g);
  create->callback([&g] {
    auto repo = OpenRepository(g);
    WorkspaceInfo ws = repo.CreateWorkspace(name, from);
    Emit(g, forms::CreatedJson(ws), [&](std::ostream& os) {
      if (ws.completed_earlier_create) {
        os << "Workspace '" << ws.name << "' had been created from '" << from
           << "' by an earlier run; its version tags are complete\n";
        return;
      }
      os << "Created workspace '" << ws.name << "' from '" << from << "' (" << ws.flow_count
         << " flows, each v1 there)\n";
    });
  });

  auto* list = cmd->add_subcommand("list", "List workspaces.\nExample: flowrepo workspace list");
  AddJsonFlag(list, g);
  list->callback([&g] {
    auto repo = OpenRepository(g);
    Json out = Json::array();
    auto all = repo.ListWorkspaces();
    for (const auto& ws : all) out.push_back(ToJson(ws));
    Emit(g, out, [&](std::ostream& os) {
      for (const auto& ws : all) {
        os << ws.name << "\t" << ws.flow_count << " flows\t" << ws.commit.substr(0, 7) << "\n";
      }
    });
  });
}

}  // namespace flowrepo::cli
