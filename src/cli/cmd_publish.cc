#include <algorithm>

#include "cli/cli.h"

namespace flowrepo::cli {
void AddPublishCommand(CLI::App& app, Globals& g) {
  static std::string draft, old_draft, note;
  static bool offline = false;
  auto* cmd = app.add_subcommand("publish",
                                 "Validate a draft and merge it onto the workspace, tagging v<N+1> for each changed\n"
                                 "flow. Refuses a draft that would leave the workspace invalid (all problems listed:\n"
                                 "changed flows, settings, flows using a removed flow, component or topic) and\n"
                                 "flows changed on both sides. Lists settings and role changes.\n"
                                 "Example: flowrepo publish --draft banking-assistant -m \"add KYC step\"");
  AddDraftOption(cmd, draft, "draft to publish");
  cmd->add_option("DRAFT", old_draft)->group("");  // the old spelling, for one release
  cmd->add_option("-m,--message", note, "release note (the tag message)");
  cmd->add_flag("--offline", offline,
                "publish in this clone only, even though the workspace has an upstream; the next\n"
                "pull turns it back into a draft, since the server decides version numbers");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    draft = DraftGiven("publish", draft, old_draft);
    auto repo = OpenRepository(g);
    repo.PublishOffline(offline);
    repo.OnServerLines(ServerLinePrinter());
    PublishResult r = repo.Publish(g.workspace, draft, note);
    auto as_json = [&r] { return ToJson(r); };
    Emit(g, as_json, [&](std::ostream& os) {
      if (r.completed_earlier_publish) {
        os << "Draft '" << r.draft << "' was already published to '" << r.workspace << "' at " << r.commit.substr(0, 7)
           << " (what an interrupted run left undone is done now)\n";
      } else if (r.published_with_draft.empty()) {
        os << "Published draft '" << r.draft << "' to '" << r.workspace << "'"
           << (r.remote.empty() ? "" : " on " + r.remote) << " at " << r.commit.substr(0, 7)
           << (r.attempts > 1 ? " (after " + std::to_string(r.attempts - 1) + " retry(s): the server moved)" : "")
           << "\n";
      } else {
        os << "Draft '" << r.draft << "' was already published: its head is the head of draft '"
           << r.published_with_draft << "', published to '" << r.workspace << "' at " << r.commit.substr(0, 7) << "\n";
      }
      for (const auto& v : r.versions) os << "  " << v.flow << " v" << v.number << "\n";
      for (const auto& id : r.removed) {
        auto renamed = std::find_if(r.renamed.begin(), r.renamed.end(), [&](const auto& p) { return p.first == id; });
        os << "  " << id << (renamed == r.renamed.end() ? " removed" : " renamed to " + renamed->second) << "\n";
      }
      PrintSettingsChanges(os, r.settings_changes);
      for (const auto& w : r.warnings) std::cerr << "flowrepo: warning: " << w << "\n";
      for (const auto& path : r.draft_kept_in) {
        os << "Draft '" << r.draft << "' stays checked out in " << path << ", now at the published commit\n";
      }
    });
  });
}

}  // namespace flowrepo::cli
