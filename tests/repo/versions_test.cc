// Versions: trailers read from the trailer block only, version tags believed
// only when a publish commit of their workspace backs them, workspace
// creation as a publish, and FlowRepository::Check.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "flowrepo/package.h"
#include "flowrepo/repository.h"
#include "json/json_io.h"
#include "repo/trailers.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::ExpectError;
using testing::ExpectFsckClean;
using testing::MakeFlow;
using testing::RefsSnapshot;
using testing::Shell;
using testing::TempDir;

constexpr char kAdmin[] = "admin@example.com";

// ---- trailers ---------------------------------------------------------------

TEST(TrailersTest, OnlyTheTrailerBlockCounts) {
  PublishTrailers t = ReadPublishTrailers(
      "Publish a v1 from draft d\n\nnote\nFlowrepo-Version: other v7\nFlowrepo-Workspace: evil\n\n"
      "Flowrepo-Draft: d\nFlowrepo-Workspace: main\nFlowrepo-Version: a v1\n");
  EXPECT_EQ(t.workspace, "main");
  EXPECT_EQ(t.draft, "d");
  ASSERT_EQ(t.versions.size(), 1u);
  EXPECT_EQ(t.versions[0].flow, "a");
  EXPECT_EQ(t.versions[0].number, 1);
  EXPECT_FALSE(t.NamesVersion("other", 7));
}

TEST(TrailersTest, APatchLineEndsTheMessageAsForGit) {
  // What a note with a '---' line would have done: the real trailers after
  // it are no trailers, the forged paragraph before it is.
  PublishTrailers t = ReadPublishTrailers(
      "Publish a v1\n\nFlowrepo-Workspace: main\nFlowrepo-Version: other v7\n---\n\n"
      "Flowrepo-Workspace: main\nFlowrepo-Version: a v1\n");
  ASSERT_EQ(t.versions.size(), 1u);
  EXPECT_EQ(t.versions[0].flow, "other");
}

TEST(TrailersTest, MalformedValuesAreNoVersions) {
  PublishTrailers t = ReadPublishTrailers(
      "Publish\n\nFlowrepo-Workspace: main\nFlowrepo-Version: a v01\nFlowrepo-Version: b v1000000000\n"
      "Flowrepo-Version: Bad v1\nFlowrepo-Version: c v999999999\n");
  ASSERT_EQ(t.versions.size(), 1u);
  EXPECT_EQ(t.versions[0].number, 999999999);
  EXPECT_EQ(t.malformed, (std::vector<std::string>{"Flowrepo-Version: a v01", "Flowrepo-Version: b v1000000000",
                                                   "Flowrepo-Version: Bad v1"}));
  // Two workspaces: a publish of neither.
  EXPECT_EQ(ReadPublishTrailers("P\n\nFlowrepo-Workspace: main\nFlowrepo-Workspace: dev\n").workspace, "");
}

TEST(TrailersTest, RenamesNameTwoDifferentIds) {
  PublishTrailers t = ReadPublishTrailers(
      "Publish\n\nFlowrepo-Workspace: main\nFlowrepo-Renamed: old new\nFlowrepo-Renamed: a a\n"
      "Flowrepo-Renamed: b\nFlowrepo-Renamed: c Bad\nFlowrepo-Version: new v2\n");
  EXPECT_EQ(t.renamed, (std::vector<std::pair<std::string, std::string>>{{"old", "new"}}));
  EXPECT_EQ(t.RenamedFrom("new"), "old");
  EXPECT_EQ(t.RenamedFrom("old"), "");
  EXPECT_EQ(t.malformed,
            (std::vector<std::string>{"Flowrepo-Renamed: a a", "Flowrepo-Renamed: b", "Flowrepo-Renamed: c Bad"}));
  EXPECT_EQ(RenamedTrailerLine("old", "new"), "Flowrepo-Renamed: old new\n");
}

