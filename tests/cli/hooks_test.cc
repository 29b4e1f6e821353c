// End-to-end: validate, roles and hooks through the flowrepo binary and
// real git: commits blocked by the installed pre-commit hook (invalid flow,
// planted secret, tampered package), the pre-commit framework running
// .pre-commit-hooks.yaml, and pushes to a bare repository over the local
// file system judged by the installed pre-receive hook.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::Flowrepo;
using testing::Quote;
using testing::RunResult;
using testing::Shell;
using testing::TempDir;

constexpr char kAlice[] = "alice@example.com";

// A GitHub-token-shaped canary, made at run time (never in the repository).
std::string Canary() {
  static std::mt19937 rng(std::random_device{}());
  const std::string alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out =
      "gh"
      "p_";
  for (int i = 0; i < 36; ++i) out += alnum[rng() % alnum.size()];
  return out;
}

std::string Fixtures() { return testing::SourceDir() + "/fixtures"; }
std::string BinaryDir() {
  std::string bin = FLOWREPO_BINARY;
  return bin.substr(0, bin.rfind('/'));
}

class HooksTest : public ::testing::Test {
 protected:
  RunResult Run(const std::string& args, const std::string& user = kAlice) {
    return Flowrepo("--user " + user + " " + args, repo_);
  }
  // A work tree repository with the fixtures published and the pre-commit
  // hook installed.
  void MakeWorkTree() {
    repo_ = dir_ / "repo";
    ASSERT_EQ(Flowrepo("--user alice@example.com init repo", dir_.path()).exit_code, 0);
    ASSERT_EQ(Run("flow put --draft initial " + Quote(Fixtures() + "/flows")).exit_code, 0);
    ASSERT_EQ(Run("publish --draft initial -m first").exit_code, 0);
    RunResult r = Run("hooks install");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "Installed " + repo_ + "/.git/hooks/pre-commit\n");
    ASSERT_EQ(Shell("git switch -qc drafts/main/work", repo_).exit_code, 0);
  }
  std::string Head() { return Shell("git rev-parse HEAD", repo_).out; }
  // git shows a hook's output on stderr; both streams are kept in out.
  RunResult Commit(const std::string& message) {
    RunResult r = Shell("git add -A && git commit -qm " + Quote(message) + " 2>&1", repo_);
    return r;
  }
  std::string Flow(const std::string& rel) { return repo_ + "/flows/Finance/Retail/banking-assistant/" + rel; }

  TempDir dir_;
  std::string repo_;
};

TEST_F(HooksTest, ValidateCommandExitStatusAndJson) {
  MakeWorkTree();
  RunResult r = Run("validate");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok: 6 flow(s) checked in 'main' at "), std::string::npos) << r.out;
  std::string def = testing::ReadFile(Flow("flow_definition.json"));
  auto j = nlohmann::json::parse(def);
  j["edges"].push_back({{"from", "start"}, {"to", "ghost"}});
  testing::WriteFile(Flow("flow_definition.json"), j.dump(2));
  r = Run("validate .");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            "flows/Finance/Retail/banking-assistant/flow_definition.json:/edges/7/to: edge to 'ghost' "
            "is not a node of this flow [dangling-edge]\n"
            "1 problem(s) in folder '.' for workspace 'main' (6 flow(s) checked)\n");
  r = Run("validate . --json");
  EXPECT_EQ(r.exit_code, 1);
  auto out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["ok"], false);
  EXPECT_EQ(out["problems"][0]["rule"], "dangling-edge");
  EXPECT_EQ(out["problems"][0]["pointer"], "/edges/7/to");
  EXPECT_EQ(Run("validate no-such-ref").exit_code, 3);
  EXPECT_EQ(Run("validate --staged somewhere").exit_code, 2);
}

TEST_F(HooksTest, PreCommitBlocksInvalidFlow) {
  MakeWorkTree();
  std::string head = Head();
  auto j = nlohmann::json::parse(testing::ReadFile(Flow("flow_definition.json")));
  j["nodes"][2]["id"] = "kyc";  // duplicate node id
  testing::WriteFile(Flow("flow_definition.json"), j.dump(2));
  RunResult r = Commit("break it");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("flows/Finance/Retail/banking-assistant/flow_definition.json:/nodes/2/id: "
                       "duplicate node id 'kyc' (also /nodes/1) [duplicate-node-id]"),
            std::string::npos)
      << r.out << r.err;
  EXPECT_NE(r.out.find("problem(s) in staged changes (1 flow(s) checked)"), std::string::npos) << r.out;
  EXPECT_EQ(Head(), head);
}

