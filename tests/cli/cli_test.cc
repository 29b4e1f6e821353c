// End-to-end tests of the flowrepo binary on temporary repositories: exit
// codes, messages, --json output, plain git interplay and concurrency.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::ExpectFsckClean;
using testing::Flowrepo;
using testing::Quote;
using testing::RunResult;
using testing::Shell;
using testing::TempDir;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunResult r = Run("init repo");
    repo_ = dir_ / "repo";
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  RunResult Run(const std::string& args, const std::string& user = "alice@example.com") {
    return Flowrepo("--user " + user + " " + args, repo_.empty() ? dir_.path() : repo_);
  }
  std::string Fixtures() const { return testing::SourceDir() + "/fixtures"; }
  void PublishFixtures() {
    ASSERT_EQ(Run("flow put --draft initial " + Quote(Fixtures() + "/flows")).exit_code, 0);
    RunResult r = Run("publish --draft initial -m first");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  TempDir dir_;
  std::string repo_;
};

TEST_F(CliTest, FixturesPublishAsVersionOne) {
  PublishFixtures();
  RunResult r = Run("flow list --json");
  ASSERT_EQ(r.exit_code, 0);
  auto flows = nlohmann::json::parse(r.out);
  EXPECT_EQ(flows.size(), 6u);
  EXPECT_EQ(flows[2]["id"], "banking-assistant");
  EXPECT_EQ(flows[2]["group"], "Finance/Retail");
  r = Run("history banking-assistant --json");
  auto h = nlohmann::json::parse(r.out);
  ASSERT_EQ(h["versions"].size(), 1u);
  EXPECT_EQ(h["versions"][0]["note"], "first");
  EXPECT_EQ(h["versions"][0]["author"], "alice@example.com");
  ExpectFsckClean(repo_);
}

// --version names the version packages record as their tool's.
TEST_F(CliTest, VersionIsTheOnePackagesRecord) {
  PublishFixtures();
  RunResult v = Flowrepo("--version");
  EXPECT_EQ(v.exit_code, 0) << v.err;
  ASSERT_EQ(v.out.rfind("flowrepo ", 0), 0u) << v.out;
  const std::string version = v.out.substr(9, v.out.find('\n') - 9);
  ASSERT_EQ(Run("export --all -o " + Quote(dir_ / "all.studiopkg")).exit_code, 0);
  RunResult manifest = Shell("unzip -p " + Quote(dir_ / "all.studiopkg") + " manifest.json");
  EXPECT_EQ(nlohmann::json::parse(manifest.out)["tool"]["version"], version);
}

TEST_F(CliTest, GroupFilterListsSubGroups) {
  PublishFixtures();
  RunResult r = Run("flow list --group Finance --json");
  auto flows = nlohmann::json::parse(r.out);
  ASSERT_EQ(flows.size(), 3u);
  for (const auto& f : flows) EXPECT_EQ(f["group"].get<std::string>().rfind("Finance", 0), 0u);
  // A group that is not there is an error with a hint, as in export.
  RunResult typo = Run("flow list --group Finanse");
  EXPECT_EQ(typo.exit_code, 3);
  EXPECT_NE(typo.err.find("no group 'Finanse' in workspace 'main'; did you mean 'Finance'?"), std::string::npos)
      << typo.err;
  RunResult e = Run("export banking-asistant --json");
  EXPECT_EQ(e.exit_code, 3);
  EXPECT_NE(
      nlohmann::json::parse(e.out)["error"]["message"].get<std::string>().find("did you mean 'banking-assistant'?"),
      std::string::npos)
      << e.out;
}

