// End-to-end: publish refuses a draft that would leave the workspace
// invalid (a removed subflow, component or topic still in use), shows
// settings and role changes in draft show, draft list and publish (text
// and --json), and history shows a retired flow's removal. Drafts are made
// with plain git in a clone, as users do.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "json/json_io.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::Flowrepo;
using testing::Quote;
using testing::RunResult;
using testing::Shell;
using testing::TempDir;

constexpr char kBankingDefinition[] = "flows/Finance/Retail/banking-assistant/flow_definition.json";

class PublishChecksCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunResult r = Flowrepo("--user alice@example.com init repo", dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    repo_ = dir_ / "repo";
    ASSERT_EQ(Run("flow put --draft initial " + Quote(testing::SourceDir() + "/fixtures/flows")).exit_code, 0);
    r = Run("publish --draft initial -m first");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  RunResult Run(const std::string& args, const std::string& user = "alice@example.com") {
    return Flowrepo("--user " + user + " " + args, repo_);
  }

  // A fresh clone of the workspace on a new branch for draft \a draft.
  std::string StartDraftInClone(const std::string& draft) {
    clone_ = dir_ / ("clone-" + draft);
    RunResult r = Shell("git clone -q " + Quote(repo_) + " " + Quote(clone_) + " && git -C " + Quote(clone_) +
                        " switch -qc drafts/main/" + draft + " origin/main");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return clone_;
  }
  // Commits everything in the clone and pushes the draft branch.
  void PushDraft(const std::string& draft) {
    RunResult r = Shell("git add -A && git -c user.name=Dev -c user.email=dev@example.com commit -qm " +
                            Quote("edit " + draft) + " && git push -q origin drafts/main/" + draft,
                        clone_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Changes the clone's .flowrepo/workspace.json.
  void EditSettings(const std::function<void(Json&)>& change) {
    const std::string file = clone_ + "/.flowrepo/workspace.json";
    Json doc = Json::parse(testing::ReadFile(file));
    change(doc);
    testing::WriteFile(file, CanonicalJson(doc));
  }
  // How often \a part occurs in \a text.
  static int Occurrences(const std::string& text, const std::string& part) {
    int n = 0;
    std::size_t at = 0;
    while ((at = text.find(part, at)) != std::string::npos) {
      ++n;
      at += part.size();
    }
    return n;
  }

  TempDir dir_;
  std::string repo_;
  std::string clone_;
};

TEST_F(PublishChecksCliTest, RemovingAUsedSubflowIsRefusedNamingItsUser) {
  std::string clone = StartDraftInClone("retire-kyc");
  ASSERT_EQ(Shell("git rm -rq flows/Finance/Compliance/kyc-check", clone).exit_code, 0);
  PushDraft("retire-kyc");
  EXPECT_NE(Run("draft show retire-kyc").out.find("\n  kyc-check (removed)\n"), std::string::npos);

  std::string before = testing::RefsSnapshot(repo_);
  RunResult r = Run("publish --draft retire-kyc");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.err,
            "flowrepo: error: publish refused: 1 problem(s) in 1 flow(s); workspace 'main' unchanged\n"
            "  " +
                std::string(kBankingDefinition) +
                ":/nodes/1/config/flow: node 'kyc' uses flow 'kyc-check', which draft 'retire-kyc' "
                "removes [missing-subflow]\n");
  EXPECT_EQ(before, testing::RefsSnapshot(repo_));
  EXPECT_EQ(Run("validate").exit_code, 0);
}

TEST_F(PublishChecksCliTest, RemovingASubflowWithItsUserPublishesAndShowsInHistory) {
  std::string clone = StartDraftInClone("retire-banking");
  ASSERT_EQ(
      Shell("git rm -rq flows/Finance/Compliance/kyc-check flows/Finance/Retail/banking-assistant", clone).exit_code,
      0);
  PushDraft("retire-banking");
  RunResult r = Run("publish --draft retire-banking -m 'retired with the old app' --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto published = nlohmann::json::parse(r.out);
  EXPECT_EQ(published["removed"], nlohmann::json({"banking-assistant", "kyc-check"}));
  EXPECT_EQ(published["settings_changes"], nlohmann::json::array());
  EXPECT_EQ(published["role_changes"], false);
  EXPECT_EQ(Run("validate").exit_code, 0);

  RunResult h = Run("history kyc-check --json");
  ASSERT_EQ(h.exit_code, 0) << h.err;
  auto history = nlohmann::json::parse(h.out);
  ASSERT_EQ(history["versions"].size(), 1u);
  ASSERT_EQ(history["removed"].size(), 1u);
  EXPECT_EQ(history["removed"][0]["commit"], published["commit"]);
  EXPECT_EQ(history["removed"][0]["author"], "alice@example.com");
  EXPECT_EQ(history["removed"][0]["note"], "retired with the old app");
  EXPECT_GT(history["removed"][0]["time"].get<std::int64_t>(), 0);

  h = Run("history kyc-check");
  ASSERT_EQ(h.exit_code, 0) << h.err;
  std::string commit = published["commit"].get<std::string>().substr(0, 7);
  EXPECT_EQ(h.out.rfind("removed\t", 0), 0u) << h.out;
  EXPECT_NE(h.out.find("\talice@example.com\t" + commit + "\tretired with the old app\nv1\t"), std::string::npos)
      << h.out;
}

TEST_F(PublishChecksCliTest, RemovingAUsedComponentIsRefusedListingTheFlows) {
  StartDraftInClone("no-js");
  EditSettings([](Json& doc) {
    Json kept = Json::array();
    for (const auto& c : doc["components"]) {
      if (c["name"] != "javascript") kept.push_back(c);
    }
    doc["components"] = kept;
  });
  PushDraft("no-js");
  std::string before = testing::RefsSnapshot(repo_);
  RunResult r = Run("publish --draft no-js");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("publish refused: 3 problem(s) in 3 flow(s); workspace 'main' unchanged\n"), std::string::npos)
      << r.err;
  for (const char* flow :
       {"Finance/Compliance/kyc-check", "Finance/Retail/banking-assistant", "Operations/nightly-report"}) {
    EXPECT_NE(r.err.find("  flows/" + std::string(flow) + "/flow_definition.json:/nodes/"), std::string::npos)
        << flow << "\n"
        << r.err;
  }
  EXPECT_EQ(Occurrences(r.err,
                        "/component: component 'javascript@1' is used here and draft 'no-js' removes it "
                        "from the workspace [missing-component]\n"),
            3)
      << r.err;
  EXPECT_EQ(before, testing::RefsSnapshot(repo_));
}

TEST_F(PublishChecksCliTest, RemovingAUsedTopicIsRefusedNamingTheFlow) {
  StartDraftInClone("topics");
  EditSettings([](Json& doc) { doc["topics"] = {"compliance.alerts", "support.routed", "support.tickets"}; });
  PushDraft("topics");
  RunResult r = Run("publish --draft topics");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\n  topic added: 'compliance.alerts'\n"), std::string::npos) << r.out;

  StartDraftInClone("drop-alerts");
  EditSettings([](Json& doc) { doc["topics"] = {"support.routed", "support.tickets"}; });
  PushDraft("drop-alerts");
  r = Run("publish --draft drop-alerts");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.err,
            "flowrepo: error: publish refused: 1 problem(s) in 1 flow(s); workspace 'main' unchanged\n"
            "  flows/Finance/Compliance/aml-screening/flow_definition.json:/nodes/3/config/topic: topic "
            "'compliance.alerts' is used here and draft 'drop-alerts' removes it from the workspace "
            "[missing-topic]\n");
}