// A split index (core.splitIndex), which flowrepo reads through git, is
// checked all the same, in the temporary index a commit hands its hook.
TEST_F(HooksTest, PreCommitChecksASplitIndex) {
  MakeWorkTree();
  ASSERT_EQ(Shell("git config core.splitIndex true && git update-index --split-index", repo_).exit_code, 0);
  std::string head = Head();
  auto j = nlohmann::json::parse(testing::ReadFile(Flow("flow_definition.json")));
  const nlohmann::json id = j["nodes"][2]["id"];
  j["nodes"][2]["id"] = "kyc";
  testing::WriteFile(Flow("flow_definition.json"), j.dump(2));
  RunResult r = Commit("break it");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("[duplicate-node-id]"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(Head(), head);
  j["nodes"][2]["id"] = id;
  j["nodes"][2]["name"] = "renamed";
  testing::WriteFile(Flow("flow_definition.json"), j.dump(2));
  r = Commit("fix it");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(Head(), head);
}

TEST_F(HooksTest, PreCommitBlocksPlantedSecretWithoutPrintingIt) {
  MakeWorkTree();
  std::string head = Head();
  std::string canary = Canary();
  auto j = nlohmann::json::parse(testing::ReadFile(Flow("flow_definition.json")));
  j["nodes"][3]["config"]["headers"]["X-Api-Key"] = canary;
  testing::WriteFile(Flow("flow_definition.json"), j.dump(2));
  RunResult r = Commit("add key");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("flows/Finance/Retail/banking-assistant/flow_definition.json:/nodes/3/config/"
                       "headers/X-Api-Key: plain-text secret (GitHub personal access token); store a "
                       "secret reference instead [secret/github-pat]"),
            std::string::npos)
      << r.out << r.err;
  EXPECT_EQ(r.out.find(canary), std::string::npos);
  EXPECT_EQ(r.err.find(canary), std::string::npos);
  EXPECT_EQ(Head(), head);
  // A reference instead of the value passes.
  j["nodes"][3]["config"]["headers"]["X-Api-Key"] = "{{secret:core-banking-key}}";
  testing::WriteFile(Flow("flow_definition.json"), j.dump(2));
  r = Commit("use a reference");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(Head(), head);
}

TEST_F(HooksTest, PreCommitBlocksTamperedPackage) {
  MakeWorkTree();
  RunResult e = Run("export Finance -o " + Quote(dir_ / "finance.studiopkg"));
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(Run("validate " + Quote(dir_ / "finance.studiopkg")).exit_code, 0);
  EXPECT_EQ(Run("validate " + Quote(dir_ / "finance.studiopkg") + " --reproducible").exit_code, 0);
  // Tamper: change one flow inside the package, zip it again.
  RunResult z = Shell(
      "mkdir -p t repo/packages && cd t && unzip -q ../finance.studiopkg && "
      "sed -i 's/\"temperature\": 0.2/\"temperature\": 0.9/' "
      "flows/Finance/Retail/banking-assistant/flow_definition.json && "
      "zip -q -r -X -D ../repo/packages/finance.studiopkg .",
      dir_.path());
  ASSERT_EQ(z.exit_code, 0) << z.err;
  RunResult v = Run("validate packages/finance.studiopkg");
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.out.find("[package/sha256]"), std::string::npos) << v.out;
  std::string head = Head();
  RunResult r = Commit("archive the package");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("packages/finance.studiopkg"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("sha256 does not match manifest.json [package/sha256]"), std::string::npos) << r.out;
  EXPECT_EQ(Head(), head);
}

