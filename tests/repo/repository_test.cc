#include "flowrepo/repository.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "json/json_io.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::ExpectError;
using testing::ExpectFsckClean;
using testing::MakeFlow;
using testing::TempDir;

constexpr char kAdmin[] = "admin@example.com";

class FlowRepositoryTest : public ::testing::TestWithParam<InitOptions::Layout> {
 protected:
  FlowRepository Init() { return testing::InitRepository(dir_.path() + "/repo", kAdmin, GetParam()); }
  std::string repo_path() const { return dir_.path() + "/repo"; }

  // Publishes \a flows through a draft of the same name.
  PublishResult PutAndPublish(FlowRepository& repo, const std::vector<Flow>& flows, const std::string& draft,
                              const std::string& note = "") {
    repo.PutFlows("main", draft, flows);
    return repo.Publish("main", draft, note);
  }

  TempDir dir_;
};

TEST_P(FlowRepositoryTest, InitCreatesWorkspaceWithSettings) {
  FlowRepository repo = Init();
  auto workspaces = repo.ListWorkspaces();
  ASSERT_EQ(workspaces.size(), 1u);
  EXPECT_EQ(workspaces[0].name, "main");
  EXPECT_EQ(workspaces[0].flow_count, 0);
  EXPECT_EQ(repo.bare(), GetParam() == InitOptions::Layout::kBare);
  ExpectFsckClean(repo_path());
}

// A draft commit names what it wrote: one flow by id, several counted and
// listed.
TEST_P(FlowRepositoryTest, DraftCommitsNameTheFlowsWritten) {
  FlowRepository repo = Init();
  PutAndPublish(repo, {MakeFlow("alpha")}, "first");
  repo.CopyFlow("main", {"alpha", "Alpha Two", "", "", "c"});
  repo.PutFlows("main", "p", {MakeFlow("beta"), MakeFlow("gamma")});
  auto subject = [&](const std::string& draft) {
    return testing::Shell("git log -1 --format=%B drafts/main/" + draft, dir_.path() + "/repo").out;
  };
  EXPECT_EQ(subject("c"), "Copy flow alpha-two\n");
  EXPECT_EQ(subject("p"), "Put 2 flows\n\n- beta\n- gamma\n\n");
}

TEST_P(FlowRepositoryTest, InitTwiceIsAlreadyExists) {
  Init();
  InitOptions options;
  options.layout = GetParam();
  options.user = kAdmin;
  ExpectError(ErrorCode::kAlreadyExists, "", [&] { FlowRepository::Init(repo_path(), options); });
}

TEST_P(FlowRepositoryTest, PublishTagsVersionsAndRemovesDraft) {
  FlowRepository repo = Init();
  PublishResult r =
      PutAndPublish(repo, {MakeFlow("alpha", "Finance/Retail"), MakeFlow("beta", "Ops")}, "first", "initial");
  ASSERT_EQ(r.versions.size(), 2u);
  EXPECT_EQ(r.versions[0].flow, "alpha");
  EXPECT_EQ(r.versions[0].number, 1);
  EXPECT_TRUE(repo.ListDrafts("main").empty());
  auto flows = repo.ListFlows({"main", "", ""});
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].group, "Finance/Retail");
  History h = repo.FlowHistory("main", "alpha");
  ASSERT_EQ(h.versions.size(), 1u);
  EXPECT_EQ(h.versions[0].note, "initial");
  EXPECT_EQ(h.versions[0].author, kAdmin);
  ExpectFsckClean(repo_path());
}

TEST_P(FlowRepositoryTest, SecondPublishMakesV2AndDiffShowsNodeChanges) {
  FlowRepository repo = Init();
  PutAndPublish(repo, {MakeFlow("alpha")}, "d1");
  PutAndPublish(repo, {MakeFlow("alpha", "", 3)}, "d2", "more calls");
  History h = repo.FlowHistory("main", "alpha");
  ASSERT_EQ(h.versions.size(), 2u);
  EXPECT_EQ(h.versions[0].number, 2);
  FlowDiff d = repo.Diff("main", "alpha", "v1", "v2");
  int added = 0;
  for (const auto& c : d.changes) {
    if (c.kind == Change::Kind::kAdded && (c.node == "call-1" || c.node == "call-2")) ++added;
  }
  EXPECT_EQ(added, 2);
}

