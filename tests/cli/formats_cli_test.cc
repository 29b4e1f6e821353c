// End-to-end tests of `flowrepo flow add` and `export --format`: exit codes,
// messages, --json output, on the self-made fixtures in fixtures/formats.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::Flowrepo;
using testing::Quote;
using testing::ReadFile;
using testing::RunResult;
using testing::TempDir;
using testing::WriteFile;
using Json = nlohmann::json;

class FormatsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunResult r = Run("init repo");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    repo_ = dir_ / "repo";
  }
  RunResult Run(const std::string& args) {
    return Flowrepo("--user alice@example.com " + args, repo_.empty() ? dir_.path() : repo_);
  }
  static std::string Fixtures(const std::string& sub) {
    return Quote(testing::SourceDir() + "/fixtures/formats/" + sub);
  }

  TempDir dir_;
  std::string repo_;
};

TEST_F(FormatsCliTest, AddsAndPublishesN8nWorkflows) {
  RunResult r = Run("flow add " + Fixtures("n8n") + " --draft n8n --group Finance");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Added 4 and updated 0 flow(s) from 4 of 4 file(s) on draft 'n8n' (new draft)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("reference 'wf-notify-001' -> flow 'notify-team'"), std::string::npos);
  EXPECT_NE(r.out.find("Declared 11 component(s)"), std::string::npos) << r.out;
  r = Run("publish --draft n8n -m first");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run("flow list --json");
  Json flows = Json::parse(r.out);
  ASSERT_EQ(flows.size(), 4u);
  EXPECT_EQ(flows[0]["format"], "n8n");
  EXPECT_EQ(flows[0]["group"], "Finance");
}

TEST_F(FormatsCliTest, JsonOutputListsFlowsAndRefusals) {
  WriteFile(dir_ / "in/empty.json", "{}");
  WriteFile(dir_ / "in/flow.json", ReadFile(testing::SourceDir() + "/fixtures/formats/node-red/single-tab.json"));
  RunResult r = Run("flow add " + Quote(dir_ / "in") + " --draft d --json");
  // Something was refused: exit code 1, the rest is added.
  EXPECT_EQ(r.exit_code, 1) << r.err;
  Json out = Json::parse(r.out);
  EXPECT_EQ(out["files"], 2);
  ASSERT_EQ(out["flows"].size(), 1u);
  EXPECT_EQ(out["flows"][0]["id"], "heartbeat");
  EXPECT_EQ(out["flows"][0]["format"], "node-red");
  EXPECT_EQ(out["flows"][0]["action"], "added");
  ASSERT_EQ(out["refused"].size(), 1u);
  EXPECT_EQ(out["refused"][0]["reason"], "not-a-flow");
  EXPECT_EQ(out["refused"][0]["message"], "not a flow of any known format: an empty JSON object");
  EXPECT_EQ(out["draft"]["name"], "d");
}

TEST_F(FormatsCliTest, NothingAddableIsInvalidData) {
  WriteFile(dir_ / "empty.json", "{}");
  RunResult r = Run("flow add " + Quote(dir_ / "empty.json") + " --draft d");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.err, "flowrepo: error: no flow added: 1 file(s) refused\n  " + dir_ / "empty.json" +
                       ": not a flow of any known format: an empty JSON object [add/not-a-flow]\n");
  EXPECT_EQ(Run("draft list").out, "(no drafts)\n");
}

TEST_F(FormatsCliTest, UsageErrors) {
  RunResult r = Run("flow add " + Fixtures("n8n") + " --draft d --id one");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "flowrepo: error: --id names one flow, but 4 would be added\n");
  r = Run("flow add " + Fixtures("n8n") + " --draft d --format zapier");
  EXPECT_EQ(r.exit_code, 2);
  r = Run("flow add " + Fixtures("n8n") + " --draft d --format n8n --split-tabs");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "flowrepo: error: --split-tabs splits node-red flows files; it cannot be used with "
            "--format n8n\n");
  r = Run("flow add " + Quote(dir_ / "nope.json") + " --draft d");
  EXPECT_EQ(r.exit_code, 3);
  r = Run("flow add --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Example: flowrepo flow add"), std::string::npos);
}