TEST_F(HooksTest, PreCommitFrameworkUsesPreCommitHooksYaml) {
  if (Shell("command -v pre-commit").exit_code != 0) {
    GTEST_SKIP() << "pre-commit is not installed (.ci/install-deps installs it)";
  }
  // The hook repository: .pre-commit-hooks.yaml of this source tree.
  std::string hook_repo = dir_ / "hook-repo";
  RunResult r = Shell("git init -q " + Quote(hook_repo) + " && cp " +
                      Quote(testing::SourceDir() + "/.pre-commit-hooks.yaml") + " " + Quote(hook_repo) + " && cd " +
                      Quote(hook_repo) + " && git add . && git commit -qm hooks && git rev-parse HEAD");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string rev = r.out.substr(0, 40);
  MakeWorkTree();
  Shell("rm -f .git/hooks/pre-commit", repo_);
  testing::WriteFile(repo_ + "/.pre-commit-config.yaml", "repos:\n  - repo: " + hook_repo + "\n    rev: " + rev +
                                                             "\n    hooks:\n      - id: flowrepo-validate\n");
  std::string env = "PRE_COMMIT_HOME=" + Quote(dir_ / "pre-commit-home") + " PATH=" + Quote(BinaryDir()) + ":$PATH ";
  r = Shell(env + "pre-commit install", repo_);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string head = Head();
  std::string canary = Canary();
  auto j = nlohmann::json::parse(testing::ReadFile(Flow("env_variables.json")));
  j["variables"].push_back({{"name", "GITHUB_TOKEN"}, {"value", canary}});
  testing::WriteFile(Flow("env_variables.json"), j.dump(2));
  r = Shell(env + "git add -A && " + env + "git commit -qm leak", repo_);
  EXPECT_NE(r.exit_code, 0);
  std::string all = r.out + r.err;
  EXPECT_NE(all.find("flowrepo validate (flows, packages, secrets)"), std::string::npos) << all;
  EXPECT_NE(all.find("env_variables.json:/variables/3/value: plain-text secret (GitHub personal access "
                     "token); store a secret reference instead [secret/github-pat]"),
            std::string::npos)
      << all;
  EXPECT_EQ(all.find(canary), std::string::npos);
  EXPECT_EQ(Head(), head);
  j["variables"].back() = {{"name", "GITHUB_TOKEN"}, {"secret", true}, {"ref", "vault:ci/github"}};
  testing::WriteFile(Flow("env_variables.json"), j.dump(2));
  r = Shell(env + "git add -A && " + env + "git commit -qm reference", repo_);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(HooksTest, InstallRefusesToReplaceAForeignHook) {
  MakeWorkTree();
  testing::WriteFile(repo_ + "/.git/hooks/pre-commit", "#!/bin/sh\necho mine\n");
  RunResult r = Run("hooks install");
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(r.err, "flowrepo: error: hook '" + repo_ + "/.git/hooks/pre-commit' exists; pass --force to replace it\n");
  EXPECT_EQ(Run("hooks install --force").exit_code, 0);
}

// A shared bare repository with pre-receive, and a clone per user.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = dir_ / "server.git";
    ASSERT_EQ(Flowrepo("--user alice@example.com init --bare " + Quote(server_), dir_.path()).exit_code, 0);
    ASSERT_EQ(Admin("flow put --draft initial " + Quote(Fixtures() + "/flows")).exit_code, 0);
    ASSERT_EQ(Admin("publish --draft initial -m first").exit_code, 0);
    ASSERT_EQ(Admin("role grant bob@example.com integrator").exit_code, 0);
    ASSERT_EQ(Admin("role grant vic@example.com viewer").exit_code, 0);
    RunResult r = Admin("hooks install --server");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Pushes here go over the file system: the pushing process names its
    // user, which this server is told to believe.
    ASSERT_EQ(Shell("git config flowrepo.trustUserEnvironment true", server_).exit_code, 0);
    clone_ = dir_ / "clone";
    ASSERT_EQ(Shell("git clone -q " + Quote(server_) + " " + Quote(clone_)).exit_code, 0);
  }
  RunResult Admin(const std::string& args) {
    return Flowrepo("--user alice@example.com -C " + Quote(server_) + " " + args);
  }
  RunResult Push(const std::string& user, const std::string& what) {
    return Shell("FLOWREPO_USER=" + user + " git push origin " + what, clone_);
  }
  // Commits a change of the faq flow's temperature on the clone's main.
  void CommitChange(double temperature) {
    std::string file = clone_ + "/flows/Support/Knowledge/faq-answerer/flow_definition.json";
    auto j = nlohmann::json::parse(testing::ReadFile(file));
    j["nodes"][1]["config"]["hyperparameters"]["temperature"] = temperature;
    testing::WriteFile(file, j.dump(2) + "\n");
    ASSERT_EQ(Shell("git commit -qam 'warmer answers'", clone_).exit_code, 0);
  }
  std::string ServerRef(const std::string& ref) { return Shell("git rev-parse " + ref, server_).out; }
  bool ServerHas(const std::string& ref) { return Shell("git rev-parse --verify -q " + ref, server_).exit_code == 0; }
  RunResult Git(const std::string& args) { return Shell("git " + args, clone_); }
  RunResult Bob(const std::string& args) { return Flowrepo("--user bob@example.com -C " + Quote(clone_) + " " + args); }
  // Puts fixture flow \a rel (a folder under fixtures/flows) with a new
  // description onto draft \a draft of the clone, as bob.
  void PutChange(const std::string& draft, const std::string& rel, const std::string& description) {
    const std::string folder = dir_ / ("changes/" + draft + "/" + rel.substr(rel.rfind('/') + 1));
    ASSERT_EQ(
        Shell("mkdir -p " + Quote(folder) + " && cp " + Quote(Fixtures() + "/flows/" + rel) + "/* " + Quote(folder))
            .exit_code,
        0);
    auto app = nlohmann::json::parse(testing::ReadFile(folder + "/app_definition.json"));
    app["description"] = description;
    testing::WriteFile(folder + "/app_definition.json", app.dump(2) + "\n");
    RunResult r = Bob("flow put --draft " + draft + " " + Quote(folder));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Publishes draft \a draft in the clone (commit and tags, not pushed);
  // returns the publish commit.
  std::string PublishInClone(const std::string& draft) {
    RunResult r = Bob("publish --offline --draft " + draft + " -m " + Quote("publish " + draft));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Git("rev-parse main").out.substr(0, 40);
  }
  static constexpr char kFaq[] = "Support/Knowledge/faq-answerer";
  static constexpr char kKyc[] = "Finance/Compliance/kyc-check";

  TempDir dir_;
  std::string server_, clone_;
};

TEST_F(ServerTest, ViewerPushIsRefusedIntegratorPushIsAccepted) {
  CommitChange(0.5);
  std::string before = ServerRef("main");
  RunResult r = Push("vic@example.com", "main");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("remote: flowrepo: refs/heads/main: user 'vic@example.com' needs role "
                       "'integrator' in workspace 'main' (has 'viewer')"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("pre-receive hook declined"), std::string::npos) << r.err;
  EXPECT_EQ(ServerRef("main"), before);
  r = Push("bob@example.com", "main");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ServerRef("main"), before);
  // The identity the transport authenticated wins over one the pusher
  // claims: FLOWREPO_USER names an admin, GL_USERNAME the viewer.
  CommitChange(0.6);
  r = Shell("GL_USERNAME=vic@example.com FLOWREPO_USER=alice@example.com git push origin main", clone_);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("user 'vic@example.com' needs role 'integrator'"), std::string::npos) << r.err;
}

