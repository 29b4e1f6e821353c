// A person who uses git as git, next to flowrepo: scripted sequences of
// real git commands (commit, switch, worktree, stash, rebase, merge,
// cherry-pick, reset, pull from a second clone) interleaved with flowrepo
// commands. After every step the repository must be what a git user
// expects: `git fsck --full` clean, `git status` clean (or holding exactly
// the user's own edits), no flow, setting or role lost, versions
// contiguous.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::Quote;
using testing::RunResult;
using testing::Shell;
using testing::TempDir;

constexpr const char* kFaq = "flows/Support/Knowledge/faq-answerer";
constexpr const char* kTriage = "flows/Support/ticket-triage";

class GitUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_ / "repo";
    ASSERT_EQ(Fr("init " + Quote(repo_), dir_.path()).exit_code, 0);
    Configure(repo_);
    RunResult r = Fr("flow put --draft initial " + Quote(testing::SourceDir() + "/fixtures/flows"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = Fr("publish --draft initial -m first");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(Fr("role grant bob@example.com integrator").exit_code, 0);
    ExpectClean(repo_);
  }

  static void Configure(const std::string& dir) {
    Shell("git config user.email alice@example.com && git config user.name Alice", dir);
  }
  RunResult Fr(const std::string& args, const std::string& cwd = "") {
    return testing::Flowrepo("--user alice@example.com " + args, cwd.empty() ? repo_ : cwd);
  }
  RunResult Git(const std::string& args, const std::string& cwd = "") {
    return Shell("git " + args, cwd.empty() ? repo_ : cwd);
  }
  void GitOk(const std::string& args, const std::string& cwd = "") {
    RunResult r = Git(args, cwd);
    ASSERT_EQ(r.exit_code, 0) << "git " << args << ": " << r.err << r.out;
  }
  // Sets the description of the flow at \a folder in the work tree \a cwd.
  void Describe(const std::string& cwd, const std::string& folder, const std::string& text) {
    RunResult r = Shell("sed -i 's/\"description\": \"[^\"]*\"/\"description\": \"" + text + "\"/' " +
                            Quote(folder + "/app_definition.json"),
                        cwd);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // The faq flow's folder as published on main, copied out of the
  // repository (for `flow put`).
  std::string FaqFolderOfMain() {
    std::string flow = dir_ / "faq-answerer";
    Shell("mkdir -p " + Quote(flow) + " && git archive main " + kFaq + " | tar -x -C " + Quote(flow) +
              " --strip-components=4",
          repo_);
    return flow;
  }
  std::string Status(const std::string& cwd) { return Git("status --porcelain", cwd).out; }
  // fsck clean; index and work tree equal to HEAD; nothing untracked.
  void ExpectClean(const std::string& cwd) {
    testing::ExpectFsckClean(cwd);
    EXPECT_EQ(Status(cwd), "") << "in " << cwd;
    RunResult check = Fr("check", cwd);
    EXPECT_EQ(check.exit_code, 0) << "flowrepo check in " << cwd << ": " << check.out << check.err;
  }
  // The description of \a folder's flow at \a rev.
  std::string DescriptionAt(const std::string& rev, const std::string& folder) {
    RunResult r = Git("show " + rev + ":" + folder + "/app_definition.json");
    if (r.exit_code != 0) return "(missing)";
    return nlohmann::json::parse(r.out).value("description", "");
  }
  std::vector<int> Versions(const std::string& flow) {
    RunResult r = Fr("history " + flow + " --json");
    std::vector<int> out;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.exit_code != 0) return out;
    const auto history = nlohmann::json::parse(r.out);
    for (const auto& v : history["versions"]) out.push_back(v["version"]);
    return out;
  }
  // Versions are N, N-1, ..., 1.
  void ExpectContiguous(const std::string& flow, int latest) {
    std::vector<int> expected;
    for (int n = latest; n >= 1; --n) expected.push_back(n);
    EXPECT_EQ(Versions(flow), expected) << flow;
  }
  // Settings, roles and every flow are still on the workspace.
  void ExpectNothingLost(const std::string& cwd = "") {
    RunResult roles = Fr("role list --json", cwd);
    ASSERT_EQ(roles.exit_code, 0) << roles.err;
    EXPECT_EQ(nlohmann::json::parse(roles.out)["roles"].size(), 2u) << roles.out;
    RunResult flows = Fr("flow list --json", cwd);
    ASSERT_EQ(flows.exit_code, 0) << flows.err;
    EXPECT_EQ(nlohmann::json::parse(flows.out).size(), 6u);
  }

  TempDir dir_;
  std::string repo_;
};

