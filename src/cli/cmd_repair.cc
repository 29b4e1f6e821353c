#include "cli/cli.h"

namespace flowrepo::cli {

void AddRepairCommand(CLI::App& app, Globals& g) {
  auto* cmd =
      app.add_subcommand("repair",
                         "Finish what a killed flowrepo process left undone in work trees: a branch that moved\n"
                         "while the work tree and index that have it checked out had not followed yet (git\n"
                         "status would show the move as staged changes that undo it). Every flowrepo write\n"
                         "does this first; run it after a crash before using plain git. Touches nothing else.\n"
                         "Example: flowrepo repair");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    auto repo = OpenRepository(g);
    std::vector<RepairAction> done = repo.Repair();
    Json out = Json::array();
    for (const auto& a : done) {
      out.push_back({{"work_tree", a.work_tree}, {"ref", a.ref}, {"message", a.message}});
    }
    Emit(g, {{"repaired", out}}, [&](std::ostream& os) {
      if (done.empty()) os << "Nothing to repair\n";
      for (const auto& a : done) os << a.work_tree << ": " << a.message << "\n";
    });
  });
}

}  // namespace flowrepo::cli