TEST_F(ServerTest, AClaimedUserCountsOnlyWhereTheServerTrustsIt) {
  ASSERT_EQ(Shell("git config flowrepo.trustUserEnvironment false", server_).exit_code, 0);
  CommitChange(0.5);
  std::string before = ServerRef("main");
  RunResult r = Push("alice@example.com", "main");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("user (unknown user) needs role 'integrator'"), std::string::npos) << r.err;
  EXPECT_EQ(ServerRef("main"), before);
  r = Shell("REMOTE_USER=bob@example.com FLOWREPO_USER=vic@example.com git push origin main", clone_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(ServerTest, ABranchGainingSettingsIsCreatingAWorkspace) {
  // An ordinary branch first, then a fast-forward adding settings that name
  // the pusher admin: that creates a workspace, which needs an admin.
  ASSERT_EQ(Shell("git switch -q --orphan prod && "
                  "echo x > README.md && git add README.md && git commit -qm plain",
                  clone_)
                .exit_code,
            0);
  RunResult r = Push("mallory@example.com", "prod");
  ASSERT_EQ(r.exit_code, 0) << r.err;  // not flowrepo's business
  testing::WriteFile(
      clone_ + "/.flowrepo/workspace.json",
      R"({"components":[],"roles":{"mallory@example.com":"admin"},"schema":"flowrepo/workspace@1","topics":[]})");
  ASSERT_EQ(Shell("git add .flowrepo && git commit -qm take-over", clone_).exit_code, 0);
  r = Push("mallory@example.com", "prod");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("creating workspace 'prod' needs the admin role in an existing workspace"), std::string::npos)
      << r.err;
  // Removing the settings of a workspace is refused even for its admin.
  ASSERT_EQ(Shell("git switch -q main && git rm -q .flowrepo/workspace.json && git commit -qm drop", clone_).exit_code,
            0);
  r = Push("alice@example.com", "main");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("a push may not remove .flowrepo/workspace.json"), std::string::npos) << r.err;
  // The configured owner may create workspaces.
  ASSERT_EQ(Shell("git config flowrepo.owner mallory@example.com", server_).exit_code, 0);
  r = Push("mallory@example.com", "prod");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(ServerTest, ASecretAnywhereInThePushedHistoryIsRefused) {
  // Added in one commit, removed in the next, pushed together: the tip is
  // clean but the secret would stay in history for good.
  const std::string token =
      "ghp_"
      "0123456789abcdefghijklmnopqrstuvwxyzAB";
  testing::WriteFile(clone_ + "/NOTES.md", "deploy with " + token + "\n");
  ASSERT_EQ(Shell("git add NOTES.md && git commit -qm notes && git rm -q NOTES.md && "
                  "git commit -qm 'remove notes'",
                  clone_)
                .exit_code,
            0);
  std::string before = ServerRef("main");
  RunResult r = Push("bob@example.com", "main");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("NOTES.md"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("a pushed secret stays in history"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(token), std::string::npos) << "the message shows the secret";
  EXPECT_EQ(ServerRef("main"), before);
  // A file beside a flow's documents, on a draft, is scanned too.
  ASSERT_EQ(Shell("git reset -q --hard origin/main && git switch -q -c drafts/main/creds", clone_).exit_code, 0);
  testing::WriteFile(clone_ + "/flows/Support/ticket-triage/creds.json",
                     "{\"slack\": \"xoxb-"
                     "123456789012-1234567890123-abcdefghijklmnopqrstuvwx\"}\n");
  ASSERT_EQ(Shell("git add -A && git commit -qm creds", clone_).exit_code, 0);
  r = Push("bob@example.com", "drafts/main/creds");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("flows/Support/ticket-triage/creds.json"), std::string::npos) << r.err;
  EXPECT_NE(Shell("git rev-parse --verify -q refs/heads/drafts/main/creds", server_).exit_code, 0);
}

TEST_F(ServerTest, SecretsAndInvalidFlowsAreRefusedOnTheWorkspace) {
  std::string canary = Canary();
  std::string file = clone_ + "/flows/Support/Knowledge/faq-answerer/env_variables.json";
  auto j = nlohmann::json::parse(testing::ReadFile(file));
  j["variables"].push_back({{"name", "TOKEN"}, {"value", canary}});
  testing::WriteFile(file, j.dump(2));
  ASSERT_EQ(Shell("git commit -qam leak", clone_).exit_code, 0);
  RunResult r = Push("bob@example.com", "main");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("[secret/github-pat]"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(canary), std::string::npos);
}

