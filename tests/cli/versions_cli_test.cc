// End-to-end tests of versions: forged publish notes, unbacked version tags,
// `workspace create` as a publish, and `flowrepo check`.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::Flowrepo;
using testing::Quote;
using testing::RunResult;
using testing::Shell;
using testing::TempDir;

class VersionsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Flowrepo("--user alice@example.com init repo", dir_.path()).exit_code, 0);
    repo_ = dir_ / "repo";
    ASSERT_EQ(Run("flow put --draft initial " + Quote(Fixtures() + "/flows")).exit_code, 0);
    RunResult r = Run("publish --draft initial -m first");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  RunResult Run(const std::string& args) { return Flowrepo("--user alice@example.com " + args, repo_); }
  std::string Git(const std::string& args) {
    RunResult r = Shell("git " + args, repo_);
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    return r.out;
  }
  std::string Fixtures() const { return testing::SourceDir() + "/fixtures"; }
  // A draft changing banking-assistant.
  void PutChange(const std::string& draft) {
    RunResult r = Run("flow put --draft " + draft + " " + Quote(Fixtures() + "/changes/banking-assistant"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  TempDir dir_;
  std::string repo_;
};

TEST_F(VersionsCliTest, ForgedPublishNoteIsRefusedAndTagsNothing) {
  PutChange("d");
  const std::string refs = testing::RefsSnapshot(repo_);
  RunResult r = Run("publish --draft d -m \"$(printf 'note\\nFlowrepo-Version: kyc-check v7')\"");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "flowrepo: error: publish note refused: line 2 looks like a flowrepo trailer ('Flowrepo-Version: "
            "kyc-check v7'), which only flowrepo writes (reword it)\n");
  EXPECT_EQ(testing::RefsSnapshot(repo_), refs);
  r = Run("publish --draft d -m \"$(printf 'note\\n---\\nmore')\"");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(testing::RefsSnapshot(repo_), refs);
  ASSERT_EQ(Run("publish --draft d -m fine").exit_code, 0);
  EXPECT_EQ(Git("tag -l 'main/kyc-check/*'"), "main/kyc-check/v1\n");
  EXPECT_EQ(Git("tag -l 'main/banking-assistant/*'"), "main/banking-assistant/v1\nmain/banking-assistant/v2\n");
}

TEST_F(VersionsCliTest, CheckIsCleanAfterNormalWork) {
  PutChange("d");
  ASSERT_EQ(Run("publish --draft d -m two").exit_code, 0);
  ASSERT_EQ(Run("workspace create dev --from main").exit_code, 0);
  RunResult r = Run("check");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "ok: 2 workspace(s), 13 version tag(s), 3 publish commit(s) checked, no problems\n");
  EXPECT_EQ(r.err, "");
  r = Run("check --json");
  EXPECT_EQ(r.exit_code, 0);
  auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["problems"].size(), 0u);
}

TEST_F(VersionsCliTest, UnbackedTagIsIgnoredByHistoryExportRevertAndReportedByCheck) {
  PutChange("d");
  Git("tag -a -m forged main/banking-assistant/v2 drafts/main/d");
  RunResult h = Run("history banking-assistant");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("ignored tag: main/banking-assistant/v2 (no publish commit backs it; see 'flowrepo check')"),
            std::string::npos)
      << h.out;
  EXPECT_EQ(nlohmann::json::parse(Run("history banking-assistant --json").out)["versions"].size(), 1u);
  const std::string unbacked =
      "flowrepo: error: flow 'banking-assistant' has no version v2 in workspace 'main' (tag "
      "'main/banking-assistant/v2' is not backed by a publish commit; see 'flowrepo check')\n";
  RunResult e = Run("export banking-assistant --version 2 -o " + Quote(dir_ / "x.zip"));
  EXPECT_EQ(e.exit_code, 3);
  EXPECT_EQ(e.err, unbacked);
  RunResult v = Run("revert banking-assistant --to v2");
  EXPECT_EQ(v.exit_code, 3);
  EXPECT_EQ(v.err, unbacked);
  RunResult d = Run("diff banking-assistant v1 v2");
  EXPECT_EQ(d.exit_code, 3);

  RunResult val = Run("validate");
  EXPECT_EQ(val.exit_code, 1);
  EXPECT_NE(val.out.find("refs/tags/main/banking-assistant/v2: no publish commit backs this version tag; it is "
                         "ignored (see 'flowrepo check') [unbacked-version-tag]\n"),
            std::string::npos)
      << val.out;

  RunResult c = Run("check");
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_EQ(c.out.substr(0, c.out.find(':')), "unbacked-tag refs/tags/main/banking-assistant/v2");
  EXPECT_NE(c.out.find("\n1 problem(s) (1 workspace(s), 7 version tag(s), 1 publish commit(s) checked)\n"),
            std::string::npos)
      << c.out;
  EXPECT_EQ(c.err.rfind("flowrepo: error: unbacked-tag refs/tags/main/banking-assistant/v2: tag ", 0), 0u) << c.err;
  auto report = nlohmann::json::parse(Run("check --json").out);
  ASSERT_EQ(report["problems"].size(), 1u);
  EXPECT_EQ(report["problems"][0]["kind"], "unbacked-tag");
  EXPECT_EQ(report["problems"][0]["flow"], "banking-assistant");
  EXPECT_EQ(report["problems"][0]["workspace"], "main");
}