TEST_F(FormatsCliTest, SplitTabsRoundTripsThroughExport) {
  RunResult r = Run("flow add " + Fixtures("node-red/home-flows.json") +
                    " --format node-red --split-tabs --group Home --draft home");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("added\tnode-red\tflows/Home/home-kitchen"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("added\tnode-red\tflows/Home/home-config"), std::string::npos);
  ASSERT_EQ(Run("publish --draft home -m split").exit_code, 0);
  r = Run("export Home --format node-red -o " + Quote(dir_ / "back.json") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json out = Json::parse(r.out);
  ASSERT_EQ(out["files"].size(), 1u);
  EXPECT_EQ(out["files"][0]["flows"].size(), 4u);
  Json back = Json::parse(ReadFile(dir_ / "back.json"));
  Json original = Json::parse(ReadFile(testing::SourceDir() + "/fixtures/formats/node-red/home-flows.json"));
  EXPECT_EQ(back.size(), original.size());
  // Refuses to overwrite.
  r = Run("export Home --format node-red -o " + Quote(dir_ / "back.json"));
  EXPECT_EQ(r.exit_code, 5);
}

TEST_F(FormatsCliTest, ExportN8nStripsUnlessSampleDataIsKept) {
  ASSERT_EQ(Run("flow add " + Fixtures("n8n/invoice-sync.json") + " --draft d").exit_code, 0);
  ASSERT_EQ(Run("publish --draft d -m first").exit_code, 0);
  RunResult r = Run("export invoice-sync --format n8n -o " + Quote(dir_ / "wf.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json wf = Json::parse(ReadFile(dir_ / "wf.json"));
  EXPECT_FALSE(wf.contains("pinData"));
  EXPECT_FALSE(wf["meta"].contains("instanceId"));
  EXPECT_EQ(wf["nodes"][1]["credentials"]["httpHeaderAuth"], Json({{"name", "Billing API header"}}));
  r = Run("export invoice-sync --format n8n --keep-sample-data -o " + Quote(dir_ / "wf2.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Json::parse(ReadFile(dir_ / "wf2.json")).contains("pinData"));
  // A node-red export of an n8n flow is refused.
  r = Run("export invoice-sync --format node-red -o " + Quote(dir_ / "x.json"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "flowrepo: error: cannot write as node-red: 1 flow(s) of another format: "
            "'invoice-sync' (n8n)\n");
}

TEST_F(FormatsCliTest, DiffShowsTheChangedNodeOfASubflow) {
  ASSERT_EQ(Run("flow add " + Fixtures("node-red/home-flows.json") + " --split-tabs --group Home --draft v1").exit_code,
            0);
  ASSERT_EQ(Run("publish --draft v1 -m v1").exit_code, 0);
  std::string text = ReadFile(testing::SourceDir() + "/fixtures/formats/node-red/home-flows.json");
  text.replace(text.find("\"drop\": true"), 12, "\"drop\": false");
  WriteFile(dir_ / "v2/home-flows.json", text);
  RunResult r = Run("flow add " + Quote(dir_ / "v2/home-flows.json") + " --split-tabs --group Home --draft v2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Added 0 and updated 4 flow(s)"), std::string::npos) << r.out;
  ASSERT_EQ(Run("publish --draft v2 -m v2").exit_code, 0);
  r = Run("diff home-debounce v1 v2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("node sf.delay\tflow_definition.json:/1/drop"), std::string::npos) << r.out;
}

TEST_F(FormatsCliTest, SecretInAWorkflowIsRefusedWithoutEchoingIt) {
  std::string text = ReadFile(testing::SourceDir() + "/fixtures/formats/n8n/invoice-sync.json");
  const std::string url = "https://billing.example.com/api/invoices?status=open";
  const std::string key = "AIzaSyD4vX9qk2LmN8pQ7rS1tU3wY5zA6bC0dEf";
  text.replace(text.find(url), url.size(), "https://maps.example.com/api?key=" + key);
  WriteFile(dir_ / "leaky.json", text);
  RunResult r = Run("flow add " + Quote(dir_ / "leaky.json") + " --draft d");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("plain-text secret in n8n flow"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(key), std::string::npos);
  EXPECT_EQ(r.out.find(key), std::string::npos);
}

}  // namespace
}  // namespace flowrepo
