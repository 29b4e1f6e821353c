// flowrepo serve end to end: the built binary serves a repository made
// with the command line on a free loopback port, and httplib::Client calls
// every route as users of every role, without a token, with hostile path
// parameters and bodies; several clients and a command write at once. A
// server that does not start fails the test: nothing is skipped.

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "bench/load_driver.h"
#include "support/test_support.h"

extern char** environ;

namespace flowrepo {
namespace {

using nlohmann::json;
using testing::Flowrepo;
using testing::Quote;
using testing::ReadFile;
using testing::RefsSnapshot;
using testing::RunResult;
using testing::TempDir;
using testing::WriteFile;

constexpr char kAdmin[] = "alice@example.com";
constexpr char kIntegrator[] = "ivan@example.com";
constexpr char kViewer[] = "vera@example.com";

// `flowrepo serve` as a child process: its first line of stdout gives the
// URL; stopped by SIGTERM when destroyed.
class ServeProcess {
 public:
  ServeProcess(const std::string& repo, const std::vector<std::string>& extra, const std::string& log) {
    std::vector<std::string> argv = {FLOWREPO_BINARY, "-C", repo, "serve", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
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
    if (rc != 0) {
      close(out[0]);
      throw std::runtime_error("cannot start flowrepo serve");
    }
    const std::string line = ReadLine(out[0]);
    close(out[0]);
    const std::string scheme = line.rfind("listening on https://", 0) == 0 ? "https" : "http";
    const std::string prefix = "listening on " + scheme + "://127.0.0.1:";
    if (line.rfind(prefix, 0) != 0) {
      throw std::runtime_error("flowrepo serve did not start: '" + line + "' " + ReadFile(log));
    }
    port_ = std::stoi(line.substr(prefix.size()));
  }
  ~ServeProcess() {
    if (pid_ > 0) Stop();
  }
  int port() const { return port_; }
  /// SIGTERM; the exit status.
  int Stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  static std::string ReadLine(int fd) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char c = 0;
      if (read(fd, &c, 1) != 1) break;
      if (c == '\n') return line;
      line += c;
    }
    return line;
  }
  pid_t pid_ = -1;
  int port_ = 0;
};

// A client on a raw socket, for what httplib::Client never does (send a
// request a byte at a time, or hold a connection without a request).
// Closes its socket when destroyed.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("cannot connect to port " + std::to_string(port));
    }
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  ~RawConnection() { close(fd_); }
  /// False once the server has closed the connection.
  bool Send(const std::string& bytes) {
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size());
  }
  /// What arrives until the server closes the connection or \a within
  /// passes; \a closed says which.
  std::string Receive(std::chrono::milliseconds within, bool& closed) {
    std::string out;
    closed = false;
    const auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char buffer[4096];
      const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        closed = true;
        break;
      }
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_;
};