// Case 1: init, then an ordinary first commit.
TEST_F(GitUserTest, InitLeavesStatusCleanAndTheFirstCommitKeepsSettings) {
  std::string fresh = dir_ / "fresh";
  ASSERT_EQ(Fr("init " + Quote(fresh), dir_.path()).exit_code, 0);
  Configure(fresh);
  ExpectClean(fresh);
  testing::WriteFile(fresh + "/README.md", "a\n");
  GitOk("add README.md", fresh);
  GitOk("commit -q -m readme", fresh);
  ExpectClean(fresh);
  EXPECT_EQ(Git("ls-tree -r --name-only HEAD", fresh).out, ".flowrepo/workspace.json\nREADME.md\n");
  RunResult roles = Fr("role list --json", fresh);
  ASSERT_EQ(roles.exit_code, 0) << roles.err;
  EXPECT_EQ(nlohmann::json::parse(roles.out)["roles"].size(), 1u) << roles.out;
}

TEST_F(GitUserTest, InitInAnExistingEmptyRepositoryChecksTheSettingsOut) {
  std::string plain = dir_ / "plain";
  ASSERT_EQ(Shell("git init -q -b main " + Quote(plain)).exit_code, 0);
  testing::WriteFile(plain + "/notes.txt", "mine\n");
  ASSERT_EQ(Fr("init " + Quote(plain), dir_.path()).exit_code, 0);
  EXPECT_EQ(Status(plain), "?? notes.txt\n");
  EXPECT_EQ(testing::ReadFile(plain + "/notes.txt"), "mine\n");
}

// Case 2: the draft being published is the branch checked out.
TEST_F(GitUserTest, PublishingTheCheckedOutDraftKeepsTheBranch) {
  GitOk("switch -q -c drafts/main/x main");
  Describe(repo_, kFaq, "edited with git");
  GitOk("commit -q -am edit");
  RunResult r = Fr("publish --draft x --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = nlohmann::json::parse(r.out);
  ASSERT_EQ(out["draft_kept_in"].size(), 1u);
  EXPECT_EQ(Git("symbolic-ref HEAD").out, "refs/heads/drafts/main/x\n");
  EXPECT_EQ(Git("rev-parse HEAD").out, Git("rev-parse main").out);
  ExpectClean(repo_);
  // Going on with plain git: the next commit is an ordinary child.
  Describe(repo_, kFaq, "second edit");
  GitOk("commit -q -am edit2");
  EXPECT_EQ(Git("rev-list --count main..HEAD").out, "1\n");
  r = Fr("publish --draft x");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectClean(repo_);
  ExpectContiguous("faq-answerer", 3);
  EXPECT_EQ(DescriptionAt("main", kFaq), "second edit");
  // Rerunning has nothing new to do and says so without failing.
  EXPECT_EQ(Fr("publish --draft x").exit_code, 0);
  ExpectContiguous("faq-answerer", 3);
  // A checked-out draft cannot be dropped from under the user.
  r = Fr("draft drop x");
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("checked out in work tree"), std::string::npos) << r.err;
  ExpectNothingLost();
}

// Case 3: a publish from a linked work tree while the main checkout has
// the workspace branch.
TEST_F(GitUserTest, PublishFromALinkedWorkTreeMovesTheMainCheckoutToo) {
  std::string wt = dir_ / "wt";
  GitOk("worktree add -q -b drafts/main/y " + Quote(wt) + " main");
  Configure(wt);
  Describe(wt, kFaq, "from the linked work tree");
  GitOk("commit -q -am edit", wt);
  RunResult r = Fr("publish --draft y", wt);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectClean(repo_);
  ExpectClean(wt);
  EXPECT_EQ(DescriptionAt("HEAD", kFaq), "from the linked work tree");
  EXPECT_NE(testing::ReadFile(repo_ + "/" + kFaq + "/app_definition.json").find("from the linked work tree"),
            std::string::npos);
  // A plain-git draft made in the main checkout afterwards builds on the
  // publish and undoes nothing.
  GitOk("switch -q -c drafts/main/z");
  Describe(repo_, kTriage, "triage edit");
  GitOk("commit -q -am triage");
  r = Fr("publish --draft z");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DescriptionAt("main", kFaq), "from the linked work tree");
  EXPECT_EQ(DescriptionAt("main", kTriage), "triage edit");
  ExpectClean(repo_);
  ExpectClean(wt);
  ExpectNothingLost();
  ExpectContiguous("faq-answerer", 2);
  ExpectContiguous("ticket-triage", 2);
}