TEST(TrailersTest, NotesThatCouldChangeTheTrailerBlockAreRefused) {
  ExpectError(ErrorCode::kInvalidArgument,
              "publish note refused: line 2 looks like a flowrepo trailer ('Flowrepo-Version: other v7'), which "
              "only flowrepo writes (reword it)",
              [] { RequirePlainNote("note\nFlowrepo-Version: other v7"); });
  ExpectError(ErrorCode::kInvalidArgument, "", [] { RequirePlainNote("  flowrepo-workspace : main"); });
  ExpectError(ErrorCode::kInvalidArgument,
              "publish note refused: line 3 starts with '---', where git's trailer parser cuts the message "
              "(indent or reword it)",
              [] { RequirePlainNote("a\n\n---\nb"); });
  ExpectError(ErrorCode::kInvalidArgument,
              "publish note refused: line 1 holds git's scissors mark '-- >8 --', where git cuts the message",
              [] { RequirePlainNote("# ------------------------ >8 ------------------------"); });
  ExpectError(ErrorCode::kInvalidArgument, "publish note refused: it contains a NUL byte",
              [] { RequirePlainNote(std::string("a\0b", 3)); });
  // Ordinary text, other trailers and indented dashes are fine.
  RequirePlainNote("Fixes the KYC threshold.\n\nReviewed-by: bob@example.com\n --- \nFlowrepo: nice");
}

// ---- versions in a repository ---------------------------------------------------

class VersionsTest : public ::testing::Test {
 protected:
  void SetUp() override { repo_.emplace(testing::InitRepository(path(), kAdmin)); }
  FlowRepository& repo() { return *repo_; }
  std::string path() const { return dir_ / "repo"; }