// Clients sending a request's headers one byte per \a pace, each on its
// own thread, until destroyed.
class SlowClients {
 public:
  SlowClients(int port, int count, std::chrono::milliseconds pace) {
    for (int i = 0; i < count; ++i) {
      threads_.emplace_back([this, port, pace] {
        RawConnection c(port);
        const std::string request =
            "GET /api/v1/workspaces HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(200, 'a') + "\r\n\r\n";
        for (std::size_t at = 0; at < request.size() && !stop_; ++at) {
          if (!c.Send(request.substr(at, 1))) {
            ++cut_;
            return;
          }
          std::this_thread::sleep_for(pace);
        }
      });
    }
  }
  ~SlowClients() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }
  /// How many the server has cut off so far.
  int cut() const { return cut_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> cut_{0};
  std::vector<std::thread> threads_;
};

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Flowrepo(std::string("--user ") + kAdmin + " init repo", dir_.path()).exit_code, 0);
    repo_ = dir_ / "repo";
    ASSERT_EQ(Run("flow put --draft initial " + Quote(testing::SourceDir() + "/fixtures/flows")).exit_code, 0);
    ASSERT_EQ(Run("publish --draft initial -m first").exit_code, 0);
    ASSERT_EQ(Run("draft start second").exit_code, 0);
    ASSERT_EQ(Run(std::string("role grant ") + kIntegrator + " integrator").exit_code, 0);
    ASSERT_EQ(Run(std::string("role grant ") + kViewer + " viewer").exit_code, 0);
    for (const char* user : {kAdmin, kIntegrator, kViewer}) tokens_[user] = AddToken(user);
  }
  RunResult Run(const std::string& args, const std::string& user = kAdmin) {
    return Flowrepo("--user " + user + " " + args, repo_);
  }
  std::string AddToken(const std::string& user) {
    RunResult r = Run("serve token add " + user + " --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out)["token"].get<std::string>() : "";
  }
  void Start(const std::vector<std::string>& extra = {}) {
    server_ = std::make_unique<ServeProcess>(repo_, extra, dir_ / "serve.log");
  }
  httplib::Client Client() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(120, 0);
    c.set_write_timeout(120, 0);
    return c;
  }
  httplib::Headers As(const std::string& user) { return {{"Authorization", "Bearer " + tokens_[user]}}; }

  httplib::Result Get(const std::string& path, const std::string& user = kAdmin) {
    return Client().Get(path.c_str(), As(user));
  }
  httplib::Result Post(const std::string& path, const json& body, const std::string& user = kAdmin) {
    return Client().Post(path.c_str(), As(user), body.dump(), "application/json");
  }
  httplib::Result Upload(const std::string& path, const std::string& bytes, const std::string& user = kAdmin) {
    return Client().Post(path.c_str(), As(user), bytes, "application/octet-stream");
  }
  httplib::Result Delete(const std::string& path, const std::string& user = kAdmin) {
    return Client().Delete(path.c_str(), As(user));
  }
  // The JSON body of \a r, expecting \a status.
  static json Expect(const httplib::Result& r, int status) {
    EXPECT_TRUE(r) << "no response: " << httplib::to_string(r.error());
    if (!r) return json();
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << r->body;
    json j = json::parse(r->body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r->body;
    return j;
  }
  json CliJson(const std::string& args, const std::string& user = kAdmin) {
    RunResult r = Run(args + " --json", user);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }

  TempDir dir_;
  std::string repo_;
  std::map<std::string, std::string> tokens_;
  std::unique_ptr<ServeProcess> server_;
};

const std::string kMain = "/api/v1/workspaces/main";

TEST_F(ServeTest, ReadsWorkspacesTreeFlowsHistoryAndDiffAsTheCliPrintsThem) {
  ASSERT_EQ(Run("flow mv faq-answerer --group Support/Public --draft move").exit_code, 0);
  ASSERT_EQ(Run("publish --draft move -m moved").exit_code, 0);
  Start();
  EXPECT_EQ(Expect(Get("/api/v1/workspaces", kViewer), 200), CliJson("workspace list"));

  const json tree = Expect(Get(kMain + "/tree", kViewer), 200);
  ASSERT_EQ(tree["groups"].size(), 3u) << tree.dump(2);
  const json& support = tree["groups"][2];
  EXPECT_EQ(support["name"], "Support");
  ASSERT_EQ(support["groups"].size(), 1u) << support.dump(2);
  EXPECT_EQ(support["groups"][0]["path"], "Support/Public");
  const json& faq = support["groups"][0]["flows"][0];
  EXPECT_EQ(faq["id"], "faq-answerer");
  EXPECT_EQ(faq["latest"], 2);
  EXPECT_EQ(faq["versions"], json({1, 2}));

  EXPECT_EQ(Expect(Get(kMain + "/flows/faq-answerer?at=v1", kViewer), 200), CliJson("flow show faq-answerer@v1"));
  EXPECT_EQ(Expect(Get(kMain + "/flows/faq-answerer?at=draft:second&file=app_definition.json", kViewer), 200),
            CliJson("flow show faq-answerer@second --file app_definition.json"));
  EXPECT_EQ(Expect(Get(kMain + "/flows/faq-answerer/history", kViewer), 200), CliJson("history faq-answerer"));
  EXPECT_EQ(Expect(Get(kMain + "/flows/faq-answerer/diff?from=v1&to=v2", kViewer), 200),
            CliJson("diff faq-answerer v1 v2"));
  const json missing = Expect(Get(kMain + "/flows/no-such-flow/history", kViewer), 404);
  EXPECT_EQ(missing["error"]["code"], "not-found");
}

