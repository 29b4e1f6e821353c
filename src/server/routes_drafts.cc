// Drafts: start, list, show (and what they leave unbound), drop; bind,
// publish; revert a flow onto a draft. Integrator role (show: viewer).

#include "flowrepo/error.h"
#include "flowrepo/package.h"
#include "server/routes.h"

namespace flowrepo::server {
namespace {

void ListDrafts(Call& call) {
  Json out = Json::array();
  for (const auto& d : call.repo().ListDrafts(call.Path("ws"))) out.push_back(forms::ToJson(d));
  call.Reply(out);
}

void StartDraft(Call& call) {
  const std::string name = StringField(call.body(), "name");
  if (name.empty()) throw Error(ErrorCode::kInvalidArgument, "field 'name' is needed: the draft's name");
  call.Reply(forms::ToJson(call.repo().StartDraft(call.Path("ws"), name)), 201);
}

void ShowDraft(Call& call) {
  if (call.QueryFlag("unbound")) {
    call.Reply(forms::UnboundJson(call.Path("draft"), ListUnbound(call.repo(), call.Path("ws"), call.Path("draft"))));
    return;
  }
  call.Reply(forms::ToJson(call.repo().ShowDraft(call.Path("ws"), call.Path("draft"))));
}

void DropDraft(Call& call) {
  const std::string kept = call.repo().DropDraft(call.Path("ws"), call.Path("draft"));
  call.Reply({{"dropped", call.Path("draft")}, {"kept_as", kept}});
}

void Bind(Call& call) {
  BindRequest request;
  request.workspace = call.Path("ws");
  request.draft = call.Path("draft");
  request.flow = StringField(call.body(), "flow");
  request.credentials = MapField(call.body(), "credentials");
  request.secrets = MapField(call.body(), "secrets");
  request.types = MapField(call.body(), "types");
  call.Reply(forms::ToJson(BindCredentials(call.repo(), request)));
}

void Publish(Call& call) {
  const PublishResult r = call.repo().Publish(call.Path("ws"), call.Path("draft"), StringField(call.body(), "note"));
  call.Reply(forms::ToJson(r));
}

void Revert(Call& call) {
  const int version = VersionField(call.body(), "version");
  if (version == 0) throw Error(ErrorCode::kInvalidArgument, "revert takes a version like v3, not 'latest'");
  const WriteResult r =
      call.repo().Revert(call.Path("ws"), call.Path("flow"), version, StringField(call.body(), "draft"));
  call.Reply(forms::ToJson(r), 201);
}

}  // namespace

void AddDraftRoutes(std::vector<Route>& routes) {
  const std::string drafts = "/api/v1/workspaces/{ws}/drafts";
  routes.push_back(
      {"GET", drafts, "Open drafts (draft list)", "viewer", {}, Route::Body::kNone, {}, false, ListDrafts});
  routes.push_back({"POST",
                    drafts,
                    "Start a draft from the workspace head (draft start)",
                    "integrator",
                    {},
                    Route::Body::kJson,
                    {"name: string - the draft's name"},
                    false,
                    StartDraft});
  routes.push_back({"GET",
                    drafts + "/{draft}",
                    "What a draft changes (draft show)",
                    "viewer",
                    {{"unbound", "1: what its flows still need bound before publish (draft show --unbound)"}},
                    Route::Body::kNone,
                    {},
                    false,
                    ShowDraft});
  routes.push_back({"DELETE",
                    drafts + "/{draft}",
                    "Drop a draft; its head is kept (draft drop)",
                    "integrator",
                    {},
                    Route::Body::kNone,
                    {},
                    false,
                    DropDraft});
  routes.push_back({"POST",
                    drafts + "/{draft}/bind",
                    "Bind credentials and secret references on a draft (bind)",
                    "integrator",
                    {},
                    Route::Body::kJson,
                    {"flow: string - the flow (needed for credentials and secrets)",
                     "credentials: object - node id -> credential name",
                     "secrets: object - secret variable -> reference (vault:...)",
                     "types: object - credential type -> credential name, for every unbound node"},
                    false,
                    Bind});
  routes.push_back({"POST",
                    drafts + "/{draft}/publish",
                    "Validate and publish a draft (publish)",
                    "integrator",
                    {},
                    Route::Body::kJson,
                    {"note: string - the release note"},
                    false,
                    Publish});
  routes.push_back({"POST",
                    "/api/v1/workspaces/{ws}/flows/{flow}/revert",
                    "Put an earlier version of a flow on a draft (revert)",
                    "integrator",
                    {},
                    Route::Body::kJson,
                    {"version: string - N or vN: the version to bring back",
                     "draft: string - the draft (default revert-<flow>-v<N>)"},
                    false,
                    Revert});
}

}  // namespace flowrepo::server
