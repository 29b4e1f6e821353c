#include "cli/cli.h"

namespace flowrepo::cli {
namespace {

const char* KindName(Change::Kind k) {
  switch (k) {
    case Change::Kind::kAdded: return "added";
    case Change::Kind::kRemoved: return "removed";
    case Change::Kind::kChanged: return "changed";
  }
  return "changed";
}

}  // namespace

void AddDiffCommand(CLI::App& app, Globals& g) {
  static std::string flow, from, to;
  auto* cmd = app.add_subcommand("diff",
                                 "What changed in a flow between two revisions, node by node.\n"
                                 "A revision is vN, a workspace, a draft, a ref or a commit id.\n"
                                 "Example: flowrepo diff banking-assistant v1 v2");
  cmd->add_option("FLOW", flow, "flow id")->required();
  cmd->add_option("FROM", from, "older revision")->required();
  cmd->add_option("TO", to, "newer revision (default: the workspace head)");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    auto repo = OpenRepository(g);
    FlowDiff d = repo.Diff(g.workspace, flow, from, to.empty() ? g.workspace : to);
    Json changes = Json::array();
    for (const auto& c : d.changes) {
      Json j = {{"kind", KindName(c.kind)}, {"file", c.file}, {"pointer", c.pointer}};
      if (!c.node.empty()) j["node"] = c.node;
      if (!c.before.empty()) j["before"] = Json::parse(c.before, nullptr, false);
      if (!c.after.empty()) j["after"] = Json::parse(c.after, nullptr, false);
      changes.push_back(j);
    }
    Emit(g, {{"flow", d.flow}, {"from", d.from}, {"to", d.to}, {"changes", changes}}, [&](std::ostream& os) {
      os << "flow " << d.flow << ": " << d.from << " -> " << d.to << ", " << d.changes.size() << " change(s)\n";
      for (const auto& c : d.changes) {
        os << "  " << KindName(c.kind) << "\t";
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