TEST_F(CliTest, PublishTwiceDiffRevertPublish) {
  PublishFixtures();
  ASSERT_EQ(Run("flow put --draft change " + Quote(Fixtures() + "/changes/banking-assistant")).exit_code, 0);
  ASSERT_EQ(Run("publish --draft change -m fraud").exit_code, 0);
  RunResult d = Run("diff banking-assistant v1 v2 --json");
  ASSERT_EQ(d.exit_code, 0) << d.err;
  auto diff = nlohmann::json::parse(d.out);
  bool fraud_added = false;
  for (const auto& c : diff["changes"]) {
    if (c.value("node", "") == "fraud" && c["kind"] == "added") fraud_added = true;
  }
  EXPECT_TRUE(fraud_added) << d.out;
  // The abbreviated ids history prints name the same versions.
  auto h = nlohmann::json::parse(Run("history banking-assistant --json").out);
  const std::string v1 = h["versions"][1]["commit"].get<std::string>().substr(0, 7);
  const std::string v2 = h["versions"][0]["commit"].get<std::string>().substr(0, 7);
  RunResult by_id = Run("diff banking-assistant " + v1 + " " + v2 + " --json");
  ASSERT_EQ(by_id.exit_code, 0) << by_id.err;
  EXPECT_EQ(nlohmann::json::parse(by_id.out)["changes"], diff["changes"]);
  EXPECT_EQ(Run("diff banking-assistant 0000000 " + v2).exit_code, 3);
  // The flow kept its group although the change folder has none.
  EXPECT_NE(Run("flow list --group Finance/Retail").out.find("banking-assistant"), std::string::npos);

  ASSERT_EQ(Run("revert banking-assistant --to v1").exit_code, 0);
  RunResult p = Run("publish --draft revert-banking-assistant-v1 -m back --json");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(nlohmann::json::parse(p.out)["versions"][0]["version"], 3);
  EXPECT_EQ(Run("flow show banking-assistant@v1 --file flow_definition.json").out,
            Run("flow show banking-assistant --file flow_definition.json").out);
  EXPECT_NE(Run("flow show banking-assistant@v2 --file flow_definition.json").out,
            Run("flow show banking-assistant@v3 --file flow_definition.json").out);
  // git sees the history: the commit messages name flow and action.
  RunResult log = Shell("git log --format=%s main", repo_);
  EXPECT_NE(log.out.find("Publish banking-assistant v3 from draft revert-banking-assistant-v1"), std::string::npos);
  EXPECT_NE(log.out.find("Revert flow banking-assistant to v1"), std::string::npos);
  EXPECT_EQ(Shell("git tag -l 'main/banking-assistant/*'", repo_).out,
            "main/banking-assistant/v1\nmain/banking-assistant/v2\nmain/banking-assistant/v3\n");
  ExpectFsckClean(repo_);
}

TEST_F(CliTest, InvalidPublishListsProblemsAndLeavesWorkspace) {
  PublishFixtures();
  std::string flow = dir_ / "broken/banking-assistant";
  Shell("mkdir -p " + Quote(flow) + " && cp " + Quote(Fixtures() + "/changes/banking-assistant/") + "* " + Quote(flow));
  std::string def = testing::ReadFile(flow + "/flow_definition.json");
  auto j = nlohmann::json::parse(def);
  j["edges"].push_back({{"from", "start"}, {"to", "ghost"}});
  j["nodes"][1]["config"]["flow"] = "no-such-flow";
  testing::WriteFile(flow + "/flow_definition.json", j.dump());
  ASSERT_EQ(Run("flow put --draft broken " + Quote(flow)).exit_code, 0);
  std::string before = testing::RefsSnapshot(repo_);
  RunResult r = Run("publish --draft broken");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("flowrepo: error: publish refused: 2 problem(s) in 1 flow(s); workspace 'main' unchanged"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("edge to 'ghost' is not a node of this flow [dangling-edge]"), std::string::npos);
  EXPECT_NE(r.err.find("node 'kyc' uses flow 'no-such-flow', which does not exist [missing-subflow]"),
            std::string::npos);
  EXPECT_EQ(before, testing::RefsSnapshot(repo_));
}

TEST_F(CliTest, MalformedJsonIsRefusedWithFileName) {
  std::string flow = dir_ / "bad/x";
  testing::WriteFile(flow + "/app_definition.json", "{\"id\": \"x\", \"name\": \"X\",}");
  RunResult r = Run("flow put --draft d " + Quote(flow));
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("flows/x/app_definition.json: "), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(Shell("git branch --list 'drafts/*'", repo_).out, "");
}