  PublishResult Publish(const std::vector<Flow>& flows, const std::string& draft, const std::string& ws = "main",
                        const std::string& note = "") {
    repo().PutFlows(ws, draft, flows);
    return repo().Publish(ws, draft, note);
  }
  // Runs git in the repository (with a scratch index and a fixed
  // identity for every git in \a args); returns its output's first line.
  std::string Git(const std::string& args) {
    auto r = Shell(
        "export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=T "
        "GIT_COMMITTER_EMAIL=t@example.com GIT_INDEX_FILE=" +
            testing::Quote(dir_ / "scratch-index") + "; git " + args,
        path());
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  // A commit made by hand with \a message on \a parent's tree.
  std::string HandCommit(const std::string& message, const std::string& parent, const std::string& second_parent = "") {
    testing::WriteFile(dir_ / "message", message);
    return Git("commit-tree " + parent + "^{tree} -p " + parent +
               (second_parent.empty() ? "" : " -p " + second_parent) + " -F " + testing::Quote(dir_ / "message"));
  }
  std::vector<int> Numbers(const std::string& ws, const std::string& flow) {
    std::vector<int> out;
    for (const auto& v : repo().FlowHistory(ws, flow).versions) out.push_back(v.number);
    return out;
  }
  std::vector<std::string> Kinds(const CheckReport& report) {
    std::vector<std::string> out;
    for (const auto& p : report.problems) out.push_back(std::string(CheckKindName(p.kind)) + " " + p.ref);
    return out;
  }
  // Reopens the repository (a new process would: no in-memory state).
  void Reopen() {
    repo_.reset();
    repo_.emplace(FlowRepository::Open(path(), kAdmin));
  }

  TempDir dir_;
  std::optional<FlowRepository> repo_;
};

// Many versions at once are tagged in one pass (one pack of tag objects,
// one rewrite of packed-refs): git sees every tag at its publish commit,
// and the single-tag path still works after it.
TEST_F(VersionsTest, APublishOfManyFlowsTagsEveryOneInOnePass) {
  std::vector<Flow> flows;
  for (int i = 0; i < 40; ++i) flows.push_back(MakeFlow("flow-" + std::to_string(i)));
  PublishResult many = Publish(flows, "many");
  ASSERT_EQ(many.versions.size(), 40u);
  std::string tags = Shell("git for-each-ref --format='%(objecttype) %(*objectname)' refs/tags/main", path()).out;
  std::string expected;
  for (int i = 0; i < 40; ++i) expected += "tag " + many.commit + "\n";
  EXPECT_EQ(tags, expected);
  EXPECT_EQ(Shell("find .git/refs/tags -type f | wc -l", path()).out, "0\n");  // none loose
  // The tag objects are in a pack, not loose files.
  EXPECT_EQ(
      Shell("for f in $(find .git/objects/?? -type f); do git cat-file -t $(basename $(dirname $f))$(basename $f); "
            "done | grep -c tag",
            path())
          .out,
      "0\n");
  PublishResult one = Publish({MakeFlow("flow-7", "", 2)}, "one");
  ASSERT_EQ(one.versions.size(), 1u);
  EXPECT_EQ(Git("rev-parse main/flow-7/v2^{commit}"), one.commit);
  EXPECT_EQ(repo().FlowHistory("main", "flow-7").versions.size(), 2u);
  EXPECT_TRUE(repo().Check().ok());
  ExpectFsckClean(path());
}

TEST_F(VersionsTest, ForgedNoteIsRefusedAndTagsNothing) {
  Publish({MakeFlow("alpha"), MakeFlow("other")}, "first");
  repo().PutFlows("main", "d", {MakeFlow("alpha", "", 2)});
  const std::string before = RefsSnapshot(path());
  ExpectError(ErrorCode::kInvalidArgument,
              "publish note refused: line 2 looks like a flowrepo trailer ('Flowrepo-Version: other v7'), which "
              "only flowrepo writes (reword it)",
              [&] { repo().Publish("main", "d", "note\nFlowrepo-Version: other v7"); });
  ExpectError(ErrorCode::kInvalidArgument, "", [&] { repo().Publish("main", "d", "note\n---\nFlowrepo-Draft: x"); });
  EXPECT_EQ(RefsSnapshot(path()), before);
  // A note quoting trailers of other tools publishes and tags only the draft's flow.
  PublishResult r = repo().Publish("main", "d", "note\n\nReviewed-by: bob@example.com");
  ASSERT_EQ(r.versions.size(), 1u);
  EXPECT_EQ(r.versions[0].tag, "refs/tags/main/alpha/v2");
  EXPECT_EQ(Git("tag -l main/other/*"), "main/other/v1");
  EXPECT_EQ(repo().FlowHistory("main", "alpha").versions[0].note, "note\n\nReviewed-by: bob@example.com");
}

TEST_F(VersionsTest, ForgedTrailerLinesInOldCommitsNameNoVersion) {
  // A publish commit written before notes were checked: its note's trailer
  // lines are not in the trailer block, so nothing believes them.
  Publish({MakeFlow("alpha"), MakeFlow("other")}, "first");
  std::string forged = HandCommit(
      "Publish alpha v2 from draft d\n\nnote\nFlowrepo-Version: other v7\n\nFlowrepo-Draft: d\n"
      "Flowrepo-Workspace: main\nFlowrepo-Version: alpha v2\n",
      "main");
  Git("update-ref refs/heads/main " + forged);
  repo().PutFlows("main", "d2", {MakeFlow("alpha", "", 3)});
  repo().Publish("main", "d2", "");  // completes the head's tags on the way
  EXPECT_EQ(Git("tag -l main/other/*"), "main/other/v1");
  EXPECT_EQ(Numbers("main", "alpha"), (std::vector<int>{3, 2, 1}));
}

TEST_F(VersionsTest, TagAtANonPublishCommitIsIgnoredEverywhere) {
  Publish({MakeFlow("alpha")}, "first");
  repo().PutFlows("main", "work", {MakeFlow("alpha", "", 4)});
  Git("tag -a -m forged main/alpha/v2 drafts/main/work");
  History h = repo().FlowHistory("main", "alpha");
  EXPECT_EQ(Numbers("main", "alpha"), (std::vector<int>{1}));
  EXPECT_EQ(h.ignored_tags, (std::vector<std::string>{"main/alpha/v2"}));
  const std::string unbacked =
      "flow 'alpha' has no version v2 in workspace 'main' (tag 'main/alpha/v2' is not backed by a publish "
      "commit; see 'flowrepo check')";
  ExpectError(ErrorCode::kNotFound, unbacked, [&] { repo().ReadFlow("main", ParseFlowSpec("alpha@v2")); });
  ExpectError(ErrorCode::kNotFound, unbacked, [&] { repo().Revert("main", "alpha", 2); });
  ExpectError(ErrorCode::kNotFound, unbacked, [&] { repo().Diff("main", "alpha", "v1", "v2"); });
  ExportRequest request;
  request.selection = {"alpha"};
  request.version = 2;
  request.directory = dir_.path();
  ExpectError(ErrorCode::kNotFound, unbacked, [&] { ExportPackage(repo(), request); });
  // The latest version is the latest backed one.
  request.version = 0;
  ExportResult exported = ExportPackage(repo(), request);
  EXPECT_EQ(exported.commit, h.versions[0].commit);

  CheckReport report = repo().Check();
  EXPECT_EQ(Kinds(report), (std::vector<std::string>{"unbacked-tag refs/tags/main/alpha/v2"}));
  EXPECT_EQ(report.problems[0].flow, "alpha");
  EXPECT_NE(report.problems[0].message.find("which is no publish commit of workspace 'main'"), std::string::npos)
      << report.problems[0].message;
}

TEST_F(VersionsTest, TagAtAnotherFlowsPublishIsIgnored) {
  Publish({MakeFlow("alpha"), MakeFlow("beta")}, "first");
  PublishResult beta2 = Publish({MakeFlow("beta", "", 2)}, "b2");
  Git("tag main/alpha/v2 " + beta2.commit);  // lightweight, at a real publish
  EXPECT_EQ(Numbers("main", "alpha"), (std::vector<int>{1}));
  EXPECT_EQ(Numbers("main", "beta"), (std::vector<int>{2, 1}));
  EXPECT_EQ(Kinds(repo().Check()), (std::vector<std::string>{"unbacked-tag refs/tags/main/alpha/v2"}));
}

TEST_F(VersionsTest, TagAtAPublishOutsideTheWorkspaceIsIgnored) {
  Publish({MakeFlow("alpha")}, "first");
  // A well-formed publish commit of alpha v2 that the workspace never got.
  std::string stray = HandCommit(
      "Publish alpha v2 from draft x\n\nnote\n\nFlowrepo-Draft: x\n"
      "Flowrepo-Workspace: main\nFlowrepo-Version: alpha v2\n",
      "main");
  Git("tag -a -m stray main/alpha/v2 " + stray);
  EXPECT_EQ(Numbers("main", "alpha"), (std::vector<int>{1}));
  ExpectError(ErrorCode::kNotFound, "", [&] { repo().Diff("main", "alpha", "v1", "v2"); });
  CheckReport report = repo().Check();
  ASSERT_EQ(Kinds(report), (std::vector<std::string>{"unbacked-tag refs/tags/main/alpha/v2"}));
  EXPECT_NE(report.problems[0].message.find("that workspace 'main' does not contain"), std::string::npos)
      << report.problems[0].message;
}

TEST_F(VersionsTest, PublishReachedThroughASecondParentStillCounts) {
  // Plain git moved the workspace to a merge whose first parent is older:
  // the publishes are reachable, though not along first parents.
  Publish({MakeFlow("alpha")}, "first");
  Publish({MakeFlow("alpha", "", 2)}, "second");
  std::string root = Git("rev-list --max-parents=0 main");
  std::string merge = HandCommit("Merge\n", root, "main");
  Git("update-ref refs/heads/main " + merge);
  Reopen();
  EXPECT_EQ(Numbers("main", "alpha"), (std::vector<int>{2, 1}));
  EXPECT_TRUE(repo().Check().ok());
}

TEST_F(VersionsTest, SquattedNextTagRefusesPublishAndLeavesTheWorkspace) {
  Publish({MakeFlow("kyc-check")}, "first");
  Git("tag main/kyc-check/v999999999 main");  // far ahead: ignored, no obstacle
  repo().PutFlows("main", "d", {MakeFlow("kyc-check", "", 2)});
  Git("tag -a -m squat main/kyc-check/v2 drafts/main/d");
  const std::string before = RefsSnapshot(path());
  ExpectError(ErrorCode::kConflict,
              "publish refused: tag 'main/kyc-check/v2' exists but no publish commit backs it, so version v2 of "
              "'kyc-check' cannot be tagged; see 'flowrepo check'",
              [&] { repo().Publish("main", "d", "n"); });
  EXPECT_EQ(RefsSnapshot(path()), before);
  Git("tag -d main/kyc-check/v2");
  PublishResult r = repo().Publish("main", "d", "n");
  EXPECT_EQ(r.versions[0].number, 2);
  EXPECT_EQ(Numbers("main", "kyc-check"), (std::vector<int>{2, 1}));
}

TEST_F(VersionsTest, NumbersNamedByPublishCommitsAreNeverReused) {
  Publish({MakeFlow("alpha")}, "first");
  Publish({MakeFlow("alpha", "", 2)}, "second");
  Publish({MakeFlow("beta")}, "third");  // alpha's v2 publish is no longer the head
  Git("tag -d main/alpha/v2");           // as if its publish was killed before tagging
  Reopen();
  EXPECT_EQ(Kinds(repo().Check()), (std::vector<std::string>{"missing-tag refs/tags/main/alpha/v2"}));
  PublishResult r = Publish({MakeFlow("alpha", "", 3)}, "fourth");
  EXPECT_EQ(r.versions[0].number, 3);
  CheckOptions repair;
  repair.repair = CheckOptions::Repair::kMissingTags;
  CheckReport report = repo().Check(repair);
  EXPECT_EQ(report.repaired, (std::vector<std::string>{"refs/tags/main/alpha/v2"}));
  EXPECT_TRUE(report.ok()) << report.problems[0].ToString();
  History h = repo().FlowHistory("main", "alpha");
  EXPECT_EQ(Numbers("main", "alpha"), (std::vector<int>{3, 2, 1}));
  EXPECT_EQ(h.versions[1].note, "Publish draft second");  // the publish's own note
  ExpectFsckClean(path());
}

TEST_F(VersionsTest, VersionNumbersStayInRange) {
  Publish({MakeFlow("alpha")}, "first");
  std::string last =
      HandCommit("Publish alpha\n\nFlowrepo-Workspace: main\nFlowrepo-Version: alpha v999999999\n", "main");
  Git("update-ref refs/heads/main " + last);
  Git("tag main/alpha/v999999999 main");
  repo().PutFlows("main", "d", {MakeFlow("alpha", "", 2)});
  const std::string before = RefsSnapshot(path());
  ExpectError(ErrorCode::kInvalidData,
              "publish refused: flow 'alpha' in workspace 'main' has reached v999999999, the highest version number",
              [&] { repo().Publish("main", "d", ""); });
  EXPECT_EQ(RefsSnapshot(path()), before);
  ExpectError(ErrorCode::kInvalidArgument, "invalid version 1000000000 (versions are 1 to 999999999)",
              [&] { repo().Revert("main", "alpha", 1000000000); });
  // check: the hand-made number leaves a gap.
  CheckReport report = repo().Check();
  ASSERT_EQ(Kinds(report), (std::vector<std::string>{"version-gap refs/tags/main/alpha"}));
  EXPECT_EQ(report.problems[0].message,
            "flow 'alpha' in workspace 'main' has versions up to v999999999 but no v2, v3, v4, v5, v6 and "
            "999999992 more");
}

// ListVersions gives every flow at once what FlowHistory gives it one by
// one (its own numbers): tags no publish backs, other workspaces' tags and
// unpublished flows left out, removed and renamed flows as history has them.
TEST_F(VersionsTest, ListVersionsAgreesWithHistoryForEveryFlow) {
  Publish({MakeFlow("alpha"), MakeFlow("beta"), MakeFlow("gone")}, "first");
  PublishResult alpha2 = Publish({MakeFlow("alpha", "", 2)}, "second");
  repo().RemoveFlows("main", "rm", {"gone"});
  repo().Publish("main", "rm", "");
  repo().RenameFlow("main", "mv", "beta", "delta");
  repo().Publish("main", "mv", "");
  repo().CreateWorkspace("dev", "main");
  Publish({MakeFlow("alpha", "", 3)}, "dev-1", "dev");  // dev's v2
  Publish({MakeFlow("alpha", "", 4)}, "dev-2", "dev");  // dev's v3
  repo().PutFlows("main", "draft-only", {MakeFlow("gamma"), MakeFlow("alpha", "", 4)});
  Git("tag -a -m forged main/alpha/v3 drafts/main/draft-only");  // at no publish
  Git("tag main/delta/v7 " + alpha2.commit);                     // at another flow's publish
  Git("tag main/alpha/latest main");                             // named like no version

  const std::map<std::string, std::vector<int>> expected = {
      {"alpha", {1, 2}}, {"beta", {1}}, {"delta", {2}}, {"gone", {1}}};
  EXPECT_EQ(repo().ListVersions("main"), expected);
  for (const auto& [flow, numbers] : expected) {
    std::vector<int> own;
    for (const auto& v : repo().FlowHistory("main", flow).versions) {
      if (v.flow == flow) own.insert(own.begin(), v.number);
    }
    EXPECT_EQ(own, numbers) << flow;
  }
  EXPECT_EQ(repo().ListVersions("dev").at("alpha"), (std::vector<int>{1, 2, 3}));
  // A damaged index file changes nothing.
  testing::WriteFile(path() + "/.git/flowrepo/versions/main", "flowrepo-version-index 1 garbage");
  Reopen();
  EXPECT_EQ(repo().ListVersions("main"), expected);

  FlowRepository stranger = FlowRepository::Open(path(), "mallory@example.com");
  ExpectError(ErrorCode::kPermissionDenied,
              "user 'mallory@example.com' needs role 'viewer' in workspace 'main' (has none)",
              [&] { stranger.ListVersions("main"); });
  ExpectError(ErrorCode::kNotFound, "", [&] { repo().ListVersions("nope"); });
}

TEST_F(VersionsTest, DamagedOrStaleVersionIndexNeverChangesVersions) {
  Publish({MakeFlow("alpha"), MakeFlow("beta")}, "first");
  Publish({MakeFlow("alpha", "", 2)}, "second");
  const std::string index = path() + "/.git/flowrepo/versions/main";
  std::remove(index.c_str());  // the next command rebuilds and writes it
  Reopen();
  EXPECT_EQ(Numbers("main", "alpha"), (std::vector<int>{2, 1}));
  const std::string written = testing::ReadFile(index);
  ASSERT_GT(written.size(), 80u);
  std::string flipped = written;
  flipped[flipped.size() - 1] ^= 0x55;  // a commit id of one record
  std::string unsorted = written;
  std::swap_ranges(unsorted.end() - 80, unsorted.end() - 40, unsorted.end() - 40);
  int beta = 1;
  for (const std::string& damaged :
       {written.substr(0, written.size() - 7), std::string("junk\n"), std::string(), flipped, unsorted}) {
    testing::WriteFile(index, damaged);
    Reopen();
    EXPECT_EQ(Numbers("main", "alpha"), (std::vector<int>{2, 1}));
    EXPECT_EQ(Numbers("main", "beta")[0], beta);
    // Numbers go on from the real versions, not from what the file says.
    testing::WriteFile(index, damaged);
    Reopen();
    ++beta;
    EXPECT_EQ(Publish({MakeFlow("beta", "", beta)}, "b" + std::to_string(beta)).versions[0].number, beta);
  }
  // Stale: an index of an older head is caught up.
  testing::WriteFile(index, written);
  Reopen();
  Publish({MakeFlow("alpha", "", 5)}, "third");
  Reopen();
  EXPECT_EQ(Numbers("main", "alpha"), (std::vector<int>{3, 2, 1}));
}

// ---- workspace create --------------------------------------------------------

TEST_F(VersionsTest, WorkspaceCreateGivesEveryFlowV1WithItsSource) {
  Publish({MakeFlow("alpha"), MakeFlow("beta")}, "first");
  Publish({MakeFlow("alpha", "", 2)}, "second");
  // beta changed on main without a publish (plain git): its source is the head.
  testing::WriteFile(dir_ / "blob", MakeFlow("beta", "", 3).flow_definition);
  std::string blob = Git("hash-object -w " + testing::Quote(dir_ / "blob"));
  Git("read-tree main && git update-index --add --cacheinfo 100644," + blob + ",flows/beta/flow_definition.json");
  std::string edit = Git("commit-tree $(git write-tree) -p main -m 'Edit beta by hand'");
  Git("update-ref refs/heads/main " + edit);

  WorkspaceInfo dev = repo().CreateWorkspace("dev", "main");
  EXPECT_EQ(dev.flow_count, 2);
  EXPECT_FALSE(dev.completed_earlier_create);
  EXPECT_EQ(Git("rev-parse dev^"), edit);
  EXPECT_EQ(Git("rev-parse dev^{tree}"), Git("rev-parse main^{tree}"));
  std::string message = Shell("git log -1 --format=%B dev", path()).out;
  EXPECT_EQ(message,
            "Create workspace dev from main\n\nFlowrepo-Workspace: dev\nFlowrepo-Created-From: main\n"
            "Flowrepo-Version: alpha v1\nFlowrepo-Source: main/alpha/v2\n"
            "Flowrepo-Version: beta v1\nFlowrepo-Source: main/beta@" +
                edit + "\n\n");

  // history, export --version, revert work in dev as anywhere.
  History h = repo().FlowHistory("dev", "alpha");
  ASSERT_EQ(h.versions.size(), 1u);
  EXPECT_EQ(h.versions[0].commit, dev.commit);
  EXPECT_EQ(h.versions[0].note, "Create workspace dev from main");
  EXPECT_EQ(repo().ReadFlow("dev", ParseFlowSpec("alpha@v1")).flow_definition,
            repo().ReadFlow("main", ParseFlowSpec("alpha@v2")).flow_definition);
  ExportRequest request;
  request.workspace = "dev";
  request.selection = {"alpha"};
  request.version = 0;
  request.directory = dir_.path();
  EXPECT_EQ(ExportPackage(repo(), request).commit, dev.commit);
  PublishResult override = Publish({MakeFlow("alpha", "", 7)}, "override", "dev");
  EXPECT_EQ(override.versions[0].number, 2);
  repo().Revert("dev", "alpha", 1);
  PublishResult reverted = repo().Publish("dev", "revert-alpha-v1", "back");
  EXPECT_EQ(reverted.versions[0].number, 3);
  EXPECT_EQ(repo().ReadFlow("dev", ParseFlowSpec("alpha@v3")).flow_definition,
            repo().ReadFlow("main", ParseFlowSpec("alpha@v2")).flow_definition);
  EXPECT_EQ(Numbers("main", "alpha"), (std::vector<int>{2, 1}));  // main untouched
  EXPECT_TRUE(repo().Check().ok());
  ExpectFsckClean(path());
}

TEST_F(VersionsTest, WorkspaceCreateRerunCompletesItsTags) {
  Publish({MakeFlow("alpha"), MakeFlow("beta")}, "first");
  WorkspaceInfo dev = repo().CreateWorkspace("dev", "main");
  // As if killed after the workspace ref moved, before the tags.
  Git("tag -d dev/alpha/v1 dev/beta/v1");
  Reopen();
  EXPECT_EQ(Kinds(repo().Check()),
            (std::vector<std::string>{"missing-tag refs/tags/dev/alpha/v1", "missing-tag refs/tags/dev/beta/v1"}));
  WorkspaceInfo again = repo().CreateWorkspace("dev", "main");
  EXPECT_TRUE(again.completed_earlier_create);
  EXPECT_EQ(again.commit, dev.commit);
  EXPECT_TRUE(repo().Check().ok());
  EXPECT_EQ(Numbers("dev", "beta"), (std::vector<int>{1}));

  // The next publish completes them too.
  Git("tag -d dev/alpha/v1 dev/beta/v1");
  Publish({MakeFlow("beta", "", 2)}, "b", "dev");
  EXPECT_EQ(Numbers("dev", "alpha"), (std::vector<int>{1}));
  EXPECT_EQ(Numbers("dev", "beta"), (std::vector<int>{2, 1}));
  // Once the workspace has moved on, a create is no rerun.
  ExpectError(ErrorCode::kAlreadyExists, "workspace 'dev' already exists",
              [&] { repo().CreateWorkspace("dev", "main"); });
}

TEST_F(VersionsTest, WorkspaceCreateRefusesTagsLeftUnderItsName) {
  Publish({MakeFlow("alpha")}, "first");
  Git("tag old/alpha/v1 main");
  const std::string before = RefsSnapshot(path());
  ExpectError(ErrorCode::kAlreadyExists,
              "workspace 'old' cannot be created: tag 'old/alpha/v1' and others under its name exist already; "
              "choose another name",
              [&] { repo().CreateWorkspace("old", "main"); });
  EXPECT_EQ(RefsSnapshot(path()), before);
}

// ---- check ---------------------------------------------------------------------

TEST_F(VersionsTest, CheckIsCleanOnANormalRepository) {
  Publish({MakeFlow("alpha"), MakeFlow("beta")}, "first");
  Publish({MakeFlow("alpha", "", 2)}, "second");
  repo().CreateWorkspace("dev", "main");
  Publish({MakeFlow("beta", "", 2)}, "b", "dev");
  repo().GrantRole("main", "viewer@example.com", Role::kViewer);  // a commit naming no version
  CheckReport report = repo().Check();
  EXPECT_TRUE(report.ok()) << report.problems[0].ToString();
  EXPECT_EQ(report.workspaces, (std::vector<std::string>{"dev", "main"}));
  EXPECT_EQ(report.version_tags, 3 + 3);
  EXPECT_EQ(report.publish_commits, 2 + 2);
  // Workspaces the user has no role in are skipped, and said so.
  FlowRepository stranger = FlowRepository::Open(path(), "stranger@example.com");
  CheckReport theirs = stranger.Check();
  EXPECT_TRUE(theirs.workspaces.empty());
  EXPECT_EQ(theirs.skipped, (std::vector<std::string>{"dev", "main"}));
}

TEST_F(VersionsTest, CheckReportsEveryKindOfProblem) {
  Publish({MakeFlow("alpha"), MakeFlow("beta")}, "first");
  // Two publish commits naming alpha v2 (the second made by hand), one tag.
  Publish({MakeFlow("alpha", "", 2)}, "second");
  std::string dup = HandCommit(
      "Publish again\n\nFlowrepo-Workspace: main\nFlowrepo-Version: alpha v2\n"
      "Flowrepo-Version: beta v01\n",
      "main");
  Git("update-ref refs/heads/main " + dup);
  Git("tag main/beta/latest main");
  // A branch whose drafts claim it as a workspace but has no settings.
  std::string bare_tree = Git("mktree </dev/null");
  std::string empty = Git("commit-tree " + bare_tree + " -m empty");
  Git("update-ref refs/heads/lost " + empty);
  Git("update-ref refs/heads/drafts/lost/x " + empty);
  // A workspace whose settings do not parse, and one with a duplicate flow id.
  testing::WriteFile(dir_ / "blob", "{not json\n");
  std::string blob = Git("hash-object -w " + testing::Quote(dir_ / "blob"));
  Git("read-tree main && git update-index --cacheinfo 100644," + blob + ",.flowrepo/workspace.json");
  Git("update-ref refs/heads/broken $(git commit-tree $(git write-tree) -p main -m broken)");
  std::string alpha_tree = Git("rev-parse main:flows/alpha");
  Git("read-tree main && git read-tree --prefix=flows/Other/alpha/ " + alpha_tree);
  Git("update-ref refs/heads/twice $(git commit-tree $(git write-tree) -p main -m twice)");
  Reopen();
  CheckReport report = repo().Check();
  EXPECT_EQ(Kinds(report), (std::vector<std::string>{
                               "invalid-settings refs/heads/broken",
                               "missing-settings refs/heads/lost",
                               "duplicate-flow-id refs/heads/twice",
                               "invalid-trailer " + dup,
                               "invalid-tag-name refs/tags/main/beta/latest",
                               "duplicate-version refs/tags/main/alpha/v2",
                           }));
  for (const auto& p : report.problems) EXPECT_EQ(p.message.find('\n'), std::string::npos) << p.message;
}

}  // namespace
}  // namespace flowrepo