TEST_F(ServerTest, RoleChangesByNonAdminsAreRefused) {
  // Through the CLI on the server...
  RunResult r = Flowrepo("--user bob@example.com -C " + Quote(server_) + " role grant bob@example.com admin");
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_EQ(r.err,
            "flowrepo: error: user 'bob@example.com' needs role 'admin' in workspace 'main' (has "
            "'integrator')\n");
  // ...and by pushing an edited workspace.json.
  std::string file = clone_ + "/.flowrepo/workspace.json";
  auto j = nlohmann::json::parse(testing::ReadFile(file));
  j["roles"]["bob@example.com"] = "admin";
  testing::WriteFile(file, j.dump(2));
  ASSERT_EQ(Shell("git commit -qam 'bob is admin now'", clone_).exit_code, 0);
  r = Push("bob@example.com", "main");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("user 'bob@example.com' needs role 'admin' in workspace 'main' (has 'integrator')"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(Push("alice@example.com", "main").exit_code, 0);
  RunResult list = Admin("role list");
  EXPECT_EQ(list.out, "alice@example.com\tadmin\nbob@example.com\tadmin\nvic@example.com\tviewer\n");
}

TEST_F(ServerTest, ExportRoleChangesByNonAdminsAreRefused) {
  // Letting viewers export is an admin's call, as a role change is.
  std::string file = clone_ + "/.flowrepo/workspace.json";
  auto j = nlohmann::json::parse(testing::ReadFile(file));
  j["export_role"] = "viewer";
  testing::WriteFile(file, j.dump(2));
  ASSERT_EQ(Shell("git commit -qam 'everyone may export'", clone_).exit_code, 0);
  RunResult r = Push("bob@example.com", "main");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("user 'bob@example.com' needs role 'admin' in workspace 'main' (has 'integrator')"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(Flowrepo("--user vic@example.com -C " + Quote(server_) + " export Support -o " + Quote(clone_ + "/s.zip"))
                .exit_code,
            6);
  ASSERT_EQ(Push("alice@example.com", "main").exit_code, 0);
  EXPECT_EQ(Flowrepo("--user vic@example.com -C " + Quote(server_) + " export Support -o " + Quote(clone_ + "/s.zip"))
                .exit_code,
            0);
}

TEST_F(ServerTest, VersionTagsCannotBeMovedOrDeleted) {
  ASSERT_EQ(Shell("git fetch -q --tags origin", clone_).exit_code, 0);
  std::string tag = "main/faq-answerer/v1";
  std::string before = ServerRef("refs/tags/" + tag);
  ASSERT_EQ(Shell("git tag -f -a -m moved " + tag + " HEAD~1", clone_).exit_code, 0);
  RunResult r = Push("alice@example.com", "--force refs/tags/" + tag);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("remote: flowrepo: refs/tags/" + tag + ": version tags are never moved ('" + tag + "' exists)"),
            std::string::npos)
      << r.err;
  r = Push("alice@example.com", ":refs/tags/" + tag);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("version tags are never deleted"), std::string::npos) << r.err;
  EXPECT_EQ(ServerRef("refs/tags/" + tag), before);
  // A forced rewrite of the workspace branch is refused as well.
  r = Shell("git reset -q --hard HEAD~1", clone_);
  r = Push("alice@example.com", "--force main");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("workspace branches only move forward"), std::string::npos) << r.err;
}

