#include "cli/cli.h"

namespace flowrepo::cli {
using forms::ChangeKindName;

void AddDiffCommand(CLI::App& app, Globals& g) {
  static std::string flow, from, to;
  auto* cmd = app.add_subcommand("diff",
                                 "What changed in a flow between two revisions, node by node.\n"
                                 "A revision is vN, latest, a workspace, a draft, a ref or a commit id (abbreviated\n"
                                 "as git prints it), given as FLOW@REV or after the flow.\n"
                                 "Example: flowrepo diff banking-assistant@v1 banking-assistant@v2\n"
                                 "         flowrepo diff banking-assistant v1 v2\n"
                                 "         flowrepo diff banking-assistant@v2     # to the workspace head");
  cmd->add_option("FLOW", flow, "FLOW or FLOW@REV (the older revision)")->required();
  cmd->add_option("FROM", from, "older revision, or the newer one after FLOW@REV");
  cmd->add_option("TO", to, "newer revision (default: the workspace head)");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    const FlowSpec spec = ParseFlowSpec(flow);
    std::vector<std::string> revisions;
    if (std::string first = RevisionOf(spec); !first.empty()) revisions.push_back(first);
    for (const std::string* given : {&from, &to}) {
      if (!given->empty()) revisions.push_back(RevisionArgument(spec.id, *given));
    }
    if (revisions.empty()) {
      throw Error(ErrorCode::kInvalidArgument, "diff needs a revision: FLOW@REV [REV] or FLOW REV [REV]");
    }
    if (revisions.size() > 2) throw Error(ErrorCode::kInvalidArgument, "diff takes two revisions, not three");
    for (auto& r : revisions) {
      if (r == "latest") r = g.workspace;
    }
    auto repo = OpenRepository(g);
    FlowDiff d = repo.Diff(g.workspace, spec.id, revisions[0], revisions.size() > 1 ? revisions[1] : g.workspace);
    Emit(g, ToJson(d), [&](std::ostream& os) {
      os << "flow " << d.flow << ": " << d.from << " -> " << d.to << ", " << d.changes.size() << " change(s)\n";
      for (const auto& c : d.changes) {
        os << "  " << ChangeKindName(c.kind) << "\t";
        if (!c.node.empty()) os << "node " << c.node << "\t";
        os << c.file << ":" << c.pointer;
        if (!c.before.empty()) os << "\n      - " << c.before;
        if (!c.after.empty()) os << "\n      + " << c.after;
        os << "\n";
      }
    });
  });
}

}  // namespace flowrepo::cli