TEST_F(ServeTest, ExportsDownloadsNamedAsTheCliNamesThem) {
  Start();
  auto r = Post(kMain + "/export", {{"groups", {"Finance"}}, {"exclude", {"aml-screening"}}}, kIntegrator);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Disposition"), "attachment; filename=\"export.studiopkg\"");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/octet-stream");
  EXPECT_EQ(r->get_header_value("X-Flowrepo-Flows"), "2");
  WriteFile(dir_ / "got.studiopkg", r->body);
  RunResult verify = Run("validate " + Quote(dir_ / "got.studiopkg") + " --json");
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  r = Get(kMain + "/flows/banking-assistant/export?version=v1", kIntegrator);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Disposition"), "attachment; filename=\"Banking Assistant.zip\"");
  // The CLI writes the same name (and, deterministic, the same bytes).
  ASSERT_EQ(Run("export banking-assistant@v1 --dir " + Quote(dir_.path())).exit_code, 0);
  EXPECT_EQ(ReadFile(dir_ / "Banking Assistant.zip"), r->body);

  const json bad = Expect(Post(kMain + "/export", {{"flows", {"nope"}}}, kIntegrator), 404);
  EXPECT_EQ(bad["error"]["code"], "not-found");
  EXPECT_EQ(Expect(Post(kMain + "/export", {{"flows", "x"}}, kIntegrator), 400)["error"]["message"],
            "field 'flows' must be a list of strings");
  EXPECT_EQ(Expect(Post(kMain + "/export", {{"flowz", {"x"}}}, kIntegrator), 400)["error"]["message"],
            "unknown field 'flowz' in the request body");
}

TEST_F(ServeTest, ImportsWithDryRunBindsAndPublishes) {
  ASSERT_EQ(Run("export banking-assistant@v1 --dir " + Quote(dir_.path())).exit_code, 0);
  const std::string package = ReadFile(dir_ / "Banking Assistant.zip");
  Start();
  const std::string import = kMain + "/import?filename=Banking%20Assistant.zip&override=banking-assistant";
  const std::string refs = RefsSnapshot(repo_);
  const json plan = Expect(Upload(import + "&dry_run=1", package, kIntegrator), 200);
  EXPECT_EQ(plan["dry_run"], true);
  EXPECT_EQ(plan["package"], "Banking Assistant.zip");
  EXPECT_EQ(plan["draft"], "import-banking-assistant");
  ASSERT_EQ(plan["flows"].size(), 1u);
  EXPECT_EQ(plan["flows"][0]["action"], "overridden");
  EXPECT_EQ(plan["flows"][0]["unbound_credentials"], json({"accounts"}));
  EXPECT_EQ(RefsSnapshot(repo_), refs) << "a dry run writes nothing";

  const json done = Expect(Upload(import, package, kIntegrator), 201);
  EXPECT_EQ(done["draft"], "import-banking-assistant");
  const std::string draft = kMain + "/drafts/import-banking-assistant";
  const json unbound = Expect(Get(draft + "?unbound=1", kIntegrator), 200);
  EXPECT_EQ(unbound, CliJson("draft show import-banking-assistant --unbound"));
  EXPECT_EQ(Expect(Post(draft + "/publish", {{"note", "too early"}}, kIntegrator), 422)["error"]["code"],
            "invalid-data");
  Expect(Post(draft + "/bind",
              {{"flow", "banking-assistant"},
               {"credentials", {{"accounts", "core-banking-prod"}}},
               {"secrets", {{"CORE_BANKING_KEY", "vault:prod/core-banking"}}}},
              kIntegrator),
         200);
  const json published = Expect(Post(draft + "/publish", {{"note", "re-imported"}}, kIntegrator), 200);
  ASSERT_EQ(published["versions"].size(), 1u) << published.dump(2);
  EXPECT_EQ(published["versions"][0]["version"], 2);
  EXPECT_EQ(published["versions"][0]["author"], kIntegrator);
}

TEST_F(ServeTest, TruncatedPackageIsRefusedAsTheCliRefusesIt) {
  ASSERT_EQ(Run("export Support --dir " + Quote(dir_.path())).exit_code, 0);
  const std::string whole = ReadFile(dir_ / "export.studiopkg");
  WriteFile(dir_ / "half.studiopkg", whole.substr(0, whole.size() / 2));
  RunResult cli = Flowrepo(std::string("--user ") + kAdmin + " -C repo import half.studiopkg --json", dir_.path());
  ASSERT_EQ(cli.exit_code, 4) << cli.err;
  Start();
  const json api = Expect(Upload(kMain + "/import?filename=half.studiopkg", whole.substr(0, whole.size() / 2)), 422);
  EXPECT_EQ(api, json::parse(cli.out));
}

