// Publish validates the workspace as the merge leaves it: flows the draft
// leaves alone that use a flow, component or topic it removes refuse the
// publish; settings changes are described on the draft and the result;
// role changes need admin and are flagged; a removal shows in history.

#include <gtest/gtest.h>

#include <algorithm>

#include "flowrepo/repository.h"
#include "json/json_io.h"
#include "repo/repository_impl.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::ExpectError;
using testing::MakeFlow;
using testing::TempDir;

constexpr char kAdmin[] = "admin@example.com";
constexpr char kMallory[] = "mallory@example.com";

// A flow that also subscribes to \a topic.
Flow FlowWithTopic(const std::string& id, const std::string& topic) {
  Flow flow = MakeFlow(id);
  Json def = Json::parse(flow.flow_definition);
  def["nodes"].push_back({{"id", "in"}, {"type", "subscribe"}, {"config", {{"topic", topic}}}});
  def["edges"].push_back({{"from", "start"}, {"to", "in"}});
  flow.flow_definition = CanonicalJson(def);
  return flow;
}

class PublishChecksTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::InitRepository(path(), kAdmin, InitOptions::Layout::kBare); }
  std::string path() const { return dir_ / "repo"; }
  FlowRepository As(const std::string& user) { return FlowRepository::Open(path(), user); }

  // Commits \a edits onto draft \a draft as \a repo's user.
  void EditDraft(FlowRepository& repo, const std::string& draft, const TreeEdits& edits) {
    ImplOf(repo).CommitToDraft("main", draft, edits, "Edit by hand\n", {});
  }
  void RemoveFlow(FlowRepository& repo, const std::string& draft, const std::string& flow_path) {
    EditDraft(repo, draft, {{flow_path, std::nullopt}});
  }
  // The workspace settings at the head, changed by \a change, written on \a draft.
  void EditSettings(FlowRepository& repo, const std::string& draft, const std::function<void(Json&)>& change) {
    FlowRepository::Impl& impl = ImplOf(repo);
    Json doc = WorkspaceSettings::AtCommit(impl.store, impl.WorkspaceHead("main")).document;
    change(doc);
    git_oid blob = impl.store.WriteBlob(CanonicalJson(doc));
    EditDraft(repo, draft, {{std::string(kSettingsPath), TreeEntry{blob, GIT_FILEMODE_BLOB}}});
  }
  void Publish(FlowRepository& repo, const std::vector<Flow>& flows, const std::string& draft) {
    repo.PutFlows("main", draft, flows);
    repo.Publish("main", draft, "");
  }
  // The details of the kInvalidData error \a fn throws; the refs must not move.
  std::vector<std::string> RefusalDetails(const std::string& summary, const std::function<void()>& fn) {
    std::string before = testing::RefsSnapshot(path());
    std::vector<std::string> details;
    try {
      fn();
      ADD_FAILURE() << "publish should refuse";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidData) << e.what();
      EXPECT_EQ(std::string(e.what()), summary);
      details = e.details();
    }
    EXPECT_EQ(before, testing::RefsSnapshot(path()));
    return details;
  }

  TempDir dir_;
};

TEST_F(PublishChecksTest, RemovingAUsedSubflowIsRefusedNamingTheUser) {
  FlowRepository admin = As(kAdmin);
  Publish(admin, {MakeFlow("callee", "Lib"), MakeFlow("caller", "App", 1, "callee"), MakeFlow("other")}, "d1");
  RemoveFlow(admin, "retire", "flows/Lib/callee");
  auto details = RefusalDetails("publish refused: 1 problem(s) in 1 flow(s); workspace 'main' unchanged",
                                [&] { admin.Publish("main", "retire", ""); });
  EXPECT_EQ(details,
            std::vector<std::string>{"flows/App/caller/flow_definition.json:/nodes/2/config/flow: node 'sub' uses flow "
                                     "'callee', which draft 'retire' removes [missing-subflow]"});
}

TEST_F(PublishChecksTest, RenamingAUsedSubflowIsRefused) {
  FlowRepository admin = As(kAdmin);
  Publish(admin, {MakeFlow("callee"), MakeFlow("caller", "", 1, "callee")}, "d1");
  Flow renamed = MakeFlow("callee-v2");
  renamed.flow_definition = MakeFlow("callee").flow_definition;
  admin.PutFlows("main", "rename", {renamed});
  RemoveFlow(admin, "rename", "flows/callee");
  auto details = RefusalDetails("publish refused: 1 problem(s) in 1 flow(s); workspace 'main' unchanged",
                                [&] { admin.Publish("main", "rename", ""); });
  ASSERT_EQ(details.size(), 1u);
  EXPECT_NE(details[0].find("flows/caller/flow_definition.json"), std::string::npos) << details[0];
}

