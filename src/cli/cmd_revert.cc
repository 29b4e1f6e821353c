#include "cli/cli.h"

namespace flowrepo::cli {

void AddRevertCommand(CLI::App& app, Globals& g) {
  static std::string flow, to, draft;
  auto* cmd = app.add_subcommand(
      "revert",
      "Put an earlier version of a flow on a draft; publishing it makes the next version.\n"
      "Example: flowrepo revert banking-assistant@v1 && flowrepo publish -d revert-banking-assistant-v1\n"
      "         flowrepo revert banking-assistant --to v1");
  cmd->add_option("FLOW", flow, "FLOW@vN, or FLOW with --to")->required();
  cmd->add_option("--to", to, "version to bring back, e.g. v1");
  AddDraftOption(cmd, draft, "draft (default: revert-<flow>-v<N>)");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    FlowSpec spec = ParseFlowSpec(flow);
    if (!to.empty()) {
      if (spec.version || !spec.revision.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "give the version once: FLOW@vN or FLOW --to vN");
      }
      spec = ParseFlowSpec(flow + "@" + to);
    }
    if (!spec.version) {
      const std::string given = to.empty() ? spec.revision : to;
      throw Error(ErrorCode::kInvalidArgument, given.empty() ? std::string("revert needs a version: FLOW@vN")
                                                             : "revert takes a version like v3, not '" + given + "'");
    }
    auto repo = OpenRepository(g);
    WriteResult r = repo.Revert(g.workspace, spec.id, *spec.version, draft);
    Emit(
        g, [&] { return ToJson(r); },
        [&](std::ostream& os) {
          os << "Draft '" << r.draft.name << "' holds " << spec.id << " v" << *spec.version << "\n";
          PrintPublishHint(os, g, r.draft.workspace, r.draft.name);
        });
  });
}

}  // namespace flowrepo::cli
