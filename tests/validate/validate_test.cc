// validate: folders on disk, revisions, staged changes (with the
// 10,000-flow timing), settings documents and topic availability.

#include "flowrepo/validate.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "json/json_io.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::ExpectError;
using testing::MakeFlow;
using testing::Quote;
using testing::Shell;
using testing::TempDir;
using testing::WriteFile;

constexpr char kAdmin[] = "admin@example.com";

void WriteFlow(const std::string& dir, const Flow& flow) {
  WriteFile(dir + "/app_definition.json", flow.app_definition);
  WriteFile(dir + "/flow_definition.json", flow.flow_definition);
  WriteFile(dir + "/env_variables.json", flow.env_variables);
}

std::string Rules(const ValidationReport& r) {
  std::string out;
  for (const auto& p : r.problems) out += p.rule + " ";
  return out;
}

std::string Token(const std::string& prefix, int n) {
  static std::mt19937 rng(42);
  const std::string alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out = prefix;
  for (int i = 0; i < n; ++i) out += alnum[rng() % alnum.size()];
  return out;
}

TEST(ValidateTest, FixtureFolderIsClean) {
  ValidationReport r = ValidateFolder(testing::SourceDir() + "/fixtures/flows", {});
  EXPECT_TRUE(r.ok()) << Rules(r);
  EXPECT_EQ(r.flows.size(), 6u);
}

TEST(ValidateTest, FolderProblemsNameFilesOnDiskWithPointers) {
  TempDir dir;
  Flow flow = MakeFlow("alpha", "", 2);
  Json def = ParseJson(flow.flow_definition, "d");
  def["nodes"].push_back({{"id", "call-0"}, {"type", "api"}});  // duplicate node id
  def["edges"].push_back({{"from", "start"}, {"to", "ghost"}});
  def["nodes"][1]["config"]["headers"] = {{"Authorization", "Bearer " + Token("", 40)}};
  flow.flow_definition = CanonicalJson(def);
  WriteFlow(dir / "flows/Ops/alpha", flow);
  ValidationReport r = ValidateFolder(dir / "flows", {});
  ASSERT_EQ(r.problems.size(), 3u) << Rules(r);
  const std::string file = dir / "flows/Ops/alpha/flow_definition.json";
  EXPECT_EQ(r.problems[0].ToString(),
            file + ":/nodes/4/id: duplicate node id 'call-0' (also /nodes/1) [duplicate-node-id]");
  EXPECT_EQ(r.problems[1].file, file);
  EXPECT_EQ(r.problems[1].rule, "dangling-edge");
  EXPECT_EQ(r.problems[2].pointer, "/nodes/1/config/headers/Authorization");
  EXPECT_EQ(r.problems[2].rule, "secret/authorization-header");
}

// Found by json_fuzz: a 'secret' flag that is not a boolean is a schema
// problem of the variable, not an exception.
TEST(ValidateTest, NonBooleanSecretFlagIsASchemaProblem) {
  TempDir dir;
  Flow flow = MakeFlow("alpha");
  Json env = ParseJson(flow.env_variables, "e");
  env["variables"].push_back({{"name", "LOG_LEVEL"}, {"secret", "LOG_LEVEL"}, {"value", "info"}});
  flow.env_variables = CanonicalJson(env);
  WriteFlow(dir / "flows/alpha", flow);
  ValidationReport r = ValidateFolder(dir / "flows", {});
  ASSERT_EQ(r.problems.size(), 1u) << Rules(r);
  EXPECT_EQ(r.problems[0].rule, "schema");
  EXPECT_EQ(r.problems[0].message, "'secret' of variable 'LOG_LEVEL' must be true or false");
}

