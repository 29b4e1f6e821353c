#include "cli/cli.h"

namespace flowrepo::cli {
namespace {

// The draft given, or "<action>-<flow>" when one flow is named.
std::string DraftOrDefault(const std::string& given, const std::string& action, const std::vector<std::string>& flows) {
  if (!given.empty()) return given;
  if (flows.size() != 1) throw Error(ErrorCode::kInvalidArgument, "several flows need --draft");
  return action + "-" + flows[0];
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
  AddDraftOption(create, request.draft, "draft to write on (default: the flow id)");
  AddJsonFlag(create, g);
  create->callback([&g] {
    auto repo = OpenRepository(g);
    const WriteResult r = repo.NewFlow(g.workspace, request);
    PrintWrite(g, r, "Created flow '" + request.id + "'", r.flows);
  });

  static std::string put_draft, put_group;
  static std::vector<std::string> put_paths;
  auto* put = cmd->add_subcommand("put",
                                  "Write flow folders (app_definition.json, flow_definition.json, env_variables.json)\n"
                                  "onto a draft, without any checkout. A folder tree adds every flow in it, its\n"
                                  "sub-folders becoming groups.\n"
                                  "Example: flowrepo flow put ./banking-assistant --draft my-draft\n"
                                  "         flowrepo flow put fixtures/flows -d initial");
  AddDraftOption(put, put_draft, "draft (created from the workspace head if missing)");
  // Before --draft, the draft came first ("flow put DRAFT PATH"): one release more.
  put->add_option("PATH", put_paths, "flow folder or folder tree")->required();
  put->add_option("--group", put_group, "group for the flows (default: keep an existing flow's group)");
  AddJsonFlag(put, g);
  put->callback([&g, put] {
    std::string old_draft;
    if (put_draft.empty() && put_paths.size() > 1) {
      old_draft = put_paths.front();
      put_paths.erase(put_paths.begin());
    }
    put_draft = DraftGiven("flow put", put_draft, old_draft);
    auto repo = OpenRepository(g);
    std::vector<Flow> flows;
    for (const auto& path : put_paths) {
      auto found = ReadFlowFolders(path, put_group);
      flows.insert(flows.end(), found.begin(), found.end());
    }
    bool keep = put->count("--group") == 0 && flows.size() == 1;
    auto r = repo.PutFlows(g.workspace, put_draft, std::move(flows), "put",
                           keep ? FlowRepository::GroupChoice::kKeepExisting : FlowRepository::GroupChoice::kAsGiven);
    PrintWrite(g, r, "Wrote " + std::to_string(r.flows.size()) + " flow(s)", r.flows);
  });

  static std::vector<std::string> rm_flows;
  static std::string rm_draft;
  auto* rm =
      cmd->add_subcommand("rm",
                          "Remove flows on a draft; publishing it retires them. Their versions stay in\n"
                          "history, which shows the publish that removed them. Publish refuses while a\n"
                          "flow that stays still uses a removed one.\n"
                          "Example: flowrepo flow rm old-faq --draft cleanup && flowrepo publish --draft cleanup");
  rm->add_option("FLOW", rm_flows, "flows to remove (several, or A,B)")->required()->delimiter(',');
  AddDraftOption(rm, rm_draft, "draft to write on (default: remove-<flow> for one flow)");
  AddJsonFlag(rm, g);
  rm->callback([&g] {
    auto repo = OpenRepository(g);
    const std::string draft = DraftOrDefault(rm_draft, "remove", rm_flows);
    auto r = repo.RemoveFlows(g.workspace, draft, rm_flows);
    PrintWrite(g, r, "Removed " + std::to_string(r.flows.size()) + " flow(s)", r.flows);
  });

  static std::vector<std::string> mv_flows;
  static std::string mv_draft, mv_group, mv_id;
  auto* mv =
      cmd->add_subcommand("mv",
                          "Move flows to another group, or rename one, on a draft. A moved flow keeps its id,\n"
                          "versions and history; publishing makes its next version. A renamed flow (--id) takes\n"
                          "the new id, flows using it follow, and its versions go on under the new id: publish\n"
                          "makes v<N+1> of it, and 'history NEW' lists the old id's versions too.\n"
                          "Example: flowrepo flow mv faq-answerer --group Support/Public --draft reorg\n"
                          "         flowrepo flow mv kyc-check --id kyc-verification");
  mv->add_option("FLOW", mv_flows, "flows to move (several, or A,B)")->required()->delimiter(',');
  auto* group = mv->add_option("--group", mv_group, "the group to move them to (empty: top level)");
  mv->add_option("--id", mv_id, "the new id of the one flow")->excludes(group);
  AddDraftOption(mv, mv_draft, "draft to write on (default: move-<flow>, rename-<flow> for one flow)");
  AddJsonFlag(mv, g);
  mv->callback([&g, mv] {
    if (mv->count("--group") == 0 && mv_id.empty())
      throw Error(ErrorCode::kInvalidArgument, "flow mv needs --group or --id");
    if (!mv_id.empty() && mv_flows.size() != 1) throw Error(ErrorCode::kInvalidArgument, "--id renames one flow");
    auto repo = OpenRepository(g);
    if (!mv_id.empty()) {
      auto r = repo.RenameFlow(g.workspace, DraftOrDefault(mv_draft, "rename", mv_flows), mv_flows[0], mv_id);
      PrintWrite(g, r, "Renamed '" + mv_flows[0] + "' to '" + mv_id + "' (with the flows using it)", r.flows);
      return;
    }
    const std::string draft = DraftOrDefault(mv_draft, "move", mv_flows);
    auto r = repo.MoveFlows(g.workspace, draft, mv_flows, mv_group);
    PrintWrite(g, r, "Moved " + std::to_string(r.flows.size()) + " flow(s) to '" + mv_group + "'", r.flows);
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
    Emit(g, forms::FlowJson(flow, file), [&](std::ostream& os) {
      for (const auto& [name, text] : docs) {
        if (!file.empty() && name != file) continue;
        if (file.empty()) os << "# " << flow.summary.path() << "/" << name << "\n";
        os << *text;
      }
    });
  });
}

}  // namespace flowrepo::cli