TEST_F(PublishChecksTest, RemovingASubflowWithItsUserPublishes) {
  FlowRepository admin = As(kAdmin);
  Publish(admin, {MakeFlow("callee", "Lib"), MakeFlow("caller", "App", 1, "callee")}, "d1");
  EditDraft(admin, "retire", {{"flows/Lib/callee", std::nullopt}, {"flows/App/caller", std::nullopt}});
  EXPECT_EQ(admin.ShowDraft("main", "retire").removed_flows, (std::vector<std::string>{"callee", "caller"}));
  PublishResult r = admin.Publish("main", "retire", "retire both");
  EXPECT_EQ(r.removed, (std::vector<std::string>{"callee", "caller"}));
  EXPECT_TRUE(r.versions.empty());
  EXPECT_TRUE(admin.ListFlows({"main", "", ""}).empty());
}

TEST_F(PublishChecksTest, MovingAUsedSubflowToAnotherGroupPublishes) {
  FlowRepository admin = As(kAdmin);
  Publish(admin, {MakeFlow("callee", "Lib"), MakeFlow("caller", "", 1, "callee")}, "d1");
  admin.PutFlows("main", "move", {MakeFlow("callee", "Shared")});
  PublishResult r = admin.Publish("main", "move", "");
  EXPECT_TRUE(r.removed.empty());
  ASSERT_EQ(r.versions.size(), 1u);
  EXPECT_EQ(r.versions[0].number, 2);
}

TEST_F(PublishChecksTest, RemovingAUsedComponentIsRefusedListingTheFlows) {
  FlowRepository admin = As(kAdmin);
  Publish(admin, {MakeFlow("alpha"), MakeFlow("beta", "Ops")}, "d1");
  EditSettings(admin, "slim", [](Json& doc) {
    Json kept = Json::array();
    for (const auto& c : doc["components"]) {
      if (c["name"] != "http") kept.push_back(c);
    }
    doc["components"] = kept;
  });
  auto details = RefusalDetails("publish refused: 2 problem(s) in 2 flow(s); workspace 'main' unchanged",
                                [&] { admin.Publish("main", "slim", ""); });
  EXPECT_EQ(details, (std::vector<std::string>{
                         "flows/alpha/flow_definition.json:/nodes/1/component: component 'http@1' is used "
                         "here and draft 'slim' removes it from the workspace [missing-component]",
                         "flows/Ops/beta/flow_definition.json:/nodes/1/component: component 'http@1' is used "
                         "here and draft 'slim' removes it from the workspace [missing-component]"}));
}

TEST_F(PublishChecksTest, RemovingAnUnusedComponentPublishes) {
  FlowRepository admin = As(kAdmin);
  Publish(admin, {MakeFlow("alpha")}, "d1");
  EditSettings(admin, "slim", [](Json& doc) {
    Json kept = Json::array();
    for (const auto& c : doc["components"]) {
      if (c["name"] != "javascript") kept.push_back(c);
    }
    doc["components"] = kept;
  });
  PublishResult r = admin.Publish("main", "slim", "");
  ASSERT_EQ(r.settings_changes.size(), 1u);
  EXPECT_EQ(r.settings_changes[0].kind, SettingsChange::Kind::kComponentRemoved);
  EXPECT_EQ(r.settings_changes[0].key, "javascript@1");
  EXPECT_EQ(r.settings_changes[0].message, "component removed: 'javascript@1'");
  EXPECT_FALSE(r.settings_changes[0].needs_admin);
}

TEST_F(PublishChecksTest, RemovingAUsedTopicIsRefused) {
  FlowRepository admin = As(kAdmin);
  EditSettings(admin, "topics", [](Json& doc) { doc["topics"] = {"orders.new", "orders.done"}; });
  admin.Publish("main", "topics", "");
  Publish(admin, {FlowWithTopic("listener", "orders.new"), MakeFlow("alpha")}, "d1");
  EditSettings(admin, "drop-topic", [](Json& doc) { doc["topics"] = {"orders.done"}; });
  auto details = RefusalDetails("publish refused: 1 problem(s) in 1 flow(s); workspace 'main' unchanged",
                                [&] { admin.Publish("main", "drop-topic", ""); });
  EXPECT_EQ(details, std::vector<std::string>{
                         "flows/listener/flow_definition.json:/nodes/3/config/topic: topic 'orders.new' is used "
                         "here and draft 'drop-topic' removes it from the workspace [missing-topic]"});
}