TEST_F(ServeTest, OversizedBodiesAre413) {
  Start({"--max-body", "4096", "--max-json-body", "1024"});
  const json big = Expect(Upload(kMain + "/import", std::string(64 * 1024, 'x')), 413);
  EXPECT_EQ(big["error"]["code"], "too-large");
  const json chunky = Expect(Post(kMain + "/drafts", {{"name", std::string(2048, 'a')}}), 413);
  EXPECT_EQ(chunky["error"]["code"], "too-large");
  // The connection and the server are still fine.
  Expect(Get("/api/v1/workspaces"), 200);
}

TEST_F(ServeTest, DraftsRevertCopyAndRoles) {
  Start();
  const std::string drafts = kMain + "/drafts";
  const json started = Expect(Post(drafts, {{"name", "q3"}}, kIntegrator), 201);
  EXPECT_EQ(started["name"], "q3");
  EXPECT_EQ(Expect(Post(drafts, {{"name", "q3"}}, kIntegrator), 409)["error"]["code"], "already-exists");
  EXPECT_EQ(Expect(Get(drafts, kViewer), 200), CliJson("draft list"));
  EXPECT_EQ(Expect(Get(drafts + "/q3", kViewer), 200), CliJson("draft show q3"));
  EXPECT_EQ(Expect(Delete(drafts + "/q3", kIntegrator), 200)["dropped"], "q3");
  Expect(Get(drafts + "/q3", kViewer), 404);

  const json reverted = Expect(Post(kMain + "/flows/kyc-check/revert", {{"version", "v1"}}, kIntegrator), 201);
  EXPECT_EQ(reverted["draft"]["name"], "revert-kyc-check-v1");
  const json copied = Expect(Post(kMain + "/flows/kyc-check/copy", {{"new_name", "KYC Check EU"}}, kIntegrator), 201);
  EXPECT_EQ(copied["flows"], json({"kyc-check-eu"}));
  ASSERT_EQ(Run("workspace create prod --from main").exit_code, 0);
  const json promoted = Expect(
      Post(kMain + "/flows/nightly-report/copy", {{"to_workspace", "prod"}, {"override", "nightly-report"}}), 201);
  EXPECT_EQ(promoted["workspace"], "prod");

  const std::string roles = kMain + "/roles";
  EXPECT_EQ(Expect(Get(roles, kViewer), 200), CliJson("role list"));
  const json granted = Expect(Post(roles, {{"user", "olga@example.com"}, {"role", "viewer"}}), 200);
  EXPECT_EQ(granted["changed"], true);
  EXPECT_EQ(Expect(Delete(roles + "/olga@example.com"), 200)["changed"], true);
  EXPECT_EQ(Expect(Post("/api/v1/workspaces", {{"name", "dev"}}), 201)["name"], "dev");
}

TEST_F(ServeTest, MissingWrongAndRevokedTokensAre401) {
  Start();
  auto c = Client();
  json j = Expect(c.Get("/api/v1/workspaces"), 401);
  EXPECT_EQ(j["error"]["code"], "unauthenticated");
  j = Expect(c.Get("/api/v1/workspaces", {{"Authorization", "Bearer frt_0000"}}), 401);
  EXPECT_EQ(j["error"]["code"], "unauthenticated");
  j = Expect(c.Get("/api/v1/workspaces", {{"Authorization", "Basic YTpi"}}), 401);
  // A write without a token reads (and drops) its body, writes nothing.
  const std::string refs = RefsSnapshot(repo_);
  Expect(c.Post((kMain + "/drafts").c_str(), json{{"name", "x"}}.dump(), "application/json"), 401);
  EXPECT_EQ(RefsSnapshot(repo_), refs);
  Expect(Get("/api/v1/workspaces", kViewer), 200);
  ASSERT_EQ(Run(std::string("serve token revoke ") + kViewer).exit_code, 0);
  Expect(Get("/api/v1/workspaces", kViewer), 401);
}