TEST_P(FlowRepositoryTest, RevertMakesNextVersionWithOldContent) {
  FlowRepository repo = Init();
  PutAndPublish(repo, {MakeFlow("alpha")}, "d1");
  PutAndPublish(repo, {MakeFlow("alpha", "", 3)}, "d2");
  WriteResult w = repo.Revert("main", "alpha", 1);
  EXPECT_EQ(w.draft.name, "revert-alpha-v1");
  PublishResult r = repo.Publish("main", "revert-alpha-v1", "back to v1");
  ASSERT_EQ(r.versions.size(), 1u);
  EXPECT_EQ(r.versions[0].number, 3);
  Flow v1 = repo.ReadFlow("main", ParseFlowSpec("alpha@v1"));
  Flow v3 = repo.ReadFlow("main", ParseFlowSpec("alpha@v3"));
  Flow v2 = repo.ReadFlow("main", ParseFlowSpec("alpha@v2"));
  EXPECT_EQ(v1.flow_definition, v3.flow_definition);
  EXPECT_NE(v2.flow_definition, v3.flow_definition);  // v2 still readable
  ExpectFsckClean(repo_path());
}

TEST_P(FlowRepositoryTest, PublishRefusesInvalidFlowsListingEveryProblem) {
  FlowRepository repo = Init();
  Flow bad = MakeFlow("bad");
  Json def = Json::parse(bad.flow_definition);
  def["nodes"].push_back({{"id", "start"}, {"type", "start"}});    // duplicate id
  def["edges"].push_back({{"from", "start"}, {"to", "nowhere"}});  // dangling edge
  def["nodes"].push_back({{"id", "s"}, {"type", "subflow"}, {"config", {{"flow", "ghost"}}}});
  bad.flow_definition = CanonicalJson(def);
  repo.PutFlows("main", "d", {bad});
  std::string before = testing::RefsSnapshot(repo_path());
  try {
    repo.Publish("main", "d", "");
    FAIL() << "publish should refuse";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidData);
    EXPECT_EQ(std::string(e.what()), "publish refused: 3 problem(s) in 1 flow(s); workspace 'main' unchanged");
    ASSERT_EQ(e.details().size(), 3u);
    EXPECT_NE(e.details()[0].find("duplicate node id 'start'"), std::string::npos);
    EXPECT_NE(e.details()[1].find("edge to 'nowhere' is not a node"), std::string::npos);
    EXPECT_NE(e.details()[2].find("node 's' uses flow 'ghost', which does not exist"), std::string::npos);
  }
  EXPECT_EQ(before, testing::RefsSnapshot(repo_path()));
}

TEST_P(FlowRepositoryTest, PublishRefusesMissingSubflow) {
  FlowRepository repo = Init();
  repo.PutFlows("main", "d", {MakeFlow("caller", "", 1, "ghost")});
  try {
    repo.Publish("main", "d", "");
    FAIL();
  } catch (const Error& e) {
    ASSERT_EQ(e.details().size(), 1u);
    EXPECT_NE(e.details()[0].find("uses flow 'ghost', which does not exist"), std::string::npos);
  }
}

TEST_P(FlowRepositoryTest, ConflictingPublishNamesBothCommitsAndChangesNothing) {
  FlowRepository repo = Init();
  PutAndPublish(repo, {MakeFlow("alpha")}, "d1");
  repo.PutFlows("main", "mine", {MakeFlow("alpha", "", 2)});
  PutAndPublish(repo, {MakeFlow("alpha", "", 3)}, "theirs");
  std::string before = testing::RefsSnapshot(repo_path());
  try {
    repo.Publish("main", "mine", "");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kConflict);
    ASSERT_EQ(e.details().size(), 1u);
    EXPECT_NE(e.details()[0].find("flow 'alpha' (flows/alpha) changed in workspace 'main' commit "), std::string::npos)
        << e.details()[0];
    EXPECT_NE(e.details()[0].find("and in draft 'mine' commit "), std::string::npos);
  }
  EXPECT_EQ(before, testing::RefsSnapshot(repo_path()));
}