TEST_F(PublishChecksTest, ChangedFlowsAreStillCheckedAgainstTheMergedSettings) {
  FlowRepository admin = As(kAdmin);
  Publish(admin, {MakeFlow("alpha")}, "d1");
  admin.PutFlows("main", "both", {MakeFlow("alpha", "", 2)});
  EditSettings(admin, "both", [](Json& doc) { doc["components"] = Json::array(); });
  auto details = RefusalDetails("publish refused: 1 problem(s) in 1 flow(s); workspace 'main' unchanged",
                                [&] { admin.Publish("main", "both", ""); });
  ASSERT_EQ(details.size(), 1u);
  EXPECT_NE(details[0].find("component 'http@1' is not available in the workspace [missing-component]"),
            std::string::npos)
      << details[0];
}

TEST_F(PublishChecksTest, InvalidOrMissingSettingsAreRefused) {
  FlowRepository admin = As(kAdmin);
  EditSettings(admin, "bad-role", [](Json& doc) { doc["roles"]["bob@example.com"] = "superuser"; });
  auto details = RefusalDetails("publish refused: 1 problem(s) in the workspace settings; workspace 'main' unchanged",
                                [&] { admin.Publish("main", "bad-role", ""); });
  EXPECT_EQ(details,
            std::vector<std::string>{".flowrepo/workspace.json:/roles/bob@example.com: user 'bob@example.com' has an "
                                     "unknown role; use viewer, integrator or admin [role]"});
  EditDraft(admin, "no-settings", {{std::string(kSettingsPath), std::nullopt}});
  DraftInfo d = admin.ShowDraft("main", "no-settings");
  ASSERT_FALSE(d.settings_changes.empty());
  EXPECT_EQ(d.settings_changes[0].kind, SettingsChange::Kind::kFileRemoved);
  EXPECT_TRUE(d.settings_changes[0].needs_admin);
  RefusalDetails("publish refused: 1 problem(s) in the workspace settings; workspace 'main' unchanged",
                 [&] { admin.Publish("main", "no-settings", ""); });
}

TEST_F(PublishChecksTest, EverySettingsChangeIsDescribedOnTheDraftAndTheResult) {
  FlowRepository admin = As(kAdmin);
  admin.GrantRole("main", "bob@example.com", Role::kIntegrator);
  admin.GrantRole("main", "vic@example.com", Role::kViewer);
  EditSettings(admin, "env", [](Json& doc) { doc["env_defaults"] = {{"LOG_LEVEL", "info"}, {"REGION", "eu"}}; });
  admin.Publish("main", "env", "");
  EditSettings(admin, "settings", [](Json& doc) {
    doc["roles"]["bob@example.com"] = "admin";
    doc["roles"].erase("vic@example.com");
    doc["roles"]["dan@example.com"] = "viewer";
    doc["components"].push_back({{"name", "ocr"}, {"version", "2"}, {"visibility", "private"}});
    doc["topics"] = {"orders.new"};
    doc["env_defaults"]["LOG_LEVEL"] = "debug";
    doc["env_defaults"].erase("REGION");
  });
  FlowRepository::Impl& impl = ImplOf(admin);
  git_oid readme = impl.store.WriteBlob("read me\n");
  EditDraft(admin, "settings", {{".flowrepo/README.md", TreeEntry{readme, GIT_FILEMODE_BLOB}}});

  std::vector<std::pair<std::string, std::string>> expected = {
      {"role-changed", "role change: 'bob@example.com' integrator -> admin (needs admin)"},
      {"role-revoked", "role revoked: 'vic@example.com' was viewer (needs admin)"},
      {"role-granted", "role granted: 'dan@example.com' viewer (needs admin)"},
      {"component-added", "component added: 'ocr@2'"},
      {"topic-added", "topic added: 'orders.new'"},
      {"setting-removed", "setting removed: 'env_defaults/REGION' (was \"eu\")"},
      {"setting-changed", "setting changed: 'env_defaults/LOG_LEVEL' \"info\" -> \"debug\""},
      {"file-added", "file added: '.flowrepo/README.md'"},
  };
  auto described = [](const std::vector<SettingsChange>& changes) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& c : changes) out.emplace_back(SettingsChangeKindName(c.kind), c.message);
    return out;
  };
  auto sorted = [](std::vector<std::pair<std::string, std::string>> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  DraftInfo d = admin.ShowDraft("main", "settings");
  EXPECT_EQ(sorted(described(d.settings_changes)), sorted(expected));
  EXPECT_EQ(described(admin.ListDrafts("main")[0].settings_changes), described(d.settings_changes));
  // Roles come first, so a long list never hides them.
  EXPECT_TRUE(d.settings_changes[0].needs_admin);
  EXPECT_TRUE(d.settings_changes[1].needs_admin);
  EXPECT_TRUE(d.settings_changes[2].needs_admin);

  PublishResult r = admin.Publish("main", "settings", "");
  EXPECT_EQ(described(r.settings_changes), described(d.settings_changes));
  // The other file is merged, not only described.
  git::TreePtr head = impl.store.CommitTree(impl.WorkspaceHead("main"));
  EXPECT_TRUE(impl.store.EntryAt(head.get(), ".flowrepo/README.md"));
}