TEST_F(PublishChecksCliTest, SettingsChangesAreListedInDraftShowListAndPublish) {
  std::string clone = StartDraftInClone("tune");
  const std::string app = clone + "/flows/Finance/Retail/banking-assistant/app_definition.json";
  Json doc = Json::parse(testing::ReadFile(app));
  doc["description"] = "Answers account questions.";
  testing::WriteFile(app, CanonicalJson(doc));
  EditSettings([](Json& settings) {
    settings["components"].push_back({{"name", "ocr"}, {"version", "2"}, {"visibility", "private"}});
    settings["env_defaults"] = {{"LOG_LEVEL", "debug"}};
  });
  PushDraft("tune");

  const std::string listed =
      "  component added: 'ocr@2'\n"
      "  setting added: 'env_defaults' = {\"LOG_LEVEL\":\"debug\"}\n";
  RunResult show = Run("draft show tune");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("changed flows:\n  banking-assistant\nsettings changes:\n" + listed), std::string::npos)
      << show.out;
  EXPECT_EQ(Occurrences(show.out, "needs the admin role"), 0);

  show = Run("draft show tune --json");
  auto draft = nlohmann::json::parse(show.out);
  ASSERT_EQ(draft["settings_changes"].size(), 2u);
  EXPECT_EQ(draft["settings_changes"][0],
            nlohmann::json({{"kind", "component-added"},
                            {"key", "ocr@2"},
                            {"before", nullptr},
                            {"after", "{\"name\":\"ocr\",\"version\":\"2\",\"visibility\":\"private\"}"},
                            {"message", "component added: 'ocr@2'"},
                            {"needs_admin", false}}));
  EXPECT_EQ(draft["settings_changes"][1]["kind"], "setting-added");
  EXPECT_EQ(draft["role_changes"], false);

  RunResult list = Run("draft list");
  EXPECT_NE(list.out.find("\tbanking-assistant; 2 settings change(s)\n"), std::string::npos) << list.out;

  RunResult r = Run("publish --draft tune");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\n  banking-assistant v2\n" + listed), std::string::npos) << r.out;
}