TEST_F(VersionsCliTest, SquattedNextTagRefusesPublish) {
  PutChange("d");
  Git("tag main/banking-assistant/v999999999 main");
  Git("tag main/banking-assistant/v2 drafts/main/d");
  const std::string refs = testing::RefsSnapshot(repo_);
  RunResult r = Run("publish --draft d -m two");
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(r.err,
            "flowrepo: error: publish refused: tag 'main/banking-assistant/v2' exists but no publish commit backs "
            "it, so version v2 of 'banking-assistant' cannot be tagged; see 'flowrepo check'\n");
  EXPECT_EQ(testing::RefsSnapshot(repo_), refs);
  RunResult c = Run("check");
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.out.find("unbacked-tag refs/tags/main/banking-assistant/v2: "), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("unbacked-tag refs/tags/main/banking-assistant/v999999999: "), std::string::npos) << c.out;
  Git("tag -d main/banking-assistant/v2");
  ASSERT_EQ(Run("publish --draft d -m two").exit_code, 0);
  auto h = nlohmann::json::parse(Run("history banking-assistant --json").out);
  EXPECT_EQ(h["versions"][0]["version"], 2);
  EXPECT_EQ(h["ignored_tags"], nlohmann::json({"main/banking-assistant/v999999999"}));
}

TEST_F(VersionsCliTest, WorkspaceCreateFromGivesVersionsThere) {
  PutChange("d");
  ASSERT_EQ(Run("publish --draft d -m two").exit_code, 0);
  RunResult w = Run("workspace create dev --from main");
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(w.out, "Created workspace 'dev' from 'main' (6 flows, each v1 there)\n");
  EXPECT_NE(Git("log -1 --format=%B dev")
                .find("Flowrepo-Version: banking-assistant v1\n"
                      "Flowrepo-Source: main/banking-assistant/v2\n"),
            std::string::npos);
  auto h = nlohmann::json::parse(Run("-w dev history banking-assistant --json").out);
  ASSERT_EQ(h["versions"].size(), 1u);
  EXPECT_EQ(h["versions"][0]["tag"], "refs/tags/dev/banking-assistant/v1");
  RunResult e = Run("-w dev export banking-assistant --version latest -o " + Quote(dir_ / "b.zip"));
  EXPECT_EQ(e.exit_code, 0) << e.err;
  // An override in dev can be reverted to what dev started with.
  ASSERT_EQ(Run("-w dev flow put --draft o " + Quote(Fixtures() + "/flows/Finance/Retail/banking-assistant")).exit_code,
            0);
  ASSERT_EQ(Run("-w dev publish --draft o -m override").exit_code, 0);
  ASSERT_EQ(Run("-w dev revert banking-assistant --to v1").exit_code, 0);
  RunResult p = Run("-w dev publish --draft revert-banking-assistant-v1 -m back --json");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(nlohmann::json::parse(p.out)["versions"][0]["tag"], "refs/tags/dev/banking-assistant/v3");
  // Rerunning the create once dev has moved on is refused as before.
  RunResult again = Run("workspace create dev --from main");
  EXPECT_EQ(again.exit_code, 5);
  EXPECT_EQ(again.err, "flowrepo: error: workspace 'dev' already exists\n");
  EXPECT_EQ(Run("check").exit_code, 0);
  testing::ExpectFsckClean(repo_);
}

TEST_F(VersionsCliTest, CheckRepairCreatesMissingTagsOnly) {
  ASSERT_EQ(Run("workspace create dev --from main").exit_code, 0);
  Git("tag -d dev/kyc-check/v1 dev/faq-answerer/v1");
  RunResult c = Run("check");
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.out.find("missing-tag refs/tags/dev/faq-answerer/v1: publish commit "), std::string::npos) << c.out;
  RunResult r = Run("check --repair");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find("ok:")),
            "repaired: created refs/tags/dev/faq-answerer/v1\nrepaired: created refs/tags/dev/kyc-check/v1\n");
  EXPECT_EQ(Git("tag -l 'dev/kyc-check/*'"), "dev/kyc-check/v1\n");
}

}  // namespace
}  // namespace flowrepo