TEST_F(ServeTest, ViewerIsForbiddenEveryWrite) {
  ASSERT_EQ(Run("export Support --dir " + Quote(dir_.path())).exit_code, 0);
  const std::string package = ReadFile(dir_ / "export.studiopkg");
  Start();
  const std::string refs = RefsSnapshot(repo_);
  struct Write {
    std::string method, path;
    json body;
  };
  const std::vector<Write> writes = {
      {"POST", kMain + "/export", {{"all", true}}},
      {"GET", kMain + "/flows/kyc-check/export", nullptr},
      {"POST", kMain + "/import?mode=as-new", nullptr},
      {"POST", kMain + "/flows/kyc-check/copy", {{"new_name", "Copy"}}},
      {"POST", kMain + "/flows/kyc-check/copy", {{"to_workspace", "main"}, {"new_name", "Copy"}}},
      {"POST", kMain + "/drafts", {{"name", "d"}}},
      {"DELETE", kMain + "/drafts/second", nullptr},
      {"POST", kMain + "/drafts/second/bind", {{"types", {{"oauth2", "x"}}}}},
      {"POST", kMain + "/drafts/second/publish", {{"note", "n"}}},
      {"POST", kMain + "/flows/kyc-check/revert", {{"version", 1}}},
      {"POST", kMain + "/roles", {{"user", kViewer}, {"role", "admin"}}},
      {"DELETE", kMain + "/roles/" + std::string(kIntegrator), nullptr},
      {"POST", "/api/v1/workspaces", {{"name", "mine"}}},
  };
  for (const auto& w : writes) {
    SCOPED_TRACE(w.method + " " + w.path);
    httplib::Result r = w.method == "GET"      ? Get(w.path, kViewer)
                        : w.method == "DELETE" ? Delete(w.path, kViewer)
                        : w.body.is_null()     ? Upload(w.path, package, kViewer)
                                               : Post(w.path, w.body, kViewer);
    const json j = Expect(r, 403);
    EXPECT_EQ(j["error"]["code"], "permission-denied");
    EXPECT_NE(j["error"]["message"].get<std::string>().find("user 'vera@example.com' needs role"), std::string::npos)
        << j.dump();
  }
  EXPECT_EQ(RefsSnapshot(repo_), refs);
}