TEST(ValidateTest, FolderChecksSubflowsAndTopicsOfAWorkTreeRoot) {
  TempDir dir;
  WriteFlow(dir / "flows/a/caller", MakeFlow("caller", "a", 1, "missing-one"));
  Flow pub = MakeFlow("pub");
  Json def = ParseJson(pub.flow_definition, "d");
  def["nodes"].push_back({{"id", "out"}, {"type", "publish"}, {"config", {{"topic", "orders.created"}}}});
  pub.flow_definition = CanonicalJson(def);
  WriteFlow(dir / "flows/pub", pub);
  // No topics listed: topics are unmanaged and any topic passes.
  WriteFile(dir / ".flowrepo/workspace.json",
            R"({"schema": "flowrepo/workspace@1", "components": ["http@1"], "topics": [], "roles": {}})");
  ValidationReport r = ValidateFolder(dir.path(), {});
  EXPECT_EQ(Rules(r), "missing-subflow ");
  EXPECT_EQ(r.problems[0].file, dir / "flows/a/caller/flow_definition.json");
  // Topics listed: the one used must be among them.
  WriteFile(dir / ".flowrepo/workspace.json",
            R"({"components": ["http@1"], "topics": ["orders.paid"], "roles": {"x": "owner"}})");
  r = ValidateFolder(dir.path(), {});
  EXPECT_EQ(Rules(r), "role missing-subflow missing-topic ");
  EXPECT_EQ(r.problems[0].ToString(),
            dir / ".flowrepo/workspace.json" +
                ":/roles/x: user 'x' has an unknown role; use viewer, integrator or admin [role]");
  EXPECT_EQ(r.problems[2].pointer, "/nodes/3/config/topic");
  EXPECT_EQ(r.problems[2].message, "topic 'orders.created' is not available in the workspace");
}

TEST(ValidateTest, SettingsEnvDefaultsAndExportRoleAreChecked) {
  TempDir dir;
  WriteFlow(dir / "flows/a", MakeFlow("a"));
  WriteFile(dir / ".flowrepo/workspace.json", R"({"components": ["http@1"], "export_role": "owner", "env": [
      {"name": "REGION", "value": "eu"},
      {"name": "REGION", "value": "us"},
      {"name": "DB_PASSWORD", "secret": true, "value": "hunter2"}]})");
  ValidationReport r = ValidateFolder(dir.path(), {});
  // The scanner sees the password too, as in any settings field.
  EXPECT_EQ(Rules(r), "duplicate-variable secret-value role secret/password-field ");
  EXPECT_EQ(r.problems[0].pointer, "/env/1/name");
  EXPECT_EQ(r.problems[1].pointer, "/env/2/value");
  EXPECT_EQ(r.problems[2].message, "export_role must be viewer, integrator or admin");
  WriteFile(dir / ".flowrepo/workspace.json",
            R"({"components": ["http@1"], "env": {"REGION": "eu"}, "export_role": "admin"})");
  EXPECT_EQ(Rules(ValidateFolder(dir.path(), {})), "schema ");
}

TEST(ValidateTest, FolderWithRepositoryContextFindsSubflowTargets) {
  TempDir dir;
  FlowRepository repo = testing::InitRepository(dir / "repo", kAdmin);
  repo.PutFlows("main", "d", {MakeFlow("target")});
  repo.Publish("main", "d", "");
  WriteFlow(dir / "in/caller", MakeFlow("caller", "", 1, "target"));
  Flow bad = MakeFlow("bad");
  Json def = ParseJson(bad.flow_definition, "d");
  def["nodes"][1]["component"] = "ftp@9";
  bad.flow_definition = CanonicalJson(def);
  WriteFlow(dir / "in/bad", bad);
  ValidationReport r = ValidateFolder(dir / "in", {dir / "repo", "main"});
  ASSERT_EQ(Rules(r), "missing-component ");
  EXPECT_EQ(r.problems[0].pointer, "/nodes/1/component");
  EXPECT_EQ(r.target, "folder '" + dir / "in" + "' for workspace 'main'");
}