TEST_P(FlowRepositoryTest, DraftsOfDifferentFlowsMergeIndependently) {
  FlowRepository repo = Init();
  PutAndPublish(repo, {MakeFlow("alpha"), MakeFlow("beta")}, "d1");
  repo.PutFlows("main", "a", {MakeFlow("alpha", "", 2)});
  repo.PutFlows("main", "b", {MakeFlow("beta", "", 2)});
  repo.Publish("main", "a", "");
  PublishResult r = repo.Publish("main", "b", "");
  ASSERT_EQ(r.versions.size(), 1u);
  EXPECT_EQ(r.versions[0].flow, "beta");
  EXPECT_EQ(r.versions[0].number, 2);
  Flow alpha = repo.ReadFlow("main", ParseFlowSpec("alpha"));
  EXPECT_EQ(alpha.flow_definition, MakeFlow("alpha", "", 2).flow_definition);
}

TEST_P(FlowRepositoryTest, CopyMakesExactCopyUnderNewIdOnDraft) {
  FlowRepository repo = Init();
  PutAndPublish(repo, {MakeFlow("alpha", "Finance")}, "d1");
  WriteResult w = repo.CopyFlow("main", {"alpha", "Alpha EU", "", "", ""});
  EXPECT_EQ(w.flows, std::vector<std::string>{"alpha-eu"});
  EXPECT_EQ(w.draft.name, "copy-alpha-eu");
  Flow copy = repo.ReadFlow("main", ParseFlowSpec("alpha-eu@copy-alpha-eu"));
  EXPECT_EQ(copy.summary.group, "Finance");
  EXPECT_EQ(copy.flow_definition, MakeFlow("alpha", "Finance").flow_definition);
  EXPECT_EQ(Json::parse(copy.app_definition)["name"], "Alpha EU");
  ExpectError(ErrorCode::kAlreadyExists, "", [&] { repo.CopyFlow("main", {"alpha", "Again", "alpha", "", "x"}); });
}

TEST_P(FlowRepositoryTest, DropDraftKeepsItsHeadReachable) {
  FlowRepository repo = Init();
  WriteResult w = repo.PutFlows("main", "tmp", {MakeFlow("alpha")});
  std::string kept = repo.DropDraft("main", "tmp");
  EXPECT_EQ(kept.rfind("refs/flowrepo/dropped/main/tmp/", 0), 0u);
  EXPECT_TRUE(repo.ListDrafts("main").empty());
  testing::RunResult r = testing::Shell("git rev-parse " + kept, repo_path());
  EXPECT_EQ(r.out, w.draft.commit + "\n");
}

TEST_P(FlowRepositoryTest, HistoryListsOpenDraftsTouchingTheFlow) {
  FlowRepository repo = Init();
  PutAndPublish(repo, {MakeFlow("alpha"), MakeFlow("beta")}, "d1");
  repo.PutFlows("main", "work", {MakeFlow("alpha", "", 2)});
  EXPECT_EQ(repo.FlowHistory("main", "alpha").drafts, std::vector<std::string>{"work"});
  EXPECT_TRUE(repo.FlowHistory("main", "beta").drafts.empty());
}

TEST_P(FlowRepositoryTest, MovingAFlowToAnotherGroupPublishes) {
  FlowRepository repo = Init();
  PutAndPublish(repo, {MakeFlow("alpha", "A")}, "d1");
  PutAndPublish(repo, {MakeFlow("alpha", "B/C")}, "d2");
  auto flows = repo.ListFlows({"main", "", ""});
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].group, "B/C");
  EXPECT_EQ(repo.FlowHistory("main", "alpha").versions.size(), 2u);
}

