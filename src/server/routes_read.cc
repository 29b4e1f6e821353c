// Reading: workspaces, the flow tree of a workspace, one flow, its history
// and the node-level diff between two revisions. Viewer role.

#include <algorithm>

#include "flowrepo/error.h"
#include "server/routes.h"

namespace flowrepo::server {
namespace {

// The FlowSpec "?at=" names: vN, latest (or nothing) for the head,
// draft:NAME, or any revision the library resolves (a ref, a commit).
FlowSpec SpecAt(const std::string& flow, const std::string& at) {
  FlowSpec spec{flow, std::nullopt, ""};
  if (at.empty() || at == "latest") return spec;
  if (at.rfind("draft:", 0) == 0) {
    spec.revision = at.substr(6);
    return spec;
  }
  return ParseFlowSpec(flow + "@" + at);
}

// A group's node of the tree, found or made under \a root.
Json& GroupNode(Json& root, const std::string& group) {
  Json* node = &root;
  std::string path;
  for (std::size_t start = 0; !group.empty() && start <= group.size();) {
    const std::size_t end = std::min(group.find('/', start), group.size());
    const std::string name = group.substr(start, end - start);
    path += (path.empty() ? "" : "/") + name;
    Json& groups = (*node)["groups"];
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Json& g) { return g["name"] == name; });
    if (it == groups.end()) {
      groups.push_back({{"name", name}, {"path", path}, {"groups", Json::array()}, {"flows", Json::array()}});
      it = groups.end() - 1;
    }
    node = &*it;
    start = end + 1;
  }
  return *node;
}

void Workspaces(Call& call) {
  Json out = Json::array();
  for (const auto& ws : call.repo().ListWorkspaces()) out.push_back(forms::ToJson(ws));
  call.Reply(out);
}

void Tree(Call& call) {
  FlowQuery query;
  query.workspace = call.Path("ws");
  query.group = call.Query("group");
  query.at = call.Query("at");
  Json root = {{"workspace", query.workspace}, {"groups", Json::array()}, {"flows", Json::array()}};
  // Every flow's versions in one call: a history per flow cost flows x tags.
  const std::map<std::string, std::vector<int>> all_versions = call.repo().ListVersions(query.workspace);
  for (const auto& summary : call.repo().ListFlows(query)) {
    Json flow = forms::ToJson(summary);
    const auto versions = all_versions.find(summary.id);
    const bool published = versions != all_versions.end() && !versions->second.empty();
    flow["latest"] = published ? Json(versions->second.back()) : Json();
    flow["versions"] = published ? Json(versions->second) : Json::array();
    GroupNode(root, summary.group)["flows"].push_back(std::move(flow));
  }
  call.Reply(root);
}

void ShowFlow(Call& call) {
  const Flow flow = call.repo().ReadFlow(call.Path("ws"), SpecAt(call.Path("flow"), call.Query("at")));
  call.Reply(forms::FlowJson(flow, call.Query("file")));
}

void History(Call& call) { call.Reply(forms::ToJson(call.repo().FlowHistory(call.Path("ws"), call.Path("flow")))); }

void Diff(Call& call) {
  const std::string& ws = call.Path("ws");
  std::string from = call.Query("from"), to = call.Query("to");
  if (from.empty()) throw Error(ErrorCode::kInvalidArgument, "diff needs ?from=REV (vN, latest, a draft, a ref)");
  for (std::string* rev : {&from, &to}) {
    if (rev->empty() || *rev == "latest") *rev = ws;
  }
  call.Reply(forms::ToJson(call.repo().Diff(ws, call.Path("flow"), from, to)));
}

}  // namespace

void AddReadRoutes(std::vector<Route>& routes) {
  routes.push_back(
      {"GET", "/api/v1/workspaces", "List workspaces", "viewer", {}, Route::Body::kNone, {}, false, Workspaces});
  routes.push_back({"GET",
                    "/api/v1/workspaces/{ws}/tree",
                    "Groups nested with their flows, each with its versions",
                    "viewer",
                    {{"group", "only this group and its sub-groups"},
                     {"at", "a draft, ref or commit instead of the workspace head"}},
                    Route::Body::kNone,
                    {},
                    false,
                    Tree});
  routes.push_back({"GET",
                    "/api/v1/workspaces/{ws}/flows/{flow}",
                    "A flow's documents (flow show)",
                    "viewer",
                    {{"at", "vN, latest, draft:NAME, or a ref or commit (default: the workspace head)"},
                     {"file", "only this document (flow_definition.json, ...)"}},
                    Route::Body::kNone,
                    {},
                    false,
                    ShowFlow});
  routes.push_back({"GET",
                    "/api/v1/workspaces/{ws}/flows/{flow}/history",
                    "A flow's published versions (history)",
                    "viewer",
                    {},
                    Route::Body::kNone,
                    {},
                    false,
                    History});
  routes.push_back({"GET",
                    "/api/v1/workspaces/{ws}/flows/{flow}/diff",
                    "Node-by-node changes between two revisions (diff)",
                    "viewer",
                    {{"from", "the older revision: vN, latest, a draft, a ref or a commit", true},
                     {"to", "the newer revision (default: the workspace head)"}},
                    Route::Body::kNone,
                    {},
                    false,
                    Diff});
}

}  // namespace flowrepo::server
