// Browser sessions: the store on its own (ids, expiry with a test clock,
// the CSRF check, cookie parsing), then end to end: the built binary
// serves a repository and httplib::Client logs in, sends cookies with and
// without the CSRF token, logs out and fetches the web page. A server
// that does not start fails the test.

#include "server/session.h"

#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "support/test_support.h"

extern char** environ;

namespace flowrepo::server {
namespace {

using nlohmann::json;
using testing::Flowrepo;
using testing::Quote;
using testing::ReadFile;
using testing::RunResult;
using testing::TempDir;

const std::regex kHex64("[0-9a-f]{64}");

// A clock a test moves by hand.
struct TestClock {
  std::chrono::steady_clock::time_point now{};
  SessionStore::Clock Get() {
    return [this] { return now; };
  }
};

TEST(SessionStoreTest, MakesRandomIdsAndCsrfTokens) {
  SessionStore store;
  const auto [id1, s1] = store.Create("frt_a", "alice@example.com");
  const auto [id2, s2] = store.Create("frt_b", "bob@example.com");
  EXPECT_TRUE(std::regex_match(id1, kHex64)) << id1;
  EXPECT_TRUE(std::regex_match(s1.csrf_token, kHex64)) << s1.csrf_token;
  EXPECT_NE(id1, id2);
  EXPECT_NE(s1.csrf_token, s2.csrf_token);
  EXPECT_NE(id1, s1.csrf_token);
  ASSERT_TRUE(store.Find(id2));
  EXPECT_EQ(store.Find(id2)->user, "bob@example.com");
  EXPECT_EQ(store.Find(id2)->token, "frt_b");
  EXPECT_FALSE(store.Find(id1 + "0"));
  EXPECT_FALSE(store.Find(""));
  EXPECT_EQ(store.size(), 2u);
}

TEST(SessionStoreTest, ExpiresAfterTwelveHoursIdleCountedFromTheLastUse) {
  TestClock clock;
  SessionStore store(std::chrono::hours(12), clock.Get());
  const std::string id = store.Create("frt_a", "alice@example.com").first;
  clock.now += std::chrono::hours(12) - std::chrono::seconds(1);
  EXPECT_TRUE(store.Find(id));  // used: the twelve hours start again
  clock.now += std::chrono::hours(12) - std::chrono::seconds(1);
  EXPECT_TRUE(store.Find(id));
  clock.now += std::chrono::hours(12);
  EXPECT_FALSE(store.Find(id));
  EXPECT_EQ(store.size(), 0u);
}

TEST(SessionStoreTest, MakingOneDropsExpiredThenTheLeastRecentlyUsed) {
  TestClock clock;
  SessionStore store(std::chrono::hours(1), clock.Get(), 2);
  const std::string old = store.Create("t1", "u1").first;
  clock.now += std::chrono::hours(2);
  const std::string a = store.Create("t2", "u2").first;
  EXPECT_EQ(store.size(), 1u);  // the expired one went
  clock.now += std::chrono::minutes(1);
  const std::string b = store.Create("t3", "u3").first;
  clock.now += std::chrono::minutes(1);
  EXPECT_TRUE(store.Find(a));  // a is now used more recently than b
  clock.now += std::chrono::minutes(1);
  store.Create("t4", "u4");
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(store.Find(a));
  EXPECT_FALSE(store.Find(b));
  EXPECT_FALSE(store.Find(old));
}

TEST(SessionStoreTest, RemoveEndsASession) {
  SessionStore store;
  const std::string id = store.Create("t", "u").first;
  EXPECT_TRUE(store.Remove(id));
  EXPECT_FALSE(store.Find(id));
  EXPECT_FALSE(store.Remove(id));
}

TEST(SessionCookieTest, ReadsTheNamedCookie) {
  EXPECT_EQ(CookieValue("a=1; flowrepo_session=abc; b=2", kSessionCookie), "abc");
  EXPECT_EQ(CookieValue("flowrepo_session=\"q\"", kSessionCookie), "q");
  EXPECT_EQ(CookieValue("x_flowrepo_session=abc;flowrepo_session2=d", kSessionCookie), "");
  EXPECT_EQ(CookieValue("", kSessionCookie), "");
  EXPECT_EQ(CookieValue(";;flowrepo_session", kSessionCookie), "");
}

TEST(SessionCookieTest, IsHttpOnlyAndStrictAndSecureOverTls) {
  EXPECT_EQ(SessionCookieHeader("abc", Transport::kHttp), "flowrepo_session=abc; HttpOnly; SameSite=Strict; Path=/");
  EXPECT_EQ(SessionCookieHeader("abc", Transport::kHttps),
            "flowrepo_session=abc; HttpOnly; SameSite=Strict; Path=/; Secure");
  EXPECT_EQ(ClearedSessionCookieHeader(Transport::kHttp),
            "flowrepo_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
}

TEST(SessionCookieTest, StateChangesNeedTheSessionsCsrfToken) {
  SessionStore store;
  const auto [id, session] = store.Create("frt_secret", "alice@example.com");
  const std::string cookie = "flowrepo_session=" + id;
  EXPECT_EQ(SessionToken(store, cookie, Method::kSafe, ""), "frt_secret");
  EXPECT_EQ(SessionToken(store, cookie, Method::kChanging, session.csrf_token), "frt_secret");
  EXPECT_EQ(SessionToken(store, "flowrepo_session=nope", Method::kChanging, ""), "");
  EXPECT_EQ(SessionToken(store, "", Method::kSafe, ""), "");
  try {
    SessionToken(store, cookie, Method::kChanging, "");
    ADD_FAILURE() << "no CSRF token was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
    EXPECT_STREQ(e.what(), "a request made with a session cookie needs its X-CSRF-Token header");
  }
  std::string wrong = session.csrf_token;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  for (const std::string& bad : {wrong, session.csrf_token.substr(1), session.csrf_token + "0"}) {
    try {
      SessionToken(store, cookie, Method::kChanging, bad);
      ADD_FAILURE() << "a wrong CSRF token was accepted: " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
      EXPECT_STREQ(e.what(), "the X-CSRF-Token header is not this session's");
    }
  }
}

// `flowrepo serve` on a free loopback port, stopped by SIGTERM.
class Server {
 public:
  Server(const std::string& repo, const std::string& log) {
    std::vector<std::string> argv = {FLOWREPO_BINARY, "-C", repo, "serve", "--listen", "127.0.0.1:0"};
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (rc == 0 && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char c = 0;
      if (read(out[0], &c, 1) != 1 || c == '\n') break;
      line += c;
    }
    close(out[0]);
    const std::string prefix = "listening on http://127.0.0.1:";
    if (rc != 0 || line.rfind(prefix, 0) != 0) {
      throw std::runtime_error("flowrepo serve did not start: '" + line + "' " + ReadFile(log));
    }
    port_ = std::stoi(line.substr(prefix.size()));
  }
  ~Server() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

class WebSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Flowrepo("--user alice@example.com init repo", dir_.path()).exit_code, 0);
    repo_ = dir_ / "repo";
    ASSERT_EQ(Run("flow put --draft initial " + Quote(testing::SourceDir() + "/fixtures/flows")).exit_code, 0);
    ASSERT_EQ(Run("publish --draft initial -m first").exit_code, 0);
    ASSERT_EQ(Run("role grant vera@example.com viewer").exit_code, 0);
    admin_token_ = AddToken("alice@example.com");
    viewer_token_ = AddToken("vera@example.com");
    server_ = std::make_unique<Server>(repo_, dir_ / "serve.log");
  }
  RunResult Run(const std::string& args) { return Flowrepo("--user alice@example.com " + args, repo_); }
  std::string AddToken(const std::string& user) {
    RunResult r = Run("serve token add " + user + " --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out)["token"].get<std::string>() : "";
  }
  httplib::Client Client() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(60, 0);
    return c;
  }
  // Logs in with \a token; the session's id (from Set-Cookie) and CSRF token.
  std::pair<std::string, std::string> LogIn(const std::string& token) {
    auto r = Client().Post("/api/v1/session", json{{"token", token}}.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    std::smatch m;
    const std::string cookie = r->get_header_value("Set-Cookie");
    EXPECT_TRUE(
        std::regex_match(cookie, m, std::regex("flowrepo_session=([0-9a-f]{64}); HttpOnly; SameSite=Strict; Path=/")))
        << cookie;
    return {m.size() > 1 ? m[1].str() : "", json::parse(r->body).value("csrf_token", "")};
  }
  static httplib::Headers WithCookie(const std::string& id, const std::string& csrf = "") {
    httplib::Headers h = {{"Cookie", "flowrepo_session=" + id}};
    if (!csrf.empty()) h.emplace("X-CSRF-Token", csrf);
    return h;
  }
  static json Body(const httplib::Result& r, int status) {
    EXPECT_TRUE(r);
    if (!r) return json();
    EXPECT_EQ(r->status, status) << r->body;
    return json::parse(r->body, nullptr, false);
  }

  TempDir dir_;
  std::string repo_, admin_token_, viewer_token_;
  std::unique_ptr<Server> server_;
};

const std::string kDrafts = "/api/v1/workspaces/main/drafts";

TEST_F(WebSessionTest, LogsInWithATokenAndFindsTheSessionAgain) {
  const auto [id, csrf] = LogIn(admin_token_);
  EXPECT_TRUE(std::regex_match(csrf, kHex64)) << csrf;
  const json again = Body(Client().Get("/api/v1/session", WithCookie(id)), 200);
  EXPECT_EQ(again, json({{"user", "alice@example.com"}, {"csrf_token", csrf}}));
  const json workspaces = Body(Client().Get("/api/v1/workspaces", WithCookie(id)), 200);
  EXPECT_EQ(workspaces[0]["name"], "main");
  const json access = Body(Client().Get("/api/v1/workspaces/main/access", WithCookie(id)), 200);
  EXPECT_EQ(access["role"], "admin");
  EXPECT_EQ(access["export_role"], "integrator");
}

TEST_F(WebSessionTest, RefusesAnUnknownTokenOrCookie) {
  auto r = Client().Post("/api/v1/session", R"({"token": "frt_nope"})", "application/json");
  EXPECT_EQ(Body(r, 401)["error"]["code"], "unauthenticated");
  EXPECT_EQ(r->get_header_value("Set-Cookie"), "");
  const std::string unknown(64, 'a');
  EXPECT_EQ(Body(Client().Get("/api/v1/session", WithCookie(unknown)), 401)["error"]["code"], "unauthenticated");
  EXPECT_EQ(Body(Client().Get("/api/v1/workspaces", WithCookie(unknown)), 401)["error"]["code"], "unauthenticated");
  EXPECT_EQ(Body(Client().Get("/api/v1/session"), 401)["error"]["code"], "unauthenticated");
  // What a form of another site could post: refused, no cookie set.
  auto form = Client().Post("/api/v1/session", json{{"token", admin_token_}}.dump(), "text/plain");
  EXPECT_EQ(Body(form, 400)["error"]["message"], "log in with a JSON body (Content-Type: application/json)");
  EXPECT_EQ(form->get_header_value("Set-Cookie"), "");
}

TEST_F(WebSessionTest, StateChangesByCookieNeedTheCsrfToken) {
  ASSERT_EQ(Run("draft start kept").exit_code, 0);
  const auto [id, csrf] = LogIn(admin_token_);
  const std::string body = R"({"name": "d1"})";
  json denied = Body(Client().Post(kDrafts, WithCookie(id), body, "application/json"), 403);
  EXPECT_EQ(denied, json({{"error",
                           {{"code", "permission-denied"},
                            {"message", "a request made with a session cookie needs its X-CSRF-Token header"}}}}));
  denied = Body(Client().Post(kDrafts, WithCookie(id, std::string(64, '0')), body, "application/json"), 403);
  EXPECT_EQ(denied["error"]["message"], "the X-CSRF-Token header is not this session's");
  EXPECT_EQ(Body(Client().Delete(kDrafts + "/kept", WithCookie(id)), 403)["error"]["code"], "permission-denied");
  EXPECT_NE(Run("draft list").out.find("kept"), std::string::npos) << "a refused DELETE dropped the draft";
  EXPECT_EQ(Run("draft list").out.find("d1"), std::string::npos) << "a refused POST made the draft";
  EXPECT_EQ(Body(Client().Post(kDrafts, WithCookie(id, csrf), body, "application/json"), 201)["name"], "d1");
  // A bearer token needs no CSRF token: no browser sends it by itself.
  httplib::Headers bearer = {{"Authorization", "Bearer " + admin_token_}};
  EXPECT_EQ(Body(Client().Post(kDrafts, bearer, R"({"name": "d2"})", "application/json"), 201)["name"], "d2");
}

TEST_F(WebSessionTest, LogOutNeedsTheCsrfTokenAndEndsTheSession) {
  const auto [id, csrf] = LogIn(admin_token_);
  EXPECT_EQ(Body(Client().Delete("/api/v1/session", WithCookie(id)), 403)["error"]["code"], "permission-denied");
  Body(Client().Get("/api/v1/session", WithCookie(id)), 200);
  auto r = Client().Delete("/api/v1/session", WithCookie(id, csrf));
  EXPECT_EQ(Body(r, 200), json({{"logged_out", true}}));
  EXPECT_EQ(r->get_header_value("Set-Cookie"), "flowrepo_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
  EXPECT_EQ(Body(Client().Get("/api/v1/session", WithCookie(id)), 401)["error"]["code"], "unauthenticated");
  EXPECT_EQ(Body(Client().Get("/api/v1/workspaces", WithCookie(id)), 401)["error"]["code"], "unauthenticated");
}

TEST_F(WebSessionTest, RevokingTheTokenEndsItsSessions) {
  const auto [id, csrf] = LogIn(viewer_token_);
  Body(Client().Get("/api/v1/workspaces", WithCookie(id)), 200);
  ASSERT_EQ(Run("serve token revoke vera@example.com").exit_code, 0);
  EXPECT_EQ(Body(Client().Get("/api/v1/workspaces", WithCookie(id)), 401)["error"]["code"], "unauthenticated");
  EXPECT_EQ(Body(Client().Get("/api/v1/session", WithCookie(id)), 401)["error"]["code"], "unauthenticated");
}

TEST_F(WebSessionTest, AViewerSessionIsRefusedWhatTheRoleForbids) {
  const auto [id, csrf] = LogIn(viewer_token_);
  const json access = Body(Client().Get("/api/v1/workspaces/main/access", WithCookie(id)), 200);
  EXPECT_EQ(access["role"], "viewer");
  const std::string selection = R"({"groups": ["Finance"]})";
  EXPECT_EQ(Body(Client().Post("/api/v1/workspaces/main/export", WithCookie(id, csrf), selection, "application/json"),
                 403)["error"]["code"],
            "permission-denied");
  EXPECT_EQ(
      Body(Client().Post("/api/v1/workspaces/main/export/plan", WithCookie(id, csrf), selection, "application/json"),
           403)["error"]["code"],
      "permission-denied");
  EXPECT_EQ(
      Body(Client().Post(kDrafts, WithCookie(id, csrf), R"({"name": "v"})", "application/json"), 403)["error"]["code"],
      "permission-denied");
}

TEST_F(WebSessionTest, ExportPlanListsTheDependenciesThePolicyAdds) {
  const auto [id, csrf] = LogIn(admin_token_);
  const json plan = Body(Client().Post("/api/v1/workspaces/main/export/plan", WithCookie(id, csrf),
                                       R"({"flows": ["banking-assistant"]})", "application/json"),
                         200);
  EXPECT_EQ(plan["flow_count"], 2) << plan.dump(2);
  EXPECT_EQ(plan["included_dependencies"], json({"kyc-check"})) << plan.dump(2);
  const json referenced =
      Body(Client().Post("/api/v1/workspaces/main/export/plan", WithCookie(id, csrf),
                         R"({"flows": ["banking-assistant"], "dependencies": "reference"})", "application/json"),
           200);
  EXPECT_EQ(referenced["flow_count"], 1) << referenced.dump(2);
  EXPECT_EQ(referenced["referenced_dependencies"], json({"kyc-check"})) << referenced.dump(2);
}

TEST_F(WebSessionTest, ServesThePageWithAStrictContentSecurityPolicy) {
  auto page = Client().Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page->get_header_value("Content-Security-Policy").rfind("default-src 'self';", 0), 0u);
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(page->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_NE(page->body.find("<script src=\"/assets/app.js\" defer></script>"), std::string::npos);
  EXPECT_EQ(page->body.find("<script>"), std::string::npos) << "an inline script: the CSP refuses it";
  EXPECT_EQ(page->body, ReadFile(testing::SourceDir() + "/src/server/web/index.html"));
  for (const auto& [name, type] : std::vector<std::pair<std::string, std::string>>{
           {"app.js", "text/javascript; charset=utf-8"}, {"style.css", "text/css; charset=utf-8"}}) {
    auto asset = Client().Get(("/assets/" + name).c_str());
    ASSERT_TRUE(asset);
    EXPECT_EQ(asset->status, 200);
    EXPECT_EQ(asset->get_header_value("Content-Type"), type);
    EXPECT_EQ(asset->body, ReadFile(testing::SourceDir() + "/src/server/web/" + name));
  }
  auto missing = Client().Get("/assets/nope.js");
  EXPECT_EQ(Body(missing, 404)["error"]["code"], "not-found");
  const json openapi = Body(Client().Get("/api/v1/openapi.json"), 200);
  EXPECT_TRUE(openapi["paths"]["/api/v1/session"].contains("post")) << openapi["paths"].dump();
  EXPECT_TRUE(openapi["paths"]["/api/v1/session"].contains("delete"));
}

}  // namespace
}  // namespace flowrepo::server