TEST_F(ServeTest, HostilePathParametersAreRefused) {
  Start();
  const json doc = Expect(Client().Get("/api/v1/openapi.json"), 200);
  const std::vector<std::string> hostile = {
      "..", "%2e%2e", "%2E%2E%2F..", "a%2Fb", "a%00b", "%0a", std::string(300, 'a'), "A", "-x", "drafts"};
  const std::string refs = RefsSnapshot(repo_);
  int checked = 0;
  for (const auto& [path, methods] : doc["paths"].items()) {
    for (const auto& [method, op] : methods.items()) {
      for (const auto& param : op["parameters"]) {
        if (param["in"] != "path") continue;
        for (const auto& bad : hostile) {
          std::string url = path;
          for (const auto& other : op["parameters"]) {
            if (other["in"] != "path") continue;
            const std::string name = other["name"];
            const std::string value = name == param["name"] ? bad
                                      : name == "flow"      ? "kyc-check"
                                      : name == "draft"     ? "second"
                                      : name == "user"      ? kViewer
                                                            : "main";
            url.replace(url.find("{" + name + "}"), name.size() + 2, value);
          }
          SCOPED_TRACE(method + " " + url);
          auto c = Client();
          httplib::Result r = method == "get"      ? c.Get(url.c_str(), As(kAdmin))
                              : method == "delete" ? c.Delete(url.c_str(), As(kAdmin))
                                                   : c.Post(url.c_str(), As(kAdmin), "{}", "application/json");
          ASSERT_TRUE(r);
          EXPECT_TRUE(r->status == 400 || r->status == 404) << r->status << " " << r->body;
          EXPECT_FALSE(json::parse(r->body, nullptr, false).is_discarded()) << r->body;
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 150);
  EXPECT_EQ(RefsSnapshot(repo_), refs);
}

TEST_F(ServeTest, OpenApiDocumentListsEveryRouteAndEveryRouteAnswers) {
  Start();
  const json doc = Expect(Client().Get("/api/v1/openapi.json"), 200);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  // The API of docs/server.md, route for route.
  const std::set<std::string> documented = {
      "GET /api/v1/workspaces",
      "POST /api/v1/workspaces",
      "GET /api/v1/workspaces/{ws}/tree",
      "GET /api/v1/workspaces/{ws}/flows/{flow}",
      "GET /api/v1/workspaces/{ws}/flows/{flow}/history",
      "GET /api/v1/workspaces/{ws}/flows/{flow}/diff",
      "GET /api/v1/workspaces/{ws}/flows/{flow}/export",
      "POST /api/v1/workspaces/{ws}/flows/{flow}/copy",
      "POST /api/v1/workspaces/{ws}/flows/{flow}/revert",
      "POST /api/v1/workspaces/{ws}/export",
      "POST /api/v1/workspaces/{ws}/import",
      "GET /api/v1/workspaces/{ws}/drafts",
      "POST /api/v1/workspaces/{ws}/drafts",
      "GET /api/v1/workspaces/{ws}/drafts/{draft}",
      "DELETE /api/v1/workspaces/{ws}/drafts/{draft}",
      "POST /api/v1/workspaces/{ws}/drafts/{draft}/bind",
      "POST /api/v1/workspaces/{ws}/drafts/{draft}/publish",
      "GET /api/v1/workspaces/{ws}/roles",
      "POST /api/v1/workspaces/{ws}/roles",
      "DELETE /api/v1/workspaces/{ws}/roles/{user}",
      "GET /api/v1/openapi.json",
      // The web page's (docs/server.md, "Web page").
      "POST /api/v1/session",
      "GET /api/v1/session",
      "DELETE /api/v1/session",
      "GET /api/v1/workspaces/{ws}/access",
      "POST /api/v1/workspaces/{ws}/export/plan",
      "POST /api/v1/workspaces/{ws}/import/inspect",
  };
  std::set<std::string> listed;
  for (const auto& [path, methods] : doc["paths"].items()) {
    for (const auto& [method, op] : methods.items()) {
      std::string upper = method;
      for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      listed.insert(upper + " " + path);
      std::string url = path;
      for (const auto& [name, value] : std::map<std::string, std::string>{
               {"ws", "main"}, {"flow", "kyc-check"}, {"draft", "second"}, {"user", kViewer}}) {
        if (auto at = url.find("{" + name + "}"); at != std::string::npos) url.replace(at, name.size() + 2, value);
      }
      SCOPED_TRACE(upper + " " + url);
      auto c = Client();
      httplib::Result r = method == "get"      ? c.Get(url.c_str(), As(kViewer))
                          : method == "delete" ? c.Delete(url.c_str(), As(kViewer))
                                               : c.Post(url.c_str(), As(kViewer), "{}", "application/json");
      ASSERT_TRUE(r);
      EXPECT_EQ(r->body.find("no such route"), std::string::npos) << r->body;
    }
  }
  EXPECT_EQ(listed, documented);
  const json none = Expect(Get("/api/v1/nothing-here"), 404);
  EXPECT_EQ(none["error"]["message"], "no such route: GET /api/v1/nothing-here");
}

TEST_F(ServeTest, ConcurrentClientsAndTheCliLoseNothing) {
  ASSERT_EQ(Run("flow new cli-made --name 'CLI Made' --draft cli").exit_code, 0);
  Start({"--threads", "4"});
  constexpr int kClients = 4;
  std::vector<std::thread> clients;
  std::vector<int> copied(kClients, 0), published(kClients, 0);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      const std::string name = "Copy " + std::to_string(i);
      auto c = Post(kMain + "/flows/faq-answerer/copy", {{"new_name", name}}, kIntegrator);
      copied[i] = c ? c->status : -1;
      auto p = Post(kMain + "/drafts/copy-copy-" + std::to_string(i) + "/publish", {{"note", name}}, kIntegrator);
      published[i] = p ? p->status : -1;
    });
  }
  // Meanwhile, the command line publishes too.
  RunResult cli = Run("publish --draft cli -m 'from the cli'");
  for (auto& t : clients) t.join();
  EXPECT_TRUE(cli.exit_code == 0 || cli.exit_code == 5) << cli.err;

  // Every write either happened or was refused as a conflict with its draft
  // kept: nothing acknowledged is lost, nothing refused is gone.
  std::set<std::string> ids;
  for (const auto& f : CliJson("flow list")) ids.insert(f["id"]);
  const std::string refs = RefsSnapshot(repo_);
  for (int i = 0; i < kClients; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(copied[i], 201);
    EXPECT_TRUE(published[i] == 200 || published[i] == 409) << published[i];
    const std::string id = "copy-" + std::to_string(i);
    const bool draft_kept = refs.find("refs/heads/drafts/main/copy-" + id + " ") != std::string::npos;
    EXPECT_EQ(ids.count(id), published[i] == 200 ? 1u : 0u);
    EXPECT_EQ(draft_kept, published[i] != 200);
  }
  EXPECT_EQ(ids.count("cli-made"), cli.exit_code == 0 ? 1u : 0u);
  RunResult check = Run("check");
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  testing::ExpectFsckClean(repo_);
}