TEST_F(PublishChecksCliTest, RoleChangeIsRefusedForAnIntegratorAndFlaggedForTheAdmin) {
  ASSERT_EQ(Run("role grant mallory@example.com integrator").exit_code, 0);
  // "Fix typo": one word in a flow, and the author makes himself admin.
  std::string clone = StartDraftInClone("fix-typo");
  const std::string app = clone + "/flows/Support/ticket-triage/app_definition.json";
  Json doc = Json::parse(testing::ReadFile(app));
  doc["description"] = doc["description"].get<std::string>() + " ";
  testing::WriteFile(app, CanonicalJson(doc));
  EditSettings([](Json& settings) { settings["roles"]["mallory@example.com"] = "admin"; });
  PushDraft("fix-typo");

  const std::string flagged = "role change: 'mallory@example.com' integrator -> admin (needs admin)";
  RunResult show = Run("draft show fix-typo");
  EXPECT_NE(show.out.find("changed flows:\n  ticket-triage\nsettings changes:\n  " + flagged +
                          "\n"
                          "publishing this draft needs the admin role: it changes roles\n"),
            std::string::npos)
      << show.out;
  EXPECT_NE(Run("draft list").out.find("\tticket-triage; 1 settings change(s), role changes (needs admin)\n"),
            std::string::npos);

  std::string before = testing::RefsSnapshot(repo_);
  RunResult refused = Run("publish --draft fix-typo", "mallory@example.com");
  EXPECT_EQ(refused.exit_code, 6);
  EXPECT_EQ(refused.err,
            "flowrepo: error: user 'mallory@example.com' needs role 'admin' in workspace 'main' (has "
            "'integrator')\n");
  EXPECT_EQ(before, testing::RefsSnapshot(repo_));

  RunResult r = Run("publish --draft fix-typo --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto published = nlohmann::json::parse(r.out);
  EXPECT_EQ(published["role_changes"], true);
  ASSERT_EQ(published["settings_changes"].size(), 1u);
  EXPECT_EQ(published["settings_changes"][0], nlohmann::json({{"kind", "role-changed"},
                                                              {"key", "mallory@example.com"},
                                                              {"before", "integrator"},
                                                              {"after", "admin"},
                                                              {"message", flagged},
                                                              {"needs_admin", true}}));
  EXPECT_EQ(published["versions"][0]["flow"], "ticket-triage");
  EXPECT_NE(Run("role list").out.find("mallory@example.com\tadmin\n"), std::string::npos);
}

}  // namespace
}  // namespace flowrepo