TEST_P(FlowRepositoryTest, UnknownThingsAreNotFound) {
  FlowRepository repo = Init();
  ExpectError(ErrorCode::kNotFound, "flow 'nope' not found in workspace 'main'",
              [&] { repo.ReadFlow("main", ParseFlowSpec("nope")); });
  ExpectError(ErrorCode::kNotFound, "workspace 'dev' not found", [&] { repo.ListFlows({"dev", "", ""}); });
  ExpectError(ErrorCode::kNotFound, "draft 'x' not found", [&] { repo.Publish("main", "x", ""); });
  ExpectError(ErrorCode::kInvalidArgument, "", [&] { repo.StartDraft("main", "../evil"); });
}

TEST_P(FlowRepositoryTest, ViewerCannotWrite) {
  FlowRepository admin = Init();
  FlowRepository viewer = FlowRepository::Open(repo_path(), "viewer@example.com");
  ExpectError(ErrorCode::kPermissionDenied,
              "user 'viewer@example.com' needs role 'viewer' in workspace 'main' (has none)", [&] {
                viewer.ListFlows({"main", "", ""});
              });
}

TEST_P(FlowRepositoryTest, WorkspaceCreateBranchesFromSource) {
  FlowRepository repo = Init();
  PutAndPublish(repo, {MakeFlow("alpha")}, "d1");
  WorkspaceInfo dev = repo.CreateWorkspace("dev", "main");
  EXPECT_EQ(dev.flow_count, 1);
  // A rerun while the workspace is as created succeeds (it completes tags).
  EXPECT_TRUE(repo.CreateWorkspace("dev", "main").completed_earlier_create);
  repo.CreateWorkspace("qa", "main");
  ExpectError(ErrorCode::kAlreadyExists, "workspace 'dev' already exists", [&] { repo.CreateWorkspace("dev", "qa"); });
  EXPECT_EQ(repo.ListWorkspaces().size(), 3u);
}

TEST_P(FlowRepositoryTest, InterruptedPublishIsCompletedByRerun) {
  FlowRepository repo = Init();
  repo.PutFlows("main", "d", {MakeFlow("alpha")});
  PublishResult first = repo.Publish("main", "d", "note");
  // Simulate a crash after the workspace moved: tag and draft are back as if
  // the follow-ups never ran.
  testing::Shell(
      "git update-ref -d refs/tags/main/alpha/v1 && git update-ref refs/heads/drafts/main/d " + first.commit + "^2",
      repo_path());
  PublishResult again = repo.Publish("main", "d", "note");
  EXPECT_TRUE(again.completed_earlier_publish);
  EXPECT_EQ(again.commit, first.commit);
  EXPECT_EQ(repo.FlowHistory("main", "alpha").versions.size(), 1u);
  EXPECT_TRUE(repo.ListDrafts("main").empty());
}

TEST_P(FlowRepositoryTest, DraftWhoseHeadWasPublishedByAnotherDraftSaysSo) {
  // Identical imports started at the same second are one commit on two
  // drafts; publishing the second must neither make a version nor claim to
  // have completed an interrupted publish of its own.
  FlowRepository repo = Init();
  repo.PutFlows("main", "a", {MakeFlow("alpha")});
  testing::Shell("git update-ref refs/heads/drafts/main/b refs/heads/drafts/main/a", repo_path());
  PublishResult first = repo.Publish("main", "a", "");
  repo.PutFlows("main", "later", {MakeFlow("beta")});
  repo.Publish("main", "later", "");

  PublishResult second = repo.Publish("main", "b", "");
  EXPECT_FALSE(second.completed_earlier_publish);
  EXPECT_EQ(second.published_with_draft, "a");
  EXPECT_EQ(second.commit, first.commit);
  ASSERT_EQ(second.versions.size(), 1u);
  EXPECT_EQ(second.versions[0].number, 1);
  EXPECT_EQ(repo.FlowHistory("main", "alpha").versions.size(), 1u);
  EXPECT_TRUE(repo.ListDrafts("main").empty());
}