TEST_F(PublishChecksTest, RoleChangeIsRefusedForAnIntegratorAndFlaggedForAnAdmin) {
  FlowRepository admin = As(kAdmin);
  admin.GrantRole("main", kMallory, Role::kIntegrator);
  Publish(admin, {MakeFlow("alpha")}, "d1");
  // "Fix typo": a flow change, and the author makes himself admin.
  FlowRepository mallory = As(kMallory);
  Flow fixed = MakeFlow("alpha");
  Json app = Json::parse(fixed.app_definition);
  app["description"] = "test flow.";
  fixed.app_definition = CanonicalJson(app);
  mallory.PutFlows("main", "fix-typo", {fixed});
  EditSettings(mallory, "fix-typo", [](Json& doc) { doc["roles"][kMallory] = "admin"; });

  DraftInfo d = admin.ShowDraft("main", "fix-typo");
  EXPECT_EQ(d.changed_flows, std::vector<std::string>{"alpha"});
  ASSERT_EQ(d.settings_changes.size(), 1u);
  EXPECT_EQ(d.settings_changes[0].kind, SettingsChange::Kind::kRoleChanged);
  EXPECT_EQ(d.settings_changes[0].key, kMallory);
  EXPECT_EQ(d.settings_changes[0].before, "integrator");
  EXPECT_EQ(d.settings_changes[0].after, "admin");
  EXPECT_EQ(d.settings_changes[0].message, "role change: 'mallory@example.com' integrator -> admin (needs admin)");
  EXPECT_TRUE(d.settings_changes[0].needs_admin);

  std::string before = testing::RefsSnapshot(path());
  ExpectError(ErrorCode::kPermissionDenied,
              "user 'mallory@example.com' needs role 'admin' in workspace 'main' (has 'integrator')",
              [&] { mallory.Publish("main", "fix-typo", ""); });
  EXPECT_EQ(before, testing::RefsSnapshot(path()));

  PublishResult r = admin.Publish("main", "fix-typo", "");
  ASSERT_EQ(r.versions.size(), 1u);
  ASSERT_EQ(r.settings_changes.size(), 1u);
  EXPECT_TRUE(r.settings_changes[0].needs_admin);
  EXPECT_EQ(r.settings_changes[0].message, d.settings_changes[0].message);
}

TEST_F(PublishChecksTest, RemovedFlowShowsInHistory) {
  FlowRepository admin = As(kAdmin);
  Publish(admin, {MakeFlow("old"), MakeFlow("alpha")}, "d1");
  Publish(admin, {MakeFlow("old", "", 2)}, "d2");
  RemoveFlow(admin, "retire", "flows/old");
  PublishResult r = admin.Publish("main", "retire", "old is retired");
  Publish(admin, {MakeFlow("alpha", "", 2)}, "later");

  History h = admin.FlowHistory("main", "old");
  ASSERT_EQ(h.versions.size(), 2u);
  ASSERT_EQ(h.removed.size(), 1u);
  EXPECT_EQ(h.removed[0].commit, r.commit);
  EXPECT_EQ(h.removed[0].author, kAdmin);
  EXPECT_GT(h.removed[0].time, 0);
  EXPECT_EQ(h.removed[0].note, "old is retired");
  EXPECT_TRUE(admin.FlowHistory("main", "alpha").removed.empty());
}

// History walks back from the head to the latest version; past a few dozen
// commits it looks the flow up first, and a living flow ends the walk.
TEST_F(PublishChecksTest, RemovalFarBehindTheHeadShowsInHistory) {
  FlowRepository admin = As(kAdmin);
  Publish(admin, {MakeFlow("old"), MakeFlow("alpha")}, "d1");
  RemoveFlow(admin, "retire", "flows/old");
  PublishResult r = admin.Publish("main", "retire", "");
  for (int i = 0; i < 70; ++i) {
    admin.GrantRole("main", "bob@example.com", i % 2 ? Role::kViewer : Role::kIntegrator);
  }
  History h = admin.FlowHistory("main", "old");
  ASSERT_EQ(h.removed.size(), 1u);
  EXPECT_EQ(h.removed[0].commit, r.commit);
  EXPECT_TRUE(admin.FlowHistory("main", "alpha").removed.empty());
}

}  // namespace
}  // namespace flowrepo
