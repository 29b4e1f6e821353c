#include <algorithm>

#include "cli/cli.h"
#include "cli/one_line.h"
#include "flowrepo/package.h"

namespace flowrepo::cli {
namespace {

// " (removed)", " (renamed to NEW)" or nothing, after a changed flow.
std::string RemovedMark(const DraftInfo& d, const std::string& flow) {
  for (const auto& [from, to] : d.renamed) {
    if (from == flow) return " (renamed to " + to + ")";
  }
  const bool removed = std::find(d.removed_flows.begin(), d.removed_flows.end(), flow) != d.removed_flows.end();
  return removed ? " (removed)" : "";
}

bool ChangesRoles(const DraftInfo& d) {
  return std::any_of(d.settings_changes.begin(), d.settings_changes.end(),
                     [](const SettingsChange& c) { return c.needs_admin; });
}

// One line: name, head, changed flows, and how many settings changes.
void PrintDraft(std::ostream& os, const DraftInfo& d) {
  os << d.name << "\t" << d.commit.substr(0, 7) << "\t";
  if (d.changed_flows.empty() && d.settings_changes.empty()) os << "(no changes)";
  for (std::size_t i = 0; i < d.changed_flows.size(); ++i) {
    os << (i ? ", " : "") << d.changed_flows[i] << RemovedMark(d, d.changed_flows[i]);
  }
  if (!d.settings_changes.empty()) {
    os << (d.changed_flows.empty() ? "" : "; ") << d.settings_changes.size() << " settings change(s)";
    if (ChangesRoles(d)) os << ", role changes (needs admin)";
  }
  os << "\n";
}

void PrintDraftDetails(std::ostream& os, const DraftInfo& d) {
  os << "draft " << d.name << " (" << d.ref << ")\nhead " << d.commit << "\nbase " << d.base << "\nchanged flows:\n";
  for (const auto& f : d.changed_flows) os << "  " << f << RemovedMark(d, f) << "\n";
  if (d.settings_changes.empty()) return;
  os << "settings changes:\n";
  PrintSettingsChanges(os, d.settings_changes);
  if (ChangesRoles(d)) os << "publishing this draft needs the admin role: it changes roles\n";
}

// What --unbound lists: per flow its unbound nodes and secrets, then one
// bind-by-type command per credential type.
void PrintUnbound(const Globals& g, const std::string& draft, const std::vector<UnboundFlow>& flows) {
  std::map<std::string, int> by_type;
  for (const auto& f : flows) {
    for (const auto& n : f.credentials) ++by_type[n.type];
  }
  Emit(g, forms::UnboundJson(draft, flows), [&](std::ostream& os) {
    if (flows.empty()) os << "Nothing unbound on draft '" << draft << "'\n";
    for (const auto& f : flows) {
      os << f.flow << "\n";
      for (const auto& n : f.credentials)
        os << "  node '" << OneLine(n.node) << "' needs a '" << OneLine(n.type) << "' credential\n";
      for (const auto& s : f.secrets) os << "  secret '" << OneLine(s) << "' needs a reference\n";
    }
    for (const auto& [type, count] : by_type) {
      os << "Bind " << count << " node(s) needing '" << OneLine(type) << "' with: "
         << Suggest(g, g.workspace,
                    "bind --draft " + ShellWord(draft) + " --type " + ShellWord(OneLine(type) + "=CREDENTIAL"))
         << "\n";
    }
  });
}

}  // namespace

void AddDraftCommand(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("draft", "Start, list, show, update and drop drafts.");
  cmd->require_subcommand(1);
  static std::string name;

  auto* start =
      cmd->add_subcommand("start", "Start a draft from the workspace head.\nExample: flowrepo draft start q3-changes");
  start->add_option("NAME", name, "draft name")->required();
  AddJsonFlag(start, g);
  start->callback([&g] {
    auto repo = OpenRepository(g);
    DraftInfo d = repo.StartDraft(g.workspace, name);
    Emit(g, ToJson(d), [&](std::ostream& os) { os << "Started draft '" << d.name << "' (" << d.ref << ")\n"; });
  });

  auto* list = cmd->add_subcommand("list", "List open drafts.\nExample: flowrepo draft list");
  AddJsonFlag(list, g);
  list->callback([&g] {
    auto repo = OpenRepository(g);
    auto drafts = repo.ListDrafts(g.workspace);
    Json out = Json::array();
    for (const auto& d : drafts) out.push_back(ToJson(d));
    Emit(g, out, [&](std::ostream& os) {
      for (const auto& d : drafts) PrintDraft(os, d);
      if (drafts.empty()) os << "(no drafts)\n";
    });
  });

  static bool unbound = false;
  auto* show = cmd->add_subcommand("show",
                                   "Show what a draft changes; with --unbound, what its flows still need bound\n"
                                   "before publish (credentials by node and type, secret references).\n"
                                   "Example: flowrepo draft show q3-changes\n"
                                   "         flowrepo draft show n8n-import --unbound --json");
  show->add_option("NAME", name, "draft name")->required();
  show->add_flag("--unbound", unbound, "list unbound credentials and secret references of the changed flows");
  AddJsonFlag(show, g);
  show->callback([&g] {
    auto repo = OpenRepository(g);
    if (unbound) {
      PrintUnbound(g, name, ListUnbound(repo, g.workspace, name));
      return;
    }
    DraftInfo d = repo.ShowDraft(g.workspace, name);
    Emit(
        g, [&] { return ToJson(d); }, [&](std::ostream& os) { PrintDraftDetails(os, d); });
  });

  static DraftUpdateRequest settle;
  auto* update =
      cmd->add_subcommand("update",
                          "Bring a draft onto the current workspace head, flow by flow, so that it publishes\n"
                          "without conflicts (after a teammate published first). A flow changed both in the\n"
                          "draft and on the workspace is listed and must be settled: --keep-draft FLOW keeps\n"
                          "the draft's version, --take-workspace FLOW takes the published one.\n"
                          "Example: flowrepo draft update q3-changes --keep-draft hello");
  update->add_option("NAME", name, "draft name")->required();
  update->add_option("--keep-draft", settle.keep_draft, "flow ids whose draft version wins")->delimiter(',');
  update->add_option("--take-workspace", settle.take_workspace, "flow ids whose workspace version wins")
      ->delimiter(',');
  AddJsonFlag(update, g);
  update->callback([&g] {
    auto repo = OpenRepository(g);
    repo.OnServerLines(ServerLinePrinter());
    DraftUpdateResult r = repo.UpdateDraft(g.workspace, name, settle);
    Emit(g,
         {{"draft", r.draft},
          {"before", r.before},
          {"after", r.after},
          {"updated", r.before != r.after},
          {"kept_draft", r.kept_draft},
          {"took_workspace", r.took_workspace}},
         [&](std::ostream& os) {
           if (r.before == r.after) {
             os << "Draft '" << r.draft << "' is already on the workspace head\n";
             return;
           }
           os << "Draft '" << r.draft << "' now includes workspace '" << g.workspace << "' (" << r.after.substr(0, 7)
              << ")\n";
           for (const auto& f : r.kept_draft) os << "  " << f << ": the draft's version kept\n";
           for (const auto& f : r.took_workspace) os << "  " << f << ": the workspace's version taken\n";
         });
  });

  auto* drop = cmd->add_subcommand("drop",
                                   "Remove a draft branch. Its commits stay reachable under refs/flowrepo/dropped/.\n"
                                   "Example: flowrepo draft drop q3-changes");
  drop->add_option("NAME", name, "draft name")->required();
  AddJsonFlag(drop, g);
  drop->callback([&g] {
    auto repo = OpenRepository(g);
    std::string archive = repo.DropDraft(g.workspace, name);
    Emit(g, {{"dropped", name}, {"kept_as", archive}},
         [&](std::ostream& os) { os << "Dropped draft '" << name << "'; its head is kept as " << archive << "\n"; });
  });
}

}  // namespace flowrepo::cli