TEST(ValidateTest, RevisionNeedsViewerAndChecksEveryFlow) {
  TempDir dir;
  FlowRepository repo = testing::InitRepository(dir / "repo", kAdmin, InitOptions::Layout::kBare);
  repo.PutFlows("main", "d", {MakeFlow("a"), MakeFlow("b", "G", 1, "a")});
  EXPECT_TRUE(ValidateRevision(repo, "main", "d").ok());
  EXPECT_EQ(ValidateRevision(repo, "main", "d").flows.size(), 2u);
  EXPECT_TRUE(ValidateRevision(repo, "main", "").flows.empty());
  FlowRepository stranger = FlowRepository::Open(dir / "repo", "mallory@example.com");
  ExpectError(ErrorCode::kPermissionDenied,
              "user 'mallory@example.com' needs role 'viewer' in workspace 'main' (has none)",
              [&] { ValidateRevision(stranger, "main", ""); });
}

class StagedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FlowRepository repo = testing::InitRepository(dir_ / "repo", kAdmin);
    repo.PutFlows("main", "d", {MakeFlow("a", "G"), MakeFlow("b", "G", 1, "a")});
    repo.Publish("main", "d", "");
    repo_ = dir_ / "repo";
  }
  void Git(const std::string& args) {
    auto r = Shell("git " + args, repo_);
    ASSERT_EQ(r.exit_code, 0) << args << ": " << r.err;
  }
  TempDir dir_;
  std::string repo_;
};

TEST_F(StagedTest, NothingStagedIsClean) {
  ValidationReport r = ValidateStaged(repo_);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.flows.empty());
}

TEST_F(StagedTest, OnlyTheChangedFlowIsCheckedAgainstTheIndex) {
  Flow c = MakeFlow("c", "G", 1, "b");
  std::string token = Token(
      "sk_"
      "live_",
      24);
  Json env = ParseJson(c.env_variables, "e");
  env["variables"].push_back({{"name", "STRIPE"}, {"value", token}});
  c.env_variables = CanonicalJson(env);
  WriteFlow(repo_ + "/flows/G/c", c);
  // An unstaged broken edit elsewhere is not what the commit records.
  WriteFile(repo_ + "/flows/G/a/flow_definition.json", "{broken");
  Git("add flows/G/c");
  ValidationReport r = ValidateStaged(repo_);
  EXPECT_EQ(r.flows, std::vector<std::string>{"flows/G/c"});
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].ToString(),
            "flows/G/c/env_variables.json:/variables/1/value: plain-text secret (Stripe secret or "
            "restricted key); store a secret reference instead [secret/stripe-key]");
  // Removing the subflow target in the same commit breaks c.
  Git("rm -rq flows/G/b");
  r = ValidateStaged(repo_);
  EXPECT_EQ(Rules(r), "secret/stripe-key missing-subflow ");
  EXPECT_EQ(r.removed, std::vector<std::string>{"flows/G/b"});
}

TEST_F(StagedTest, DeletingAUsedFlowBreaksItsUsers) {
  Git("rm -rq flows/G/a");  // b uses a
  ValidationReport r = ValidateStaged(repo_);
  EXPECT_EQ(r.removed, std::vector<std::string>{"flows/G/a"});
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].ToString(),
            "flows/G/b/flow_definition.json:/nodes/2/config/flow: node 'sub' uses flow 'a', which "
            "does not exist [missing-subflow]");
}

TEST_F(StagedTest, StagedSettingsAreValidated) {
  Json settings = ParseJson(testing::ReadFile(repo_ + "/.flowrepo/workspace.json"), "s");
  settings["roles"]["bob@example.com"] = "superuser";
  WriteFile(repo_ + "/.flowrepo/workspace.json", CanonicalJson(settings));
  Git("add .flowrepo/workspace.json");
  ValidationReport r = ValidateStaged(repo_);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].pointer, "/roles/bob@example.com");
}