TEST_F(GitUserTest, UncommittedEditsInTheWayRefuseTheMoveAndStashLetsItThrough) {
  Describe(repo_, kFaq, "uncommitted");  // main is checked out here
  std::string flow = FaqFolderOfMain();
  Describe(flow, ".", "from flowrepo");
  ASSERT_EQ(Fr("flow put --draft d " + Quote(flow)).exit_code, 0);
  std::string refs = testing::RefsSnapshot(repo_);
  RunResult r = Fr("publish --draft d");
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("work tree '" + repo_ + "/' has 'refs/heads/main' checked out with changes in '" + kFaq +
                       "/app_definition.json'"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(testing::RefsSnapshot(repo_), refs);  // nothing moved
  EXPECT_EQ(Status(repo_), " M " + std::string(kFaq) + "/app_definition.json\n");

  GitOk("stash -q");
  r = Fr("publish --draft d");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectClean(repo_);
  EXPECT_EQ(DescriptionAt("HEAD", kFaq), "from flowrepo");
  EXPECT_NE(Git("stash list").out, "");  // the user's edit is still there
}

TEST_F(GitUserTest, EditsElsewhereInTheWorkTreeSurviveAPublish) {
  Describe(repo_, kTriage, "my local edit");
  testing::WriteFile(repo_ + "/scratch.txt", "untracked\n");
  std::string flow = FaqFolderOfMain();
  Describe(flow, ".", "published");
  ASSERT_EQ(Fr("flow put --draft d " + Quote(flow)).exit_code, 0);
  RunResult r = Fr("publish --draft d");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Status(repo_), " M " + std::string(kTriage) + "/app_definition.json\n?? scratch.txt\n");
  EXPECT_EQ(Git("diff --cached --name-only").out, "");
  EXPECT_EQ(DescriptionAt("HEAD", kFaq), "published");
}

TEST_F(GitUserTest, RebaseMergeCherryPickAndResetOnDraftsPublishCleanly) {
  // Two drafts made with git; the workspace moves under the first.
  GitOk("switch -q -c drafts/main/a main");
  Describe(repo_, kFaq, "a1");
  GitOk("commit -q -am a1");
  GitOk("switch -q -c drafts/main/b main");
  Describe(repo_, kTriage, "b1");
  GitOk("commit -q -am b1");
  ASSERT_EQ(Fr("publish --draft b").exit_code, 0);
  ExpectClean(repo_);

  // rebase: draft a onto the new workspace head.
  GitOk("switch -q drafts/main/a");
  GitOk("rebase -q main");
  ASSERT_EQ(Fr("publish a").exit_code, 0);
  ExpectClean(repo_);

  // merge: the workspace merged into a draft before publishing.
  GitOk("switch -q -c drafts/main/m main~1");
  Describe(repo_, "flows/Operations/nightly-report", "m1");
  GitOk("commit -q -am m1");
  GitOk("merge -q --no-edit main");
  ASSERT_EQ(Fr("publish --draft m").exit_code, 0);
  ExpectClean(repo_);

  // cherry-pick: a commit from another branch onto a draft.
  GitOk("switch -q -c side main");
  Describe(repo_, kFaq, "picked");
  GitOk("commit -q -am picked");
  GitOk("switch -q -c drafts/main/c main");
  GitOk("cherry-pick side");
  ASSERT_EQ(Fr("publish --draft c").exit_code, 0);
  ExpectClean(repo_);

  // reset: a draft that was taken back before publishing.
  GitOk("switch -q -c drafts/main/r main");
  Describe(repo_, kTriage, "r1");
  GitOk("commit -q -am r1");
  Describe(repo_, kTriage, "r2 (bad)");
  GitOk("commit -q -am r2");
  GitOk("reset -q --hard HEAD~1");
  ASSERT_EQ(Fr("publish --draft r").exit_code, 0);
  ExpectClean(repo_);

  EXPECT_EQ(DescriptionAt("main", kFaq), "picked");
  EXPECT_EQ(DescriptionAt("main", kTriage), "r1");
  EXPECT_EQ(DescriptionAt("main", "flows/Operations/nightly-report"), "m1");
  ExpectContiguous("faq-answerer", 3);
  ExpectContiguous("ticket-triage", 3);
  ExpectContiguous("nightly-report", 2);
  ExpectNothingLost();
}