// Slow clients hold a connection each, never a worker: requests of other
// clients go on at full speed with every worker's worth of them connected.
TEST_F(ServeTest, SlowClientsDoNotHoldWorkers) {
  Start({"--threads", "4"});
  SlowClients slow(server_->port(), 4, std::chrono::milliseconds(1000));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // all four connected and sending
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) Expect(Get("/api/v1/workspaces", kViewer), 200);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(slow.cut(), 0);  // they were still there, within their header time
}

// However fast the bytes come, a request's headers must be complete within
// --header-timeout of its first byte; then the connection is closed.
TEST_F(ServeTest, HeadersSlowerThanTheHeaderTimeoutAreCutOff) {
  Start({"--header-timeout", "1"});
  RawConnection c(server_->port());
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {  // a byte every 100 ms: never a read timeout
    if (!c.Send("X")) break;
    c.Receive(std::chrono::milliseconds(100), closed);
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(closed);
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::milliseconds(3000));
  Expect(Get("/api/v1/workspaces", kViewer), 200);  // others are served meanwhile and after
}

// Connections over --max-connections are answered 503 at once, without
// their request being read; a freed slot serves again.
TEST_F(ServeTest, ConnectionsOverTheLimitAre503) {
  Start({"--max-connections", "2"});
  auto first = std::make_unique<RawConnection>(server_->port());
  RawConnection second(server_->port());
  ASSERT_TRUE(first->Send("GET /api/v1/workspaces HTTP/1.1\r\n"));  // and no more yet
  ASSERT_TRUE(second.Send("GET /api/v1/workspaces HTTP/1.1\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  const json refused = Expect(Get("/api/v1/workspaces", kViewer), 503);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(refused["error"]["code"], "unavailable");
  EXPECT_EQ(refused["error"]["message"], "the server has 2 connections open, its --max-connections; try again");
  // The held ones are still served when they finish their request.
  ASSERT_TRUE(second.Send("Host: x\r\nAuthorization: Bearer " + tokens_[kViewer] + "\r\n\r\n"));
  bool closed = false;
  const std::string answer = second.Receive(std::chrono::milliseconds(1000), closed);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  first.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Expect(Get("/api/v1/workspaces", kViewer), 200);
}

// A user named by a trusted proxy's header acts with their own roles, no
// token needed; the proxy's word wins over a token it passes on.
TEST_F(ServeTest, TrustedProxyHeaderActsAsItsUser) {
  Start({"--trust-header", "X-Remote-User", "--trust-proxy", "192.0.2.1, 127.0.0.1", "--trust-proxy", "::1"});
  const auto as = [](const std::string& user) { return httplib::Headers{{"X-Remote-User", user}}; };
  Expect(Client().Get("/api/v1/workspaces", as(kViewer)), 200);
  const std::string draft = json{{"name", "by-proxy"}}.dump();
  const json denied = Expect(Client().Post((kMain + "/drafts").c_str(), as(kViewer), draft, "application/json"), 403);
  EXPECT_EQ(denied["error"]["message"],
            "user 'vera@example.com' needs role 'integrator' in workspace 'main' (has 'viewer')");
  Expect(Client().Post((kMain + "/drafts").c_str(), as(kIntegrator), draft, "application/json"), 201);
  httplib::Headers both = As(kViewer);
  both.emplace("X-Remote-User", kIntegrator);
  Expect(Client().Post((kMain + "/drafts").c_str(), both, json{{"name", "b"}}.dump(), "application/json"), 201);
  // Someone unknown to the workspace has no role; the header twice is no name.
  Expect(Client().Get((kMain + "/tree").c_str(), as("mallory@example.com")), 403);
  httplib::Headers twice = {{"X-Remote-User", kAdmin}, {"X-Remote-User", kViewer}};
  Expect(Client().Get("/api/v1/workspaces", twice), 401);
}

// From an address not trusted, the header is ignored: without a token the
// request is unauthenticated, with one it is the token's user, never the
// header's.
TEST_F(ServeTest, ProxyHeaderFromAnUntrustedAddressIsIgnored) {
  Start({"--trust-header", "X-Remote-User", "--trust-proxy", "192.0.2.1"});
  const json alone = Expect(Client().Get("/api/v1/workspaces", {{"X-Remote-User", kAdmin}}), 401);
  EXPECT_EQ(alone["error"]["message"], "an API token is needed: Authorization: Bearer TOKEN");
  httplib::Headers both = As(kViewer);
  both.emplace("X-Remote-User", kAdmin);
  const json denied =
      Expect(Client().Post((kMain + "/drafts").c_str(), both, json{{"name", "x"}}.dump(), "application/json"), 403);
  EXPECT_EQ(denied["error"]["message"],
            "user 'vera@example.com' needs role 'integrator' in workspace 'main' (has 'viewer')");
  RunResult bad = Run("serve --listen 127.0.0.1:0 --trust-header X-Remote-User --trust-proxy 10.0.0.300");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("invalid --trust-proxy address '10.0.0.300'"), std::string::npos) << bad.err;
  bad = Run("serve --listen 127.0.0.1:0 --trust-header X-Remote-User");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("--trust-header and --trust-proxy go together"), std::string::npos) << bad.err;
}

