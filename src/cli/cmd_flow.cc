#include "cli/cli.h"

namespace flowrepo::cli {
namespace {

void PrintWrite(const Globals& g, const WriteResult& r, const std::string& what) {
  Emit(
      g, [&] { return ToJson(r); },
      [&](std::ostream& os) {
        os << what << " on draft '" << r.draft.name << "'" << (r.created_draft ? " (new draft)" : "") << " at "
           << r.draft.commit.substr(0, 7) << "\n";
        constexpr std::size_t kShown = 20;
        for (std::size_t i = 0; i < r.flows.size() && i < kShown; ++i) os << "  " << r.flows[i] << "\n";
        if (r.flows.size() > kShown) os << "  ... and " << r.flows.size() - kShown << " more\n";
        os << "Publish with: flowrepo publish " << r.draft.name << "\n";
      });
}

}  // namespace

void AddFlowCommand(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("flow", "Create, write, list and show flows.");
  cmd->require_subcommand(1);
  AddFlowAddCommand(*cmd, g);

  static NewFlowRequest request;
  auto* create = cmd->add_subcommand(
      "new",
      "Create a native flow (start -> end) on a draft.\n"
      "Example: flowrepo flow new banking-assistant --name \"Banking Assistant\" --group Finance/Retail");
  create->add_option("ID", request.id, "flow id: a-z 0-9 . _ -")->required();
  create->add_option("--name", request.name, "display name (default: the id)");
  create->add_option("--group", request.group, "group path, e.g. Finance/Retail");
  create->add_option("--draft", request.draft, "draft to write on (default: the flow id)");
  AddJsonFlag(create, g);
  create->callback([&g] {
    auto repo = OpenRepository(g);
    PrintWrite(g, repo.NewFlow(g.workspace, request), "Created flow '" + request.id + "'");
  });

  static std::string put_draft, put_group;
  static std::vector<std::string> put_paths;
  auto* put = cmd->add_subcommand("put",
                                  "Write flow folders (app_definition.json, flow_definition.json, env_variables.json)\n"
                                  "onto a draft, without any checkout. A folder tree adds every flow in it, its\n"
                                  "sub-folders becoming groups.\n"
                                  "Example: flowrepo flow put my-draft ./banking-assistant\n"
                                  "         flowrepo flow put initial fixtures/flows");
  put->add_option("DRAFT", put_draft, "draft (created from the workspace head if missing)")->required();
  put->add_option("PATH", put_paths, "flow folder or folder tree")->required();
  put->add_option("--group", put_group, "group for the flows (default: keep an existing flow's group)");
  AddJsonFlag(put, g);
  put->callback([&g, put] {
    auto repo = OpenRepository(g);
    std::vector<Flow> flows;
    for (const auto& path : put_paths) {
      auto found = ReadFlowFolders(path, put_group);
      flows.insert(flows.end(), found.begin(), found.end());
    }
    bool keep = put->count("--group") == 0 && flows.size() == 1;
    auto r = repo.PutFlows(g.workspace, put_draft, std::move(flows), "put",
                           keep ? FlowRepository::GroupChoice::kKeepExisting : FlowRepository::GroupChoice::kAsGiven);
    PrintWrite(g, r, "Wrote " + std::to_string(r.flows.size()) + " flow(s)");
  });

  static FlowQuery query;
  auto* list = cmd->add_subcommand("list", "List flows of a workspace.\nExample: flowrepo flow list --group Finance");
  list->add_option("--group", query.group, "only this group and its sub-groups");
  list->add_option("--at", query.at, "a draft, ref or commit instead of the workspace head");
  AddJsonFlag(list, g);
  list->callback([&g] {
    auto repo = OpenRepository(g);
    query.workspace = g.workspace;
    auto flows = repo.ListFlows(query);
    auto as_json = [&flows] {
      Json out = Json::array();
      for (const auto& f : flows) out.push_back(ToJson(f));
      return out;
    };
    Emit(g, as_json, [&](std::ostream& os) {
      for (const auto& f : flows) {
        os << f.id << "\t" << f.name << "\t" << (f.group.empty() ? "-" : f.group) << "\t" << f.format << "\n";
      }
      if (flows.empty()) os << "(no flows)\n";
    });
  });

  static std::string spec_text, file;
  auto* show = cmd->add_subcommand("show",
                                   "Show a flow's documents at the workspace head, a version or a revision.\n"
                                   "Example: flowrepo flow show banking-assistant@v2 --file flow_definition.json");
  show->add_option("FLOW", spec_text, "FLOW, FLOW@vN or FLOW@REF")->required();
  show->add_option("--file", file, "only this document");
  AddJsonFlag(show, g);
  show->callback([&g] {
    auto repo = OpenRepository(g);
    Flow flow = repo.ReadFlow(g.workspace, ParseFlowSpec(spec_text));
    std::vector<std::pair<std::string, const std::string*>> docs = {{"app_definition.json", &flow.app_definition},
                                                                    {"flow_definition.json", &flow.flow_definition},
                                                                    {"env_variables.json", &flow.env_variables}};
    Json out = ToJson(flow.summary);
    out["files"] = Json::object();
    for (const auto& [name, text] : docs) {
      if (!file.empty() && name != file) continue;
      out["files"][name] = text->empty() ? Json() : Json::parse(*text);
    }
    Emit(g, out, [&](std::ostream& os) {
      for (const auto& [name, text] : docs) {
        if (!file.empty() && name != file) continue;
        if (file.empty()) os << "# " << flow.summary.path() << "/" << name << "\n";
        os << *text;
      }
    });
  });
}

}  // namespace flowrepo::cli
