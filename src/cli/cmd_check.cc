#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/one_line.h"
#include "flowrepo/check.h"

namespace flowrepo::cli {
namespace {

Json ToJson(const CheckProblem& p) {
  return {{"kind", CheckKindName(p.kind)},
          {"workspace", p.workspace},
          {"ref", p.ref},
          {"flow", p.flow},
          {"message", p.message}};
}

void PrintReport(Globals& g, const CheckReport& r) {
  Json problems = Json::array();
  for (const auto& p : r.problems) problems.push_back(ToJson(p));
  Json out = {{"ok", r.ok()},
              {"workspaces", r.workspaces},
              {"skipped_workspaces", r.skipped},
              {"version_tags", r.version_tags},
              {"publish_commits", r.publish_commits},
              {"repaired", r.repaired},
              {"problems", problems}};
  const std::string checked = std::to_string(r.workspaces.size()) + " workspace(s), " + std::to_string(r.version_tags) +
                              " version tag(s), " + std::to_string(r.publish_commits) + " publish commit(s)";
  Emit(g, out, [&](std::ostream& os) {
    for (const auto& tag : r.repaired) os << "repaired: created " << tag << "\n";
    for (const auto& p : r.problems) os << OneLine(p.ToString()) << "\n";
    for (const auto& ws : r.skipped) os << "skipped workspace '" << ws << "': no role in it\n";
    if (r.ok()) {
      os << "ok: " << checked << " checked, no problems\n";
    } else {
      os << r.problems.size() << " problem(s) (" << checked << " checked)\n";
    }
  });
  if (!r.ok()) {
    std::string line = r.problems[0].ToString();
    if (r.problems.size() > 1) line += " (and " + std::to_string(r.problems.size() - 1) + " more problem(s))";
    std::cerr << "flowrepo: error: " << OneLine(line) << "\n";
    g.exit_code = kExitCheckFailed;
  }
}

}  // namespace

void AddCheckCommand(CLI::App& app, Globals& g) {
  static bool repair = false;
  auto* cmd = app.add_subcommand("check",
                                 "Check the repository's own invariants in every workspace you have a role in: each\n"
                                 "version tag backed by the publish commit that names it (and contained in its\n"
                                 "workspace), versions v1..vN without gaps, every version a publish commit names\n"
                                 "tagged, workspace settings that parse, unique flow ids. One problem per line;\n"
                                 "exit status 1 when any. --repair first creates the missing tags (nothing else).\n"
                                 "Example: flowrepo check\n"
                                 "         flowrepo -C /srv/flows.git check --json");
  cmd->add_flag("--repair", repair, "create the version tags publish commits name but lack, then check");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    auto repo = OpenRepository(g);
    CheckOptions options;
    if (repair) options.repair = CheckOptions::Repair::kMissingTags;
    PrintReport(g, repo.Check(options));
  });
}

}  // namespace flowrepo::cli
