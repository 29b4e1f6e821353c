// Issue 17 through the flowrepo binary: retiring and moving flows
// (flow rm, flow mv), lists given either way, and follow-up hints that
// run as printed in any workspace.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace flowrepo {
namespace {

using nlohmann::json;
using testing::ExpectFsckClean;
using testing::Flowrepo;
using testing::Quote;
using testing::RefsSnapshot;
using testing::RunResult;
using testing::TempDir;

class LifecycleCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Flowrepo("--user alice@example.com init repo", dir_.path()).exit_code, 0);
    repo_ = dir_ / "repo";
    ASSERT_EQ(Run("flow put initial " + Quote(testing::SourceDir() + "/fixtures/flows")).exit_code, 0);
    RunResult r = Run("publish initial -m first");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  RunResult Run(const std::string& args) { return Flowrepo("--user alice@example.com " + args, repo_); }
  // id -> group of the flows at the head of workspace \a ws.
  std::map<std::string, std::string> Groups(const std::string& ws = "main") {
    RunResult r = Run("-w " + ws + " flow list --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::string> out;
    for (const auto& f : json::parse(r.out)) out[f["id"]] = f["group"];
    return out;
  }
  // The command a "Publish with: flowrepo ..." line of \a out names,
  // without "flowrepo ".
  static std::string PublishHint(const std::string& out) {
    const std::string marker = "Publish with: flowrepo ";
    auto at = out.find(marker);
    if (at == std::string::npos) return "";
    at += marker.size();
    return out.substr(at, out.find('\n', at) - at);
  }

  TempDir dir_;
  std::string repo_;
};

TEST_F(LifecycleCliTest, RemovedFlowIsRetiredAndItsVersionsStay) {
  RunResult r = Run("flow rm nightly-report --draft cleanup");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Groups().count("nightly-report"), 1u) << "only the draft changes before publish";
  r = Run("publish cleanup -m retire --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["removed"], json({"nightly-report"}));
  EXPECT_EQ(Groups().count("nightly-report"), 0u);

  r = Run("history nightly-report --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json history = json::parse(r.out);
  ASSERT_EQ(history["removed"].size(), 1u) << r.out;
  EXPECT_EQ(history["removed"][0]["note"], "retire");
  ASSERT_EQ(history["versions"].size(), 1u);
  EXPECT_EQ(Run("flow show nightly-report@v1 --file app_definition.json").exit_code, 0);
  ExpectFsckClean(repo_);
}

TEST_F(LifecycleCliTest, RemovingAFlowAnotherUsesIsRefusedAtPublish) {
  // banking-assistant calls kyc-check as a sub-flow.
  ASSERT_EQ(Run("flow rm kyc-check").exit_code, 0);
  const std::string refs = RefsSnapshot(repo_);
  RunResult r = Run("publish remove-kyc-check -m gone");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("banking-assistant"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[missing-subflow]"), std::string::npos) << r.err;
  EXPECT_EQ(RefsSnapshot(repo_), refs);
  EXPECT_EQ(Groups().count("kyc-check"), 1u);
  // Removing both in one draft publishes.
  ASSERT_EQ(Run("flow rm banking-assistant --draft remove-kyc-check").exit_code, 0);
  r = Run("publish remove-kyc-check -m gone");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Groups().size(), 4u);
}

TEST_F(LifecycleCliTest, UnknownFlowsAreNamedWithTheClosestAndNothingIsWritten) {
  const std::string refs = RefsSnapshot(repo_);
  RunResult r = Run("flow rm kyc-chek");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("flow 'kyc-chek' not found in workspace 'main'; did you mean 'kyc-check'?"), std::string::npos)
      << r.err;
  r = Run("flow mv faq-answerer,nope --group Help --draft reorg");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("'nope' not found"), std::string::npos) << r.err;
  r = Run("flow rm faq-answerer ticket-triage");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("several flows need --draft"), std::string::npos) << r.err;
  EXPECT_EQ(Run("flow rm faq-answerer faq-answerer --draft d").exit_code, 2);
  EXPECT_EQ(RefsSnapshot(repo_), refs);
}

TEST_F(LifecycleCliTest, MovedFlowsKeepTheirIdsAndVersions) {
  // Lists are given as A,B or as several words.
  RunResult r = Run("flow mv faq-answerer,ticket-triage --group Help/Desk --draft reorg");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run("flow mv aml-screening kyc-check --group '' --draft reorg");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run("publish reorg -m reorganise --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["versions"].size(), 4u);
  auto groups = Groups();
  EXPECT_EQ(groups["faq-answerer"], "Help/Desk");
  EXPECT_EQ(groups["ticket-triage"], "Help/Desk");
  EXPECT_EQ(groups["aml-screening"], "");
  EXPECT_EQ(groups["banking-assistant"], "Finance/Retail");
  r = Run("history faq-answerer --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["versions"].size(), 2u) << r.out;
  // A sub-flow moved keeps its callers valid: they name it by id.
  EXPECT_EQ(Run("validate").exit_code, 0);
  ExpectFsckClean(repo_);
}

TEST_F(LifecycleCliTest, MovesThatWouldBreakTheLayoutAreRefused) {
  const std::string refs = RefsSnapshot(repo_);
  RunResult r = Run("flow mv nightly-report --group Finance/Compliance/aml-screening --draft x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("inside flow folder 'flows/Finance/Compliance/aml-screening'"), std::string::npos) << r.err;
  r = Run("flow mv nightly-report --group ../etc --draft x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("invalid group"), std::string::npos) << r.err;
  // A group named like a flow folder already there clashes with it.
  r = Run("flow mv nightly-report --group Finance/Retail/Banking-Assistant --draft x");
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(RefsSnapshot(repo_), refs);
}

TEST_F(LifecycleCliTest, HintsRunAsPrintedInAnotherWorkspace) {
  ASSERT_EQ(Run("workspace create prod --from main").exit_code, 0);
  RunResult r = Run("-w prod flow rm nightly-report");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string hint = PublishHint(r.out);
  EXPECT_EQ(hint, "-w prod publish remove-nightly-report") << r.out;
  r = Run(hint);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Groups("prod").count("nightly-report"), 0u);
  EXPECT_EQ(Groups("main").count("nightly-report"), 1u);

  // A copy into another workspace names that workspace.
  r = Run("copy faq-answerer --to-workspace prod --name 'FAQ Answerer 2' --draft faq2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  hint = PublishHint(r.out);
  EXPECT_EQ(hint, "-w prod publish faq2") << r.out;
  r = Run(hint);
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // From another directory, -C comes first.
  r = Flowrepo("--user alice@example.com -C repo flow rm ticket-triage", dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(PublishHint(r.out), "-C repo publish remove-ticket-triage") << r.out;
}

}  // namespace
}  // namespace flowrepo
