// flowrepo settings: the components and topics a workspace provides, edited
// on a draft and published like flows.

#include "cli/cli.h"
#include "cli/one_line.h"

namespace flowrepo::cli {
namespace {

struct ListCommand {
  const char* name;  ///< "component"
  SettingsList list;
  const char* example;  ///< a name to show in help
};

void AddListCommands(CLI::App& settings, Globals& g, const ListCommand& c) {
  auto* cmd = settings.add_subcommand(
      c.name, std::string("Add, remove and list the ") + c.name + "s of the workspace (.flowrepo/workspace.json).");
  cmd->require_subcommand(1);
  const std::string plural = std::string(c.name) + "s";

  // One set of options per command object: CLI11 keeps pointers to them.
  struct Options {
    std::vector<std::string> names;
    std::string draft;
    std::string at;
  };
  static std::vector<std::unique_ptr<Options>> all;
  for (const char* verb : {"add", "remove"}) {
    auto& o = *all.emplace_back(std::make_unique<Options>());
    const bool add = std::string(verb) == "add";
    auto* sub = cmd->add_subcommand(
        verb, std::string(add ? "Declare " : "Withdraw ") + plural + " on a draft; publishing it " +
                  (add ? "lets flows use them." : "checks that no flow that stays uses them.") +
                  "\nExample: flowrepo settings " + c.name + " " + verb + " " + c.example + " --draft settings");
    sub->add_option(std::string(c.name) == "component" ? "COMPONENT" : "TOPIC", o.names,
                    std::string(c.name) + "s (several, or A,B)")
        ->required()
        ->delimiter(',');
    sub->add_option("--draft", o.draft, "draft to write on (default: settings)");
    AddJsonFlag(sub, g);
    sub->callback([&g, &o, add, c] {
      auto repo = OpenRepository(g);
      const std::string draft = o.draft.empty() ? "settings" : o.draft;
      WriteResult r = repo.EditSettings(g.workspace, draft, c.list, add ? o.names : std::vector<std::string>{},
                                        add ? std::vector<std::string>{} : o.names);
      Emit(
          g, [&] { return ToJson(r); },
          [&](std::ostream& os) {
            os << (add ? "Declared " : "Withdrew ") << o.names.size() << " " << c.name << "(s) on draft '"
               << r.draft.name << "'" << (r.created_draft ? " (new draft)" : "") << " at "
               << r.draft.commit.substr(0, 7) << "\n";
            for (const auto& n : o.names) os << "  " << OneLine(n) << "\n";
            os << "Publish with: " << Suggest(g, r.draft.workspace, "publish " + r.draft.name) << "\n";
          });
    });
  }
  auto& o = *all.emplace_back(std::make_unique<Options>());
  auto* list = cmd->add_subcommand("list", "List the " + plural + " of the workspace head (or --at a revision).\n" +
                                               "Example: flowrepo settings " + c.name + " list --json");
  list->add_option("--at", o.at, "a draft, ref or commit instead of the workspace head");
  AddJsonFlag(list, g);
  list->callback([&g, &o, c] {
    auto repo = OpenRepository(g);
    const std::vector<std::string> names = repo.ListSettings(g.workspace, c.list, o.at);
    Emit(g, Json(names), [&](std::ostream& os) {
      for (const auto& n : names) os << OneLine(n) << "\n";
      if (names.empty()) os << "(none)\n";
    });
  });
}

}  // namespace

void AddSettingsCommand(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("settings",
                                 "Workspace settings without editing .flowrepo/workspace.json: components and\n"
                                 "topics, changed on a draft and published like flows (publish lists them).\n"
                                 "Example: flowrepo settings component add 'n8n:*' --draft settings\n"
                                 "         flowrepo settings topic list");
  cmd->require_subcommand(1);
  AddListCommands(*cmd, g, {"component", SettingsList::kComponents, "http@1"});
  AddListCommands(*cmd, g, {"topic", SettingsList::kTopics, "support.tickets"});
}

}  // namespace flowrepo::cli
