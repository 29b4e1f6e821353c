// The routes of the web page: browser sessions (log in with an API token,
// find the session again after a reload, log out), and what the page needs
// to show before it acts: the user's role in a workspace, the plan of an
// export (which flows, which dependencies the policy adds) and the
// requirements of an uploaded package (topics to map, credentials to bind).
// Each answers scripts as well as the page.

#include <filesystem>

#include "flowrepo/access.h"
#include "flowrepo/error.h"
#include "flowrepo/package.h"
#include "flowrepo/tokens.h"
#include "server/routes.h"
#include "server/session.h"
#include "server/temp_dir.h"

namespace flowrepo::server {
namespace {

Transport TransportOf(const Call& call) {
  return call.options().tls_cert.empty() ? Transport::kHttp : Transport::kHttps;
}

void Unauthenticated(Call& call, const std::string& message) {
  call.Reply({{"error", {{"code", "unauthenticated"}, {"message", message}}}}, 401);
}

Json SessionJson(const Session& session) { return {{"user", session.user}, {"csrf_token", session.csrf_token}}; }

void LogIn(Call& call) {
  // A page of another site can post a form (text/plain) but not JSON
  // without asking first: so it cannot log a browser in as someone else.
  const std::string type = call.request().get_header_value("Content-Type");
  if (type.rfind("application/json", 0) != 0) {
    throw Error(ErrorCode::kInvalidArgument, "log in with a JSON body (Content-Type: application/json)");
  }
  const std::string token = StringField(call.body(), "token");
  if (token.empty()) throw Error(ErrorCode::kInvalidArgument, "field 'token' is needed: an API token");
  const std::optional<ApiToken> found = FindApiToken(call.repo().git_dir(), token);
  if (!found) {
    Unauthenticated(call, "the API token is not valid (revoked, or never made)");
    return;
  }
  const auto [id, session] = Sessions().Create(token, found->user);
  call.response().set_header("Set-Cookie", SessionCookieHeader(id, TransportOf(call)));
  call.response().set_header("Cache-Control", "no-store");
  call.Reply(SessionJson(session));
}

void CurrentSession(Call& call) {
  const std::string id = CookieValue(call.request().get_header_value("Cookie"), kSessionCookie);
  const std::optional<Session> session = Sessions().Find(id);
  // The token is looked up as for every request: a revoked one ends it.
  if (!session || !FindApiToken(call.repo().git_dir(), session->token)) {
    if (session) Sessions().Remove(id);
    Unauthenticated(call, "no session: log in with an API token");
    return;
  }
  call.response().set_header("Cache-Control", "no-store");
  call.Reply(SessionJson(*session));
}

void LogOut(Call& call) {
  const std::string cookies = call.request().get_header_value("Cookie");
  const std::string id = CookieValue(cookies, kSessionCookie);
  // Throws kPermissionDenied without the session's CSRF token: a page of
  // another site may not log the user out.
  SessionToken(Sessions(), cookies, Method::kChanging, call.request().get_header_value(std::string(kCsrfHeader)));
  const bool ended = Sessions().Remove(id);
  call.response().set_header("Set-Cookie", ClearedSessionCookieHeader(TransportOf(call)));
  call.Reply({{"logged_out", ended}});
}

void Access(Call& call) {
  const std::string& ws = call.Path("ws");
  FlowRepository& repo = call.repo();
  const std::vector<RoleAssignment> roles = repo.ListRoles(ws);  // throws without a role
  Role role = Role::kAdmin;                                      // an unmanaged workspace: everyone is admin
  for (const auto& r : roles) {
    if (r.user == repo.user()) role = r.role;
  }
  call.Reply({{"workspace", ws},
              {"user", repo.user()},
              {"role", RoleName(role)},
              {"export_role", RoleName(repo.ExportRole(ws))},
              {"topics", repo.ListSettings(ws, SettingsList::kTopics)}});
}

// The export a body of POST .../export asks for, made into a private
// directory that is removed at once: what the download would hold.
void ExportPlan(Call& call) {
  ExportRequest request = SelectionExportRequest(call);
  TempDir dir;
  request.directory = dir.path();
  const ExportResult result = ExportPackage(call.repo(), request);
  Json flows = Json::array();
  for (const auto& f : result.flows) {
    flows.push_back({{"id", f.id}, {"name", f.name}, {"group", f.group}, {"dependency", f.dependency}});
  }
  call.Reply({{"workspace", result.workspace},
              {"commit", result.commit},
              {"flow_count", result.flow_count},
              {"flows", flows},
              {"included_dependencies", result.included_dependencies},
              {"referenced_dependencies", result.referenced_dependencies},
              {"bytes", result.bytes}});
}

Json CredentialsJson(const std::vector<CredentialRequirement>& credentials) {
  Json out = Json::array();
  for (const auto& c : credentials) out.push_back({{"flow", c.flow}, {"node", c.node}, {"type", c.type}});
  return out;
}

Json EnvJson(const std::vector<EnvRequirement>& env) {
  Json out = Json::array();
  for (const auto& e : env) out.push_back({{"flow", e.flow}, {"name", e.name}, {"secret", e.secret}});
  return out;
}

// What an uploaded package holds and needs, as VerifyPackage reads it.
void InspectPackage(Call& call) {
  call.repo().ListRoles(call.Path("ws"));  // a user of the workspace only: throws kPermissionDenied
  PackageLimits limits;
  limits.max_file_bytes = call.options().max_body;
  const PackageReport report = VerifyPackage(call.upload(), limits);
  Json flows = Json::array();
  for (const auto& f : report.manifest.flows) {
    Json deps = Json::array();
    for (const auto& d : f.dependencies) deps.push_back({{"flow", d.flow}, {"node", d.node}, {"included", d.included}});
    flows.push_back({{"id", f.id},
                     {"name", f.name},
                     {"group", f.group},
                     {"format", f.format},
                     {"version", f.version ? Json(*f.version) : Json()},
                     {"dependencies", deps},
                     {"components", f.requirements.components},
                     {"topics", f.requirements.topics},
                     {"credentials", CredentialsJson(f.requirements.credentials)},
                     {"env_variables", EnvJson(f.requirements.env_variables)}});
  }
  Json problems = Json::array();
  for (const auto& p : report.problems) {
    problems.push_back(
        {{"flow", p.flow}, {"file", p.file}, {"pointer", p.pointer}, {"rule", p.rule}, {"message", p.message}});
  }
  const FlowRequirements& needs = report.manifest.requirements;
  call.Reply({{"package", std::filesystem::path(call.upload()).filename().string()},
              {"ok", report.ok()},
              {"problems", problems},
              {"source", {{"workspace", report.manifest.workspace}, {"commit", report.manifest.commit}}},
              {"flows", flows},
              {"requirements",
               {{"components", needs.components},
                {"topics", needs.topics},
                {"credentials", CredentialsJson(needs.credentials)},
                {"env_variables", EnvJson(needs.env_variables)}}},
              {"required_flows", report.manifest.required_flows}});
}

}  // namespace

void AddWebRoutes(std::vector<Route>& routes) {
  // "none": these routes find the session themselves (no bearer token).
  routes.push_back({"POST",
                    "/api/v1/session",
                    "Log in with an API token: sets the HttpOnly session cookie, replies the CSRF token",
                    "none",
                    {},
                    Route::Body::kJson,
                    {"token: string - an API token"},
                    false,
                    LogIn});
  routes.push_back({"GET",
                    "/api/v1/session",
                    "The session of the request's cookie (user, CSRF token); 401 without one",
                    "none",
                    {},
                    Route::Body::kNone,
                    {},
                    false,
                    CurrentSession});
  routes.push_back({"DELETE",
                    "/api/v1/session",
                    "Log out: ends the session of the request's cookie (needs X-CSRF-Token)",
                    "none",
                    {},
                    Route::Body::kNone,
                    {},
                    false,
                    LogOut});
  routes.push_back({"GET",
                    "/api/v1/workspaces/{ws}/access",
                    "The user's role in a workspace, the role export needs, the workspace's topics",
                    "viewer",
                    {},
                    Route::Body::kNone,
                    {},
                    false,
                    Access});
  routes.push_back({"POST",
                    "/api/v1/workspaces/{ws}/export/plan",
                    "What POST .../export with the same body would write: flows, dependencies added or referenced",
                    "integrator",
                    {},
                    Route::Body::kJson,
                    {"flows: [string] - flow ids", "groups: [string] - group paths (with their sub-groups)",
                     "exclude: [string] - flows or groups left out", "all: bool - every flow",
                     "dependencies: string - include (default), reference or fail",
                     "at: string - a draft, ref or commit instead of the workspace head"},
                    false,
                    ExportPlan});
  routes.push_back({"POST",
                    "/api/v1/workspaces/{ws}/import/inspect",
                    "What an uploaded package (the raw body) holds and needs: flows, topics, credentials, problems",
                    "viewer",
                    {{"filename", "the package's file name"}},
                    Route::Body::kPackage,
                    {},
                    false,
                    InspectPackage});
}

}  // namespace flowrepo::server