// Issue 14: tags for a workspace that does not exist yet, pointing at the
// pusher's own commit, would become its versions once it is created.
TEST_F(ServerTest, VersionTagsOfAWorkspaceThatDoesNotExistAreRefused) {
  ASSERT_EQ(Git("commit -q --allow-empty -m mine").exit_code, 0);
  ASSERT_EQ(Git("tag -a -m v1 staging/banking-assistant/v1 && git tag -a -m v2 staging/banking-assistant/v2").exit_code,
            0);
  RunResult r = Shell("git push origin refs/tags/staging/banking-assistant/v1 refs/tags/staging/banking-assistant/v2",
                      clone_);  // no identity at all
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("remote: flowrepo: refs/tags/staging/banking-assistant/v2: 'staging/banking-assistant/v2' is "
                       "named like a version tag of workspace 'staging', which does not exist and is not created by "
                       "this push; a version tag is pushed with or after the publish commit that names it"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(ServerHas("refs/tags/staging/banking-assistant/v1"));
  // Not even an admin may reserve them.
  EXPECT_NE(Push("alice@example.com", "refs/tags/staging/banking-assistant/v1").exit_code, 0);
  EXPECT_FALSE(ServerHas("refs/tags/staging/banking-assistant/v1"));
  // Tags that are not named like versions are not flowrepo's.
  ASSERT_EQ(Git("tag release-2024.05 && git tag Team/Flow/v2").exit_code, 0);
  r = Shell("git push origin refs/tags/release-2024.05 refs/tags/Team/Flow/v2", clone_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Tags squatted before the server checked them: flowrepo reads past them,
// and an admin of the workspace may delete them (a backed version stays).
TEST_F(ServerTest, UnbackedTagsAreIgnoredAndAnAdminMayDeleteThem) {
  RunResult forged = Shell("git commit-tree main^{tree} -p main -m evil", server_);
  ASSERT_EQ(forged.exit_code, 0) << forged.err;
  const std::string evil = forged.out.substr(0, 40);
  ASSERT_EQ(Shell("git tag -a -m v1 staging/banking-assistant/v1 " + evil +
                      " && git tag -a -m v2 "
                      "staging/banking-assistant/v2 " +
                      evil,
                  server_)
                .exit_code,
            0);
  RunResult r = Push("alice@example.com", "main:refs/heads/staging");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto h = nlohmann::json::parse(Admin("-w staging history banking-assistant --json").out);
  EXPECT_EQ(h["versions"].size(), 0u);
  EXPECT_EQ(h["ignored_tags"], nlohmann::json({"staging/banking-assistant/v1", "staging/banking-assistant/v2"}));
  r = Admin("-w staging export banking-assistant --version 2 -o " + Quote(dir_ / "x.zip"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err,
            "flowrepo: error: flow 'banking-assistant' has no version v2 in workspace 'staging' (tag "
            "'staging/banking-assistant/v2' is not backed by a publish commit; see 'flowrepo check')\n");

  r = Push("bob@example.com", ":refs/tags/staging/banking-assistant/v2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("remote: flowrepo: refs/tags/staging/banking-assistant/v2: user 'bob@example.com' needs role "
                       "'admin' in workspace 'staging' (has 'integrator')"),
            std::string::npos)
      << r.err;
  r = Push("alice@example.com", ":refs/tags/staging/banking-assistant/v1 :refs/tags/staging/banking-assistant/v2");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(ServerHas("refs/tags/staging/banking-assistant/v1"));
  r = Push("alice@example.com", ":refs/tags/main/banking-assistant/v1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("version tags are never deleted ('main/banking-assistant/v1' exists)"), std::string::npos)
      << r.err;
}

// Issue 14: an integrator's tag at a commit that publishes nothing (here
// one holding a token and a duplicate node id) is no version.
TEST_F(ServerTest, TagAtACommitThatPublishesNothingIsRefused) {
  const std::string token =
      "ghp_"
      "0123456789abcdefghijklmnopqrstuvwxyzAB";
  std::string file = clone_ + "/flows/Finance/Compliance/kyc-check/flow_definition.json";
  auto j = nlohmann::json::parse(testing::ReadFile(file));
  j["nodes"][2]["id"] = j["nodes"][1]["id"];
  j["nodes"][1]["config"]["headers"]["Authorization"] = "Bearer " + token;
  testing::WriteFile(file, j.dump(2));
  ASSERT_EQ(Git("switch -q -c side && git commit -qam 'v7' && git tag -a -m v7 main/kyc-check/v7").exit_code, 0);
  const std::string commit = Git("rev-parse --short HEAD").out.substr(0, 7);
  RunResult r = Push("bob@example.com", "refs/tags/main/kyc-check/v7");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("remote: flowrepo: refs/tags/main/kyc-check/v7: 'main/kyc-check/v7' points at " + commit +
                       ", which is no publish commit of workspace 'main'; a version tag must point at the publish "
                       "commit that names it"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find(token), std::string::npos);
  EXPECT_FALSE(ServerHas("refs/tags/main/kyc-check/v7"));
  // The same commit with publish trailers, but on no branch of the server.
  ASSERT_EQ(Git("commit -q --amend -m 'Publish kyc-check v2' -m \"$(printf 'Flowrepo-Workspace: main\\n"
                "Flowrepo-Version: kyc-check v2')\"")
                .exit_code,
            0);
  r = Push("bob@example.com", "HEAD:refs/tags/main/kyc-check/v2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("a publish of 'kyc-check v2' that workspace 'main' does not contain (push the branch with the "
                       "tag)"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(ServerHas("refs/tags/main/kyc-check/v2"));
}

// A publish commit backs the versions its trailers name, nothing else; a
// tag may follow its branch in a later push.
TEST_F(ServerTest, TagMustNameItsFlowAndNumberAtThePublish) {
  PutChange("d", kFaq, "two");
  const std::string publish = PublishInClone("d");
  RunResult r = Push("bob@example.com", "main");  // the branch alone
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string at = "points at " + publish.substr(0, 7);
  r = Push("bob@example.com", publish + ":refs/tags/main/banking-assistant/v2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("'main/banking-assistant/v2' " + at + ", a publish that does not name 'banking-assistant v2'"),
            std::string::npos)
      << r.err;
  r = Push("bob@example.com", publish + ":refs/tags/main/faq-answerer/v3");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("'main/faq-answerer/v3' " + at + ", a publish that does not name 'faq-answerer v3'"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(ServerHas("refs/tags/main/banking-assistant/v2"));
  r = Push("bob@example.com", "refs/tags/main/faq-answerer/v2");  // the real one, later
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ServerRef("refs/tags/main/faq-answerer/v2^{commit}"), publish + "\n");
}

TEST_F(ServerTest, SkippingAVersionNumberIsRefused) {
  PutChange("d2", kFaq, "two");
  PublishInClone("d2");
  PutChange("d3", kFaq, "three");
  PublishInClone("d3");
  ASSERT_EQ(Push("bob@example.com", "main").exit_code, 0);
  RunResult r = Push("bob@example.com", "refs/tags/main/faq-answerer/v3");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("remote: flowrepo: refs/tags/main/faq-answerer/v3: 'main/faq-answerer/v3' skips v2: workspace "
                       "'main' has no version v2 of 'faq-answerer' and this push does not tag it"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(Push("bob@example.com", "refs/tags/main/faq-answerer/v2").exit_code, 0);
  EXPECT_EQ(Push("bob@example.com", "refs/tags/main/faq-answerer/v3").exit_code, 0);
  EXPECT_EQ(Admin("check").exit_code, 0);
}

// Issue 14: after main/kyc-check/v999999999, publishes printed v1000000000
// and made no tag. The server takes no number out of turn, and publish
// refuses to go past the range.
TEST_F(ServerTest, VersionNumbersOutOfTurnOrRangeAreRefused) {
  RunResult r = Push("bob@example.com", "HEAD:refs/tags/main/kyc-check/v999999999");  // a role change
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("a publish that does not name 'kyc-check v999999999'"), std::string::npos) << r.err;
  r = Push("bob@example.com", "HEAD:refs/tags/main/kyc-check/v1000000000");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("'main/kyc-check/v1000000000' is not a version tag name (<workspace>/<flow>/v<N>, N from 1 to "
                       "999999999)"),
            std::string::npos)
      << r.err;
  // A hand-made publish commit taking the last number, with its tag.
  ASSERT_EQ(Git("commit -q --allow-empty -m 'Publish kyc-check v999999999' -m \"$(printf 'Flowrepo-Workspace: "
                "main\\nFlowrepo-Version: kyc-check v999999999')\" && git tag -a -m last "
                "main/kyc-check/v999999999")
                .exit_code,
            0);
  const std::string forged = Git("rev-parse --short HEAD").out.substr(0, 7);
  const std::string before = testing::RefsSnapshot(server_);
  r = Push("bob@example.com", "--atomic main refs/tags/main/kyc-check/v999999999");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("remote: flowrepo: refs/heads/main: commit " + forged +
                       " names 'kyc-check v999999999', but "
                       "the next version of 'kyc-check' in workspace 'main' is v2"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("'main/kyc-check/v999999999' skips v999999998"), std::string::npos) << r.err;
  EXPECT_EQ(testing::RefsSnapshot(server_), before);
  // Where such a commit exists (this clone), publish refuses the next
  // number instead of writing one no tag can hold.
  PutChange("d", kKyc, "next");
  const std::string refs = testing::RefsSnapshot(clone_);
  r = Bob("publish --offline --draft d -m next");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.err,
            "flowrepo: error: publish refused: flow 'kyc-check' in workspace 'main' has reached v999999999, "
            "the highest version number\n");
  EXPECT_EQ(testing::RefsSnapshot(clone_), refs);
}

// A hand-made rename trailer cannot borrow another flow's numbers: the
// old id must leave the workspace in the same publish.
TEST_F(ServerTest, RenamesThatKeepTheOldFlowAreRefused) {
  ASSERT_EQ(Git("commit -q --allow-empty -m 'Publish x' -m \"$(printf 'Flowrepo-Workspace: main\\nFlowrepo-Renamed: "
                "kyc-check faq-answerer\\nFlowrepo-Version: faq-answerer v2')\"")
                .exit_code,
            0);
  const std::string forged = Git("rev-parse --short HEAD").out.substr(0, 7);
  const std::string before = testing::RefsSnapshot(server_);
  RunResult r = Push("bob@example.com", "main");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("commit " + forged +
                       " renames 'kyc-check' to 'faq-answerer' but does not remove 'kyc-check'; only publish "
                       "records renames"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(testing::RefsSnapshot(server_), before);
}

// What publish makes is accepted however it is pushed: --follow-tags, an
// atomic push of the branch and all tags, a publish naming several flows.
TEST_F(ServerTest, PublishedVersionsArePushedWithTheirBranch) {
  PutChange("d", kFaq, "two");
  PublishInClone("d");
  RunResult r = Push("bob@example.com", "--follow-tags main");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(ServerHas("refs/tags/main/faq-answerer/v2"));
  PutChange("both", kFaq, "three");
  PutChange("both", kKyc, "two");
  const std::string both = PublishInClone("both");
  r = Push("bob@example.com", "--atomic main --tags");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ServerRef("refs/tags/main/faq-answerer/v3^{commit}"), both + "\n");
  EXPECT_EQ(ServerRef("refs/tags/main/kyc-check/v2^{commit}"), both + "\n");
  auto h = nlohmann::json::parse(Admin("history faq-answerer --json").out);
  EXPECT_EQ(h["versions"].size(), 3u);
  EXPECT_EQ(Admin("check").exit_code, 0);
  // The same publish backs no version of a flow it does not name.
  r = Push("bob@example.com", both + ":refs/tags/main/aml-screening/v2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("a publish that does not name 'aml-screening v2'"), std::string::npos) << r.err;
}

// A workspace made with `workspace create` is pushed with its v1 tags.
TEST_F(ServerTest, ACreatedWorkspaceIsPushedWithItsTags) {
  auto alice = [&](const std::string& args) {
    return Flowrepo("--user alice@example.com -C " + Quote(clone_) + " " + args);
  };
  ASSERT_EQ(alice("workspace create dev --from main").exit_code, 0);
  RunResult r = Push("alice@example.com", "--follow-tags dev");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Shell("git tag -l 'dev/*' | wc -l", server_).out, "6\n");
  // Not before its workspace exists (squatting), nor by an integrator.
  ASSERT_EQ(alice("workspace create qa --from main").exit_code, 0);
  r = Push("alice@example.com", "refs/tags/qa/kyc-check/v1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("workspace 'qa', which does not exist"), std::string::npos) << r.err;
}

TEST_F(ServerTest, RoleCommandsListGrantRevoke) {
  RunResult r = Admin("role list --json");
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["roles"].size(), 3u);
  r = Admin("role revoke vic@example.com");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("'vic@example.com' has no role in workspace 'main' at "), std::string::npos) << r.out;
  EXPECT_EQ(Admin("role revoke vic@example.com").exit_code, 3);
  EXPECT_EQ(Admin("role grant x superuser").exit_code, 2);
  EXPECT_EQ(Flowrepo("--user vic@example.com -C " + Quote(server_) + " flow list").exit_code, 6);
}

}  // namespace
}  // namespace flowrepo

namespace flowrepo {
namespace {

TEST(HooksHelpTest, NewCommandsHaveHelpWithExample) {
  for (const char* cmd : {"validate", "role grant", "role revoke", "role list", "hooks install", "hook pre-receive"}) {
    testing::RunResult r = testing::Flowrepo(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("Example"), std::string::npos) << cmd << ": " << r.out;
  }
}

// A clone publishes with flowrepo and pushes the branch and its version
// tags in one push, as an integrator would.
TEST(HooksServerFlowTest, PublishInACloneThenPushBranchAndTags) {
  testing::TempDir dir;
  std::string server = dir / "server.git", clone = dir / "clone";
  auto admin = [&](const std::string& args) {
    return testing::Flowrepo("--user alice@example.com -C " + testing::Quote(server) + " " + args);
  };
  ASSERT_EQ(testing::Flowrepo("--user alice@example.com init --bare " + testing::Quote(server)).exit_code, 0);
  ASSERT_EQ(admin("role grant bob@example.com integrator").exit_code, 0);
  ASSERT_EQ(admin("hooks install --server").exit_code, 0);
  ASSERT_EQ(testing::Shell("git config flowrepo.trustUserEnvironment true", server).exit_code, 0);
  ASSERT_EQ(testing::Shell("git clone -q " + testing::Quote(server) + " " + testing::Quote(clone)).exit_code, 0);
  auto bob = [&](const std::string& args) {
    return testing::Flowrepo("--user bob@example.com -C " + testing::Quote(clone) + " " + args);
  };
  ASSERT_EQ(bob("flow put first " + testing::Quote(Fixtures() + "/flows")).exit_code, 0);
  testing::RunResult p = bob("publish --offline --draft first -m first");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  testing::RunResult r = testing::Shell(
      "FLOWREPO_USER=bob@example.com git push -q origin main 'refs/tags/main/*:refs/tags/main/*'", clone);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::Shell("git tag -l 'main/*' | wc -l", server).out, "6\n");
}

}  // namespace
}  // namespace flowrepo