TEST_F(CliTest, ExitCodesByCategory) {
  EXPECT_EQ(Run("history nope").exit_code, 3);
  EXPECT_EQ(Run("flow show nope").exit_code, 3);
  EXPECT_EQ(Run("publish nothing").exit_code, 3);
  EXPECT_EQ(Run("flow new Bad_Id").exit_code, 2);
  EXPECT_EQ(Run("no-such-command").exit_code, 2);
  EXPECT_EQ(Run("flow list", "mallory@example.com").exit_code, 6);
  ASSERT_EQ(Run("draft start x").exit_code, 0);
  EXPECT_EQ(Run("draft start x").exit_code, 5);
  RunResult r = Run("flow show nope --json");
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["error"]["code"], "not-found");
  EXPECT_EQ(j["error"]["message"], "flow 'nope' not found in workspace 'main'");
  EXPECT_EQ(Flowrepo("flow list", "/").exit_code, 3);  // not a repository
}

TEST_F(CliTest, PermissionErrorNamesMissingRole) {
  RunResult r = Run("flow new x", "mallory@example.com");
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_EQ(r.err,
            "flowrepo: error: user 'mallory@example.com' needs role 'integrator' in workspace "
            "'main' (has none)\n");
}

TEST_F(CliTest, EveryCommandHasHelpWithExample) {
  for (const char* cmd :
       {"init", "workspace create", "workspace list", "flow new", "flow put", "flow list", "flow show", "draft start",
        "draft list", "draft show", "draft drop", "copy", "publish", "history", "diff", "revert", "check"}) {
    RunResult r = Flowrepo(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("Example"), std::string::npos) << cmd << ": " << r.out;
  }
}

TEST_F(CliTest, DraftLifecycle) {
  PublishFixtures();
  ASSERT_EQ(Run("flow new hello --name Hello --group Demo --draft work").exit_code, 0);
  ASSERT_EQ(Run("copy kyc-check --name \"KYC EU\" --draft work").exit_code, 0);
  RunResult show = Run("draft show work --json");
  auto d = nlohmann::json::parse(show.out);
  EXPECT_EQ(d["changed_flows"], nlohmann::json({"hello", "kyc-eu"}));
  EXPECT_NE(Run("draft list").out.find("work"), std::string::npos);
  RunResult drop = Run("draft drop work --json");
  ASSERT_EQ(drop.exit_code, 0);
  std::string kept = nlohmann::json::parse(drop.out)["kept_as"];
  EXPECT_EQ(Shell("git cat-file -t " + kept, repo_).out, "commit\n");
  EXPECT_EQ(Run("draft list").out, "(no drafts)\n");
}

TEST_F(CliTest, WorkspacesAreIndependent) {
  PublishFixtures();
  ASSERT_EQ(Run("workspace create dev --from main").exit_code, 0);
  ASSERT_EQ(Run("-w dev flow put --draft change " + Quote(Fixtures() + "/changes/banking-assistant")).exit_code, 0);
  RunResult p = Run("-w dev publish --draft change --json");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  // dev's v1 is what it was created with (workspace create publishes it).
  EXPECT_EQ(nlohmann::json::parse(p.out)["versions"][0]["tag"], "refs/tags/dev/banking-assistant/v2");
  EXPECT_EQ(nlohmann::json::parse(Run("history banking-assistant --json").out)["versions"].size(), 1u);
  EXPECT_NE(Run("workspace list").out.find("dev"), std::string::npos);
}

TEST_F(CliTest, PlainGitEditsOnADraftArePublished) {
  PublishFixtures();
  std::string file = "flows/Support/Knowledge/faq-answerer/flow_definition.json";
  RunResult r =
      Shell("git switch -q -c drafts/main/manual main && sed -i 's/\"temperature\": 0.3/\"temperature\": 0.5/' " +
                file + " && git commit -qam 'Warmer answers'",
            repo_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunResult p = Run("publish --draft manual -m warmer");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find("faq-answerer v2"), std::string::npos);
  RunResult d = Run("diff faq-answerer v1 v2");
  EXPECT_NE(d.out.find("/config/hyperparameters/temperature"), std::string::npos) << d.out;
  ExpectFsckClean(repo_);
}

