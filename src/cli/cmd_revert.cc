#include "cli/cli.h"

namespace flowrepo::cli {

void AddRevertCommand(CLI::App& app, Globals& g) {
  static std::string flow, to, draft;
  auto* cmd = app.add_subcommand(
      "revert",
      "Put an earlier version of a flow on a draft; publishing it makes the next version.\n"
      "Example: flowrepo revert banking-assistant --to v1 && flowrepo publish revert-banking-assistant-v1");
  cmd->add_option("FLOW", flow, "flow id")->required();
  cmd->add_option("--to", to, "version to bring back, e.g. v1")->required();
  cmd->add_option("--draft", draft, "draft (default: revert-<flow>-v<N>)");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    FlowSpec spec = ParseFlowSpec(flow + "@" + to);
    if (!spec.version) {
      throw Error(ErrorCode::kInvalidArgument, "--to takes a version like v3, not '" + to + "'");
    }
    auto repo = OpenRepository(g);
    WriteResult r = repo.Revert(g.workspace, flow, *spec.version, draft);
    Emit(
        g, [&] { return ToJson(r); },
        [&](std::ostream& os) {
          os << "Draft '" << r.draft.name << "' holds " << flow << " " << to
             << "\nPublish with: " << Suggest(g, r.draft.workspace, "publish " + r.draft.name) << "\n";
        });
  });
}

}  // namespace flowrepo::cli