namespace flowrepo {
namespace {

// Same entries, other bytes (re-zipped): the manifest hashes still match,
// only --reproducible notices that the package is not what its commit gives.
TEST_F(HooksTest, ReproducibleNoticesARezippedPackage) {
  MakeWorkTree();
  ASSERT_EQ(Run("export Support -o " + Quote(dir_ / "support.studiopkg")).exit_code, 0);
  RunResult z = Shell("mkdir u && cd u && unzip -q ../support.studiopkg && zip -q -r -X -D -9 ../rezipped.studiopkg .",
                      dir_.path());
  ASSERT_EQ(z.exit_code, 0) << z.err;
  EXPECT_EQ(Run("validate " + Quote(dir_ / "rezipped.studiopkg")).exit_code, 0);
  RunResult r = Run("validate " + Quote(dir_ / "rezipped.studiopkg") + " --reproducible");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("gives different bytes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[package/not-reproducible]"), std::string::npos) << r.out;
  EXPECT_EQ(Run("validate " + Quote(dir_ / "support.studiopkg") + " --reproducible").exit_code, 0);
}

// A package of another flowrepo version cannot be reproduced byte for byte
// (its manifest names that version): the check says so rather than
// suggesting the package was altered.
TEST_F(HooksTest, ReproducibleNamesTheVersionThatMadeThePackage) {
  MakeWorkTree();
  ASSERT_EQ(Run("export Support -o " + Quote(dir_ / "support.studiopkg")).exit_code, 0);
  RunResult z = Shell(
      "mkdir u && cd u && unzip -q ../support.studiopkg && "
      "sed -i 's/\"version\": \"" FLOWREPO_VERSION
      "\"/\"version\": \"0.0.1\"/' manifest.json && "
      "grep -q '\"0.0.1\"' manifest.json && zip -q -r -X -D ../older.studiopkg manifest.json flows",
      dir_.path());
  ASSERT_EQ(z.exit_code, 0) << z.err;
  RunResult r = Run("validate " + Quote(dir_ / "older.studiopkg") + " --reproducible");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("made by flowrepo 0.0.1 and this is " FLOWREPO_VERSION), std::string::npos) << r.out;
}

}  // namespace
}  // namespace flowrepo