INSTANTIATE_TEST_SUITE_P(Layouts, FlowRepositoryTest,
                         ::testing::Values(InitOptions::Layout::kWorkTree, InitOptions::Layout::kBare),
                         [](const auto& param) {
                           return param.param == InitOptions::Layout::kBare ? "Bare" : "WorkTree";
                         });

// The flow-index cache (.git/flowrepo/flow-index) is only a cache: torn,
// damaged or stale, it never changes what a command sees.
TEST(FlowIndexCacheTest, DamagedOrStaleCacheNeverChangesWhatIsListed) {
  TempDir dir;
  const std::string path = dir / "repo";
  auto ids = [&](FlowRepository& repo) {
    std::vector<std::string> out;
    for (const auto& f : repo.ListFlows({})) out.push_back(f.id);
    std::sort(out.begin(), out.end());
    return out;
  };
  {
    FlowRepository repo = testing::InitRepository(path, kAdmin);
    repo.PutFlows("main", "first", {MakeFlow("a", "G"), MakeFlow("b", "G/H"), MakeFlow("c")});
    repo.Publish("main", "first", "");
  }
  const std::string cache = path + "/.git/flowrepo/flow-index";
  const std::string written = testing::ReadFile(cache);
  ASSERT_NE(written.find("\nb\tG/H\t"), std::string::npos) << written;
  const std::vector<std::string> expected = {"a", "b", "c"};
  for (const std::string& damaged :
       {written.substr(0, written.size() / 2), std::string("junk\n"), written + "d\tG\tnot-an-id\n", std::string()}) {
    testing::WriteFile(cache, damaged);
    FlowRepository repo = FlowRepository::Open(path, kAdmin);
    EXPECT_EQ(ids(repo), expected) << "cache: " << damaged;
  }
  {
    // Stale: the cache of an older tree is brought up to date by comparing trees.
    testing::WriteFile(cache, written);
    FlowRepository repo = FlowRepository::Open(path, kAdmin);
    repo.PutFlows("main", "second", {MakeFlow("d", "G")});
    repo.Publish("main", "second", "");
  }
  testing::WriteFile(cache, written);
  FlowRepository repo = FlowRepository::Open(path, kAdmin);
  EXPECT_EQ(ids(repo), (std::vector<std::string>{"a", "b", "c", "d"}));
}

// Rewriting the cache costs as much as reading it: a publish of one flow
// leaves it behind (the next command derives the difference), a cache far
// behind is rewritten.
TEST(FlowIndexCacheTest, RewrittenOnlyOnceFarBehind) {
  TempDir dir;
  const std::string path = dir / "repo";
  const std::string cache = path + "/.git/flowrepo/flow-index";
  InitOptions options;
  options.user = kAdmin;
  {
    FlowRepository repo = FlowRepository::Init(path, options);
    repo.PutFlows("main", "first", {MakeFlow("a", "G")});
    repo.Publish("main", "first", "");
  }
  const std::string first = testing::ReadFile(cache);
  {
    FlowRepository repo = FlowRepository::Open(path, kAdmin);
    repo.PutFlows("main", "second", {MakeFlow("b", "G")});
    repo.Publish("main", "second", "");
  }
  EXPECT_EQ(testing::ReadFile(cache), first);
  std::vector<Flow> many;
  for (int i = 0; i < 200; ++i) many.push_back(MakeFlow("m" + std::to_string(i), "Many"));
  {
    FlowRepository repo = FlowRepository::Open(path, kAdmin);
    repo.PutFlows("main", "third", many);
    repo.Publish("main", "third", "");
    EXPECT_EQ(repo.ListFlows({}).size(), 202u);
  }
  EXPECT_NE(testing::ReadFile(cache).find("\nm199\tMany\t"), std::string::npos);
}

}  // namespace
}  // namespace flowrepo
