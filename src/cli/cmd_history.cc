#include "cli/cli.h"

namespace flowrepo::cli {

void AddHistoryCommand(CLI::App& app, Globals& g) {
  static std::string flow;
  auto* cmd = app.add_subcommand("history",
                                 "Published versions of a flow (newest first), the publish that removed it if it is\n"
                                 "retired, and the open drafts that change it. A renamed flow lists the versions of\n"
                                 "its old id too, marked '(as OLD-ID)'.\n"
                                 "Example: flowrepo history banking-assistant");
  cmd->add_option("FLOW", flow, "flow id")->required();
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    auto repo = OpenRepository(g);
    History h = repo.FlowHistory(g.workspace, flow);
    Emit(g, ToJson(h), [&](std::ostream& os) {
      for (const auto& r : h.removed) {
        os << (r.renamed_to.empty() ? "removed" : "renamed to " + r.renamed_to) << "\t" << FormatTime(r.time) << "\t"
           << r.author << "\t" << r.commit.substr(0, 7) << "\t" << r.note << "\n";
      }
      for (const auto& v : h.versions) {
        os << "v" << v.number << (v.flow == h.flow ? "" : " (as " + v.flow + ")") << "\t" << FormatTime(v.time) << "\t"
           << v.author << "\t" << v.commit.substr(0, 7) << "\t" << v.note << "\n";
      }
      if (h.versions.empty()) os << "(never published)\n";
      for (const auto& d : h.drafts) os << "open draft: " << d << "\n";
      for (const auto& t : h.ignored_tags) {
        os << "ignored tag: " << t << " (no publish commit backs it; see 'flowrepo check')\n";
      }
    });
  });
}

}  // namespace flowrepo::cli