TEST_F(GitUserTest, AConflictingRebaseInProgressBlocksMovingItsBranch) {
  GitOk("switch -q -c drafts/main/a main");
  Describe(repo_, kFaq, "a1");
  GitOk("commit -q -am a1");
  GitOk("switch -q -c drafts/main/b main");
  Describe(repo_, kFaq, "b1");
  GitOk("commit -q -am b1");
  ASSERT_NE(Git("rebase drafts/main/a").exit_code, 0);  // conflict: rebase stops
  std::string refs = testing::RefsSnapshot(repo_);
  RunResult r = Fr("publish --draft b");
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("in the middle of a rebase"), std::string::npos) << r.err;
  EXPECT_EQ(testing::RefsSnapshot(repo_), refs);
  GitOk("rebase --abort");
  r = Fr("publish --draft b");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectClean(repo_);
}

TEST_F(GitUserTest, ASecondCloneFollowsWithPlainGitPull) {
  std::string clone = dir_ / "clone";
  GitOk("clone -q " + Quote(repo_) + " " + Quote(clone), dir_.path());
  Configure(clone);
  GitOk("fetch -q origin 'refs/tags/*:refs/tags/*'", clone);
  ExpectClean(clone);
  // A publish on the origin, pulled by plain git into the clone's checkout.
  GitOk("switch -q -c drafts/main/o main");
  Describe(repo_, kFaq, "origin edit");
  GitOk("commit -q -am o");
  ASSERT_EQ(Fr("publish --draft o").exit_code, 0);
  GitOk("switch -q main");
  GitOk("pull -q --ff-only", clone);
  GitOk("fetch -q --tags", clone);
  ExpectClean(clone);
  EXPECT_EQ(Versions("faq-answerer").size(), 2u);
  EXPECT_EQ(testing::Flowrepo("--user alice@example.com history faq-answerer --json", clone).exit_code, 0);
  // The clone publishes a plain-git draft of its own on top.
  GitOk("switch -q -c drafts/main/k main", clone);
  Describe(clone, kTriage, "clone edit");
  GitOk("commit -q -am k", clone);
  RunResult r = testing::Flowrepo("--user alice@example.com publish --offline k", clone);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectClean(clone);
  ExpectNothingLost(clone);
}

TEST_F(GitUserTest, RepairFinishesAnUpdateAKilledProcessLeft) {
  // Simulate a kill after the ref moved and before the work tree followed:
  // the journal names the move, the work tree and index are still at the
  // old commit.
  std::string old_head = Git("rev-parse main").out;
  old_head.pop_back();
  std::string flow = FaqFolderOfMain();
  Describe(flow, ".", "moved");
  ASSERT_EQ(Fr("flow put --draft d " + Quote(flow)).exit_code, 0);
  std::string draft_head = Git("rev-parse drafts/main/d").out;
  draft_head.pop_back();
  // A plain update-ref moves main without its work tree, as a crash would.
  GitOk("update-ref refs/heads/main " + draft_head + " " + old_head);
  testing::WriteFile(repo_ + "/.git/flowrepo-checkout",
                     "refs/heads/main\n" + old_head + "\n" + draft_head + "\n999999999\n");
  EXPECT_NE(Status(repo_), "");  // the phantom change git shows
  RunResult check = Fr("check");
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.out.find("stale-work-tree refs/heads/main: work tree '" + repo_ + "/'"), std::string::npos)
      << check.out << check.err;
  RunResult r = Fr("repair");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("brought the work tree and index of 'refs/heads/main'"), std::string::npos) << r.out;
  ExpectClean(repo_);
  EXPECT_EQ(Fr("repair").out, "Nothing to repair\n");
}

}  // namespace
}  // namespace flowrepo