// The load benchmark's mix, briefly: 8 clients reading, exporting and
// importing onto drafts of their own at once get no error, and every
// import acknowledged is on its draft at the end (bench/load_driver.h).
TEST_F(ServeTest, LoadOfEightClientsHasNoErrorAndLosesNoWrite) {
  Start({"--threads", "4"});
  bench::LoadOptions options;
  options.port = server_->port();
  options.token = tokens_[kIntegrator];
  options.clients = 8;
  options.duration = std::chrono::seconds(5);
  const bench::LoadReport report = bench::RunLoad(options);
  EXPECT_EQ(report.errors(), 0) << bench::ReportTable(report, report);
  for (const auto& kind : report.kinds) EXPECT_GT(kind.requests, 0) << kind.name;
  EXPECT_GT(report.imports_checked, 0);
  EXPECT_EQ(report.drafts, 8);
  EXPECT_TRUE(report.lost.empty()) << bench::ReportTable(report, report);
  RunResult check = Run("check");
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(ServeTest, TokensAreStoredHashedAndOnlyAdminsManageThem) {
  const std::string store = repo_ + "/.git/flowrepo/serve-tokens.json";
  struct stat st {};
  ASSERT_EQ(stat(store.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string text = ReadFile(store);
  for (const auto& [user, token] : tokens_) EXPECT_EQ(text.find(token), std::string::npos);
  const json listed = CliJson("serve token list");
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed.dump().find("frt_"), std::string::npos);
  RunResult denied = Run("serve token add mallory@example.com", kIntegrator);
  EXPECT_EQ(denied.exit_code, 6) << denied.err;
  EXPECT_EQ(Run("serve token revoke nobody@example.com").exit_code, 3);
  // Two admins adding at once both land.
  std::thread other([&] { AddToken("p1@example.com"); });
  AddToken("p2@example.com");
  other.join();
  EXPECT_EQ(CliJson("serve token list").size(), 5u);
}

TEST_F(ServeTest, ServesHttpsWithTheGivenCertificate) {
  RunResult made = testing::Shell(
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=127.0.0.1"
      " -addext subjectAltName=IP:127.0.0.1",
      dir_.path());
  ASSERT_EQ(made.exit_code, 0) << made.err;
  Start({"--tls-cert", dir_ / "cert.pem", "--tls-key", dir_ / "key.pem"});
  httplib::SSLClient c("127.0.0.1", server_->port());
  c.set_ca_cert_path((dir_ / "cert.pem").c_str());
  c.enable_server_certificate_verification(true);
  Expect(c.Get("/api/v1/workspaces", As(kViewer)), 200);
  // Plain HTTP on the TLS port gets no answer.
  EXPECT_FALSE(Client().Get("/api/v1/workspaces", As(kViewer)));
}

TEST_F(ServeTest, UnusableTlsFilesStopTheServerWithAnError) {
  WriteFile(dir_ / "cert.pem", "not a certificate");
  RunResult r = Run("serve --listen 127.0.0.1:0 --tls-cert " + Quote(dir_ / "cert.pem") + " --tls-key " +
                    Quote(dir_ / "cert.pem") + " --json");
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_NE(r.err.find("cannot use TLS certificate"), std::string::npos) << r.err;
  r = Run("serve --listen 127.0.0.1:99999");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("invalid --listen '127.0.0.1:99999'"), std::string::npos) << r.err;
}

TEST_F(ServeTest, StopsCleanlyOnSigterm) {
  Start();
  Expect(Get("/api/v1/workspaces"), 200);
  EXPECT_EQ(server_->Stop(), 0) << ReadFile(dir_ / "serve.log");
  EXPECT_NE(ReadFile(dir_ / "serve.log").find("GET /api/v1/workspaces 200"), std::string::npos);
}

}  // namespace
}  // namespace flowrepo
