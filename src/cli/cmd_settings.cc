// flowrepo settings: the components and topics a workspace provides, its
// env defaults and the role needed to export, edited on a draft and
// published like flows.

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
    AddDraftOption(sub, o.draft, "draft to write on (default: settings)");
    AddJsonFlag(sub, g);
    sub->callback([&g, &o, add, c] {
      auto repo = OpenRepository(g);
      const std::string draft = o.draft.empty() ? "settings" : o.draft;
      WriteResult r = repo.EditSettings(g.workspace, draft, c.list, add ? o.names : std::vector<std::string>{},
                                        add ? std::vector<std::string>{} : o.names);
      PrintWrite(g, r, (add ? "Declared " : "Withdrew ") + std::to_string(o.names.size()) + " " + c.name + "(s)",
                 o.names);
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

void AddEnvCommands(CLI::App& settings, Globals& g) {
  auto* cmd =
      settings.add_subcommand("env",
                              "Set, remove and list the workspace's env variable defaults: the values flows get for\n"
                              "variables they do not set. A secret one holds only where it is kept (a reference).");
  cmd->require_subcommand(1);
  static std::vector<std::string> values, secrets, names;
  static std::string draft, at;
  auto* set = cmd->add_subcommand("set",
                                  "Set env defaults on a draft (added, or replacing one of the same name).\n"
                                  "Example: flowrepo settings env set REGION=eu-west-1 --secret "
                                  "DB_PASSWORD=vault:prod/db --draft settings");
  set->alias("add");
  set->add_option("NAME=VALUE", values, "plain defaults (a value may hold commas: repeat the word)");
  set->add_option("--secret", secrets, "NAME=REFERENCE: a secret default, by where it is kept (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  AddDraftOption(set, draft, "draft to write on (default: settings)");
  AddJsonFlag(set, g);
  set->callback([&g] {
    std::vector<EnvDefault> defaults;
    std::vector<std::string> shown;
    for (const auto& text : values) {
      auto [name, value] = SplitPair(text, "NAME=VALUE", "NAME=VALUE");
      defaults.push_back({name, value, false, ""});
      shown.push_back(name + "=" + value);
    }
    for (const auto& text : secrets) {
      auto [name, ref] = SplitPair(text, "--secret", "NAME=REFERENCE");
      defaults.push_back({name, "", true, ref});
      shown.push_back(name + " -> " + ref + " (secret)");
    }
    auto repo = OpenRepository(g);
    WriteResult r = repo.EditEnvDefaults(g.workspace, draft.empty() ? "settings" : draft, defaults, {});
    PrintWrite(g, r, "Set " + std::to_string(defaults.size()) + " env default(s)", shown);
  });
  auto* remove = cmd->add_subcommand("remove",
                                     "Remove env defaults on a draft.\n"
                                     "Example: flowrepo settings env remove REGION --draft settings");
  remove->add_option("NAME", names, "variables (several, or A,B)")->required()->delimiter(',');
  AddDraftOption(remove, draft, "draft to write on (default: settings)");
  AddJsonFlag(remove, g);
  remove->callback([&g] {
    auto repo = OpenRepository(g);
    WriteResult r = repo.EditEnvDefaults(g.workspace, draft.empty() ? "settings" : draft, {}, names);
    PrintWrite(g, r, "Removed " + std::to_string(names.size()) + " env default(s)", names);
  });
  auto* list = cmd->add_subcommand("list",
                                   "List the env defaults of the workspace head (or --at a revision).\n"
                                   "Example: flowrepo settings env list --json");
  list->add_option("--at", at, "a draft, ref or commit instead of the workspace head");
  AddJsonFlag(list, g);
  list->callback([&g] {
    auto repo = OpenRepository(g);
    const std::vector<EnvDefault> defaults = repo.ListEnvDefaults(g.workspace, at);
    Json out = Json::array();
    for (const auto& d : defaults) {
      out.push_back(d.secret ? Json{{"name", d.name}, {"secret", true}, {"ref", d.ref}}
                             : Json{{"name", d.name}, {"value", d.value}});
    }
    Emit(g, out, [&](std::ostream& os) {
      for (const auto& d : defaults) {
        os << OneLine(d.name) << (d.secret ? " -> " + OneLine(d.ref) + " (secret)" : "=" + OneLine(d.value)) << "\n";
      }
      if (defaults.empty()) os << "(none)\n";
    });
  });
}

void AddExportRoleCommand(CLI::App& settings, Globals& g) {
  static std::string role, draft, at;
  auto* cmd =
      settings.add_subcommand("export-role",
                              "Show, or set on a draft, the role needed to export flows of the workspace (and to\n"
                              "copy them into another): integrator by default; admin lets only admins take flows\n"
                              "out, viewer lets everyone. Publishing the change needs an admin.\n"
                              "Example: flowrepo settings export-role admin --draft settings\n"
                              "         flowrepo settings export-role");
  cmd->add_option("ROLE", role, "viewer, integrator or admin (omit to show it)")
      ->check(CLI::IsMember({"viewer", "integrator", "admin"}));
  AddDraftOption(cmd, draft, "draft to write on (default: settings)");
  cmd->add_option("--at", at, "with no ROLE: a draft, ref or commit instead of the workspace head");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    auto repo = OpenRepository(g);
    if (role.empty()) {
      const char* name = RoleName(repo.ExportRole(g.workspace, at));
      Emit(g, Json{{"export_role", name}}, [&](std::ostream& os) { os << name << "\n"; });
      return;
    }
    WriteResult r = repo.SetExportRole(g.workspace, draft.empty() ? "settings" : draft, *ParseRole(role));
    PrintWrite(g, r, "Export needs the " + role + " role", {});
  });
}

}  // namespace

void AddSettingsCommand(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("settings",
                                 "Workspace settings without editing .flowrepo/workspace.json: components,\n"
                                 "topics, env defaults and the role needed to export, changed on a draft and\n"
                                 "published like flows (publish lists them).\n"
                                 "Example: flowrepo settings component add 'n8n:*' --draft settings\n"
                                 "         flowrepo settings topic list");
  cmd->require_subcommand(1);
  AddListCommands(*cmd, g, {"component", SettingsList::kComponents, "http@1"});
  AddListCommands(*cmd, g, {"topic", SettingsList::kTopics, "support.tickets"});
  AddEnvCommands(*cmd, g);
  AddExportRoleCommand(*cmd, g);
}

}  // namespace flowrepo::cli