// Index layouts flowrepo does not read itself are read through git; an
// index neither can read is one error giving both reasons.
TEST_F(StagedTest, SplitSparseAndDamagedIndexes) {
  WriteFile(repo_ + "/flows/G/a/flow_definition.json", "{broken");
  Git("add flows/G/a");
  Git("update-index --split-index");
  ValidationReport r = ValidateStaged(repo_);
  EXPECT_EQ(r.flows, std::vector<std::string>{"flows/G/a"});
  EXPECT_FALSE(r.ok());

  Git("update-index --no-split-index && git reset -q && git checkout -q -- flows");
  Git("sparse-checkout set --cone --sparse-index flows/G/a");
  ASSERT_NE(Shell("git ls-files --sparse", repo_).out.find("/\n"), std::string::npos);  // a folder entry
  Git("rm -rq flows/G/a");                                                              // b, outside the cone, uses a
  r = ValidateStaged(repo_);
  EXPECT_EQ(r.removed, std::vector<std::string>{"flows/G/a"});
  EXPECT_EQ(Rules(r), "missing-subflow ");

  WriteFile(repo_ + "/.git/index", std::string("DIRC") + std::string(40, '\x01'));
  ExpectError(ErrorCode::kInvalidData,
              "cannot read the git index '" + repo_ +
                  "/.git/index': index version 16843009 is not supported; git "
                  "cannot read the index of '" +
                  repo_ + "/': error: bad index version 16843009",
              [&] { ValidateStaged(repo_); });
}

TEST_F(StagedTest, BareRepositoryHasNoIndex) {
  TempDir other;
  testing::InitRepository(other / "bare", kAdmin, InitOptions::Layout::kBare);
  ExpectError(ErrorCode::kInvalidArgument, "--staged needs a repository with a work tree and index",
              [&] { ValidateStaged(other / "bare"); });
}

// A commit touching one flow in a repository of 10,000 checks that flow
// only (its speed is measured in bench/run, not here). The index is built
// with git plumbing (no checkout).
TEST(ValidateStagedScaleTest, OneChangedFlowOfTenThousandIsTheOneChecked) {
  TempDir dir;
  const std::string repo = dir / "big";
  ASSERT_EQ(Shell("git init -q " + Quote(repo)).exit_code, 0);
  Flow base = MakeFlow("x");
  WriteFile(dir / "app.json", base.app_definition);
  WriteFile(dir / "def.json", base.flow_definition);
  WriteFile(dir / "env.json", base.env_variables);
  auto hash = [&](const std::string& file) {
    std::string id = Shell("git hash-object -w " + Quote(file), repo).out;
    return id.substr(0, 40);
  };
  std::string app = hash(dir / "app.json"), def = hash(dir / "def.json"), env = hash(dir / "env.json");
  std::string lines;
  for (int i = 0; i < 10000; ++i) {
    std::string folder = "flows/G" + std::to_string(i % 10) + "/S" + std::to_string(i % 7) + "/f" + std::to_string(i);
    lines += "100644 " + app + "\t" + folder + "/app_definition.json\n";
    lines += "100644 " + def + "\t" + folder + "/flow_definition.json\n";
    lines += "100644 " + env + "\t" + folder + "/env_variables.json\n";
  }
  WriteFile(dir / "index-info", lines);
  auto r = Shell(
      "git update-index --index-info < " + Quote(dir / "index-info") + " && git commit -qm base && git rev-parse HEAD",
      repo);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Stage one changed flow: f42 with its own id and a new node.
  Flow changed = MakeFlow("f42", "", 3);
  WriteFile(dir / "app42.json", changed.app_definition);
  WriteFile(dir / "def42.json", changed.flow_definition);
  r = Shell("git update-index --cacheinfo 100644," + hash(dir / "app42.json") +
                ",flows/G2/S0/f42/app_definition.json --cacheinfo 100644," + hash(dir / "def42.json") +
                ",flows/G2/S0/f42/flow_definition.json",
            repo);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ValidationReport report = ValidateStaged(repo);
  EXPECT_EQ(report.flows, std::vector<std::string>{"flows/G2/S0/f42"});
  EXPECT_TRUE(report.ok()) << Rules(report);
}

}  // namespace
}  // namespace flowrepo
