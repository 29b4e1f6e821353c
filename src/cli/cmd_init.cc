#include "cli/cli.h"

namespace flowrepo::cli {

void AddInitCommand(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("init",
                                 "Create a flow repository (or adopt an existing git repository).\n"
                                 "Example: flowrepo init flows-repo --user alice@example.com");
  static std::string dir = ".";
  static bool bare = false;
  cmd->add_option("DIR", dir, "directory (default: current)");
  cmd->add_flag("--bare", bare, "create a bare repository (for a shared server)");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    InitOptions options;
    options.layout = bare ? InitOptions::Layout::kBare : InitOptions::Layout::kWorkTree;
    options.workspace = g.workspace;
    options.user = g.user;
    FlowRepository repo = FlowRepository::Init(dir, options);
    Json out = {
        {"repository", repo.git_dir()}, {"workspace", g.workspace}, {"bare", repo.bare()}, {"admin", repo.user()}};
    Emit(g, out, [&](std::ostream& os) {
      os << "Initialized flow repository in " << repo.git_dir() << "\n"
         << "Workspace '" << g.workspace << "' created; '" << repo.user() << "' is its admin.\n";
    });
  });
}

}  // namespace flowrepo::cli