TEST_F(CliTest, BareRepositoryWorksWithoutWorkTree) {
  repo_ = dir_ / "server.git";
  ASSERT_EQ(Flowrepo("--user alice@example.com init --bare " + Quote(repo_), dir_.path()).exit_code, 0);
  EXPECT_EQ(Shell("git rev-parse --is-bare-repository", repo_).out, "true\n");
  PublishFixtures();
  ASSERT_EQ(Run("revert kyc-check --to v1").exit_code, 0);
  EXPECT_EQ(Run("publish --draft revert-kyc-check-v1").exit_code, 2);  // no changes to publish
  ExpectFsckClean(repo_);
}

TEST_F(CliTest, ConcurrentPublishersOneWinsNothingLost) {
  PublishFixtures();
  for (int round = 0; round < 5; ++round) {
    std::string a = "a" + std::to_string(round), b = "b" + std::to_string(round);
    // Two drafts change the same flow differently.
    for (const auto& [draft, temp] : {std::pair{a, "0.4"}, std::pair{b, "0.6"}}) {
      std::string dir = dir_ / (draft + "/faq-answerer");
      Shell("mkdir -p " + Quote(dir) + " && git -C " + Quote(repo_) +
            " archive main flows/Support/Knowledge/faq-answerer | tar -x -C " + Quote(dir) + " --strip-components=4");
      std::string def = testing::ReadFile(dir + "/flow_definition.json");
      auto j = nlohmann::json::parse(def);
      j["nodes"][1]["config"]["hyperparameters"]["temperature"] = std::stod(temp) + round;
      testing::WriteFile(dir + "/flow_definition.json", j.dump());
      ASSERT_EQ(Run("flow put --draft " + draft + " " + Quote(dir)).exit_code, 0);
    }
    std::string bin = FLOWREPO_BINARY;
    RunResult r = Shell("(" + bin + " --user alice@example.com publish --draft " + a +
                            " >a.out 2>a.err; echo $? >a.rc) & (" + bin + " --user alice@example.com publish --draft " +
                            b + " >b.out 2>b.err; echo $? >b.rc) & wait; cat a.rc b.rc",
                        repo_);
    int ok = 0, conflict = 0;
    for (char c : r.out) {
      if (c == '0') ++ok;
      if (c == '5') ++conflict;
    }
    EXPECT_EQ(ok, 1) << r.out << testing::ReadFile(repo_ + "/a.err") << testing::ReadFile(repo_ + "/b.err");
    EXPECT_EQ(conflict, 1) << r.out;
    std::string loser_err = testing::ReadFile(repo_ + (r.out[0] == '5' ? "/a.err" : "/b.err"));
    EXPECT_TRUE(loser_err.find("changed concurrently") != std::string::npos ||
                loser_err.find("conflict(s) with workspace 'main'") != std::string::npos)
        << loser_err;
    Shell("rm -f a.* b.*", repo_);
  }
  auto h = nlohmann::json::parse(Run("history faq-answerer --json").out);
  EXPECT_EQ(h["versions"].size(), 6u);  // v1 + one winner per round, no number reused
  EXPECT_EQ(h["versions"][0]["version"], 6);
  EXPECT_EQ(h["drafts"].size(), 5u);  // every loser's draft is intact
  ExpectFsckClean(repo_);
}

TEST_F(CliTest, InitAdoptsExistingGitRepository) {
  std::string existing = dir_ / "code";
  Shell("git init -q -b trunk " + Quote(existing) + " && cd " + Quote(existing) +
        " && echo hi > README && git add README && git commit -qm init");
  repo_ = existing;
  ASSERT_EQ(Run("init .").exit_code, 0);
  EXPECT_EQ(Shell("git branch --show-current", existing).out, "trunk\n");  // untouched
  EXPECT_NE(Run("workspace list").out.find("main"), std::string::npos);
  EXPECT_EQ(Run("init .").exit_code, 5);
}

}  // namespace
}  // namespace flowrepo
