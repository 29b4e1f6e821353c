// The pre-receive decision (CheckReceive) on ref updates made with the
// library and plain git inside one bare repository; tests/cli/hooks_test.cc
// pushes through the real hook.

#include <gtest/gtest.h>

#include <map>

#include "flowrepo/hooks.h"
#include "flowrepo/repository.h"
#include "json/json_io.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::ExpectError;
using testing::MakeFlow;
using testing::Shell;
using testing::TempDir;

constexpr char kAdmin[] = "admin@example.com";
constexpr char kBob[] = "bob@example.com";
constexpr char kVic[] = "vic@example.com";
const std::string kZero(40, '0');

class ReceiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FlowRepository admin = testing::InitRepository(path(), kAdmin, InitOptions::Layout::kBare);
    admin.GrantRole("main", kBob, Role::kIntegrator);
    admin.GrantRole("main", kVic, Role::kViewer);
    admin.PutFlows("main", "first", {MakeFlow("a")});
    admin.Publish("main", "first", "");
  }
  std::string path() const { return dir_ / "server.git"; }
  std::string Id(const std::string& rev) { return Shell("git rev-parse " + rev, path()).out.substr(0, 40); }
  FlowRepository As(const std::string& user) { return FlowRepository::Open(path(), user); }
  // A draft commit on top of main holding \a flow, not yet on main.
  std::string Candidate(const Flow& flow, const std::string& draft) {
    return As(kAdmin).PutFlows("main", draft, {flow}).draft.commit;
  }
  RefVerdict One(const std::string& user, const std::string& old_id, const std::string& new_id,
                 const std::string& ref) {
    ReceiveReport r = CheckReceive(path(), user, {{old_id, new_id, ref}});
    EXPECT_EQ(r.refs.size(), 1u);
    return r.refs.at(0);
  }
  // The first reason of each refused ref of one push, "" for an accepted one.
  std::vector<std::string> Push(const std::string& user, const std::vector<RefUpdate>& updates) {
    std::vector<std::string> out;
    for (const auto& v : CheckReceive(path(), user, updates).refs) out.push_back(v.accepted ? "" : v.reasons.at(0));
    return out;
  }
  // A publish as a clone makes it before pushing: the publish commit and
  // its tag objects exist, but the server's main and tags are where they
  // were.
  struct Unpushed {
    std::string old_head, commit;
    std::map<std::string, std::string> tags;  // ref -> tag object
  };
  Unpushed PublishNotPushed(const std::vector<Flow>& flows) {
    Unpushed u{Id("main"), "", {}};
    As(kAdmin).PutFlows("main", "p", flows);
    PublishResult r = As(kAdmin).Publish("main", "p", "");
    u.commit = r.commit;
    for (const auto& v : r.versions) u.tags[v.tag] = Id(v.tag);
    Shell("git update-ref refs/heads/main " + u.old_head, path());
    for (const auto& [ref, id] : u.tags) Shell("git update-ref -d " + ref, path());
    return u;
  }
  // A commit on main's tree and head with \a message, not on any ref.
  std::string HandCommit(const std::string& message) {
    return Shell("printf '" + message +
                     "' | git -c user.name=m -c user.email=m@example.com commit-tree "
                     "main^{tree} -p main",
                 path())
        .out.substr(0, 40);
  }
  TempDir dir_;
};

TEST_F(ReceiveTest, ViewerIsRefusedIntegratorAccepted) {
  std::string head = Id("main"), next = Candidate(MakeFlow("b"), "d");
  RefVerdict v = One(kVic, head, next, "refs/heads/main");
  EXPECT_FALSE(v.accepted);
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_EQ(v.reasons[0], "user 'vic@example.com' needs role 'integrator' in workspace 'main' (has 'viewer')");
  EXPECT_TRUE(One(kBob, head, next, "refs/heads/main").accepted);
  EXPECT_FALSE(One(kVic, kZero, next, "refs/heads/drafts/main/x").accepted);
  EXPECT_TRUE(One(kBob, kZero, next, "refs/heads/drafts/main/x").accepted);
  RefVerdict nobody = One("", head, next, "refs/heads/main");
  EXPECT_EQ(nobody.reasons.at(0),
            "user (unknown user) needs role 'integrator' in workspace 'main' (has none); the server "
            "authenticated no user (GL_USERNAME, GL_USER and REMOTE_USER are unset; FLOWREPO_USER "
            "counts only where git config flowrepo.trustUserEnvironment is true)");
}

TEST_F(ReceiveTest, InvalidFlowsAndSecretsAreRefusedOnWorkspaces) {
  Flow bad = MakeFlow("b", "", 1, "no-such-flow");
  Json env = ParseJson(bad.env_variables, "e");
  env["variables"].push_back({{"name", "DB_PASSWORD"},
                              {"value",
                               "Hunter2"
                               "Hunter2"}});
  bad.env_variables = CanonicalJson(env);
  std::string head = Id("main"), next = Candidate(bad, "d");
  RefVerdict v = One(kBob, head, next, "refs/heads/main");
  EXPECT_FALSE(v.accepted);
  ASSERT_EQ(v.reasons.size(), 2u);
  EXPECT_EQ(v.reasons[0],
            "flows/b/env_variables.json:/variables/1/value: plain-text secret (password in a password "
            "field); store a secret reference instead [secret/password-field]");
  EXPECT_EQ(v.reasons[1],
            "flows/b/flow_definition.json:/nodes/2/config/flow: node 'sub' uses flow 'no-such-flow', "
            "which does not exist [missing-subflow]");
  // Drafts are work in progress: not validated.
  EXPECT_TRUE(One(kBob, kZero, next, "refs/heads/drafts/main/d2").accepted);
}

// Issue 14, item 11: a push that brings a group differing from another
// only in case is refused like a publish would be.
TEST_F(ReceiveTest, GroupsThatClashAreRefusedOnWorkspaces) {
  std::string work = dir_ / "work";
  testing::RunResult r =
      Shell("git clone -q " + path() + " " + work + " && cd " + work +
                " && mkdir -p flows/Ops flows/ops && cp -r flows/a flows/Ops/x && cp -r flows/a flows/ops/y"
                " && sed -i 's/\"id\": \"a\"/\"id\": \"x\"/' flows/Ops/x/app_definition.json"
                " && sed -i 's/\"id\": \"a\"/\"id\": \"y\"/' flows/ops/y/app_definition.json"
                " && git add -A && git -c user.name=T -c user.email=t@example.com commit -qm clash"
                " && git push -q origin HEAD:refs/heads/drafts/main/clash",
            dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RefVerdict v = One(kBob, Id("main"), Id("drafts/main/clash"), "refs/heads/main");
  EXPECT_FALSE(v.accepted);
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_EQ(v.reasons[0],
            "flows/ops: group 'ops' clashes with group 'Ops': names in one folder may not differ only in case, "
            "Unicode normalisation or look-alike characters [name-clash]");
}

TEST_F(ReceiveTest, RoleChangesNeedAdminAndWorkspacesOnlyMoveForward) {
  std::string before = Id("main");
  As(kAdmin).GrantRole("main", kVic, Role::kIntegrator);
  std::string promoted = Id("main");
  ASSERT_EQ(Shell("git update-ref refs/heads/main " + before, path()).exit_code, 0);
  RefVerdict v = One(kBob, before, promoted, "refs/heads/main");
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.reasons.at(0), "user 'bob@example.com' needs role 'admin' in workspace 'main' (has 'integrator')");
  EXPECT_TRUE(One(kAdmin, before, promoted, "refs/heads/main").accepted);
  std::string parent = Id("main~1");
  v = One(kAdmin, before, parent, "refs/heads/main");
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reasons.at(0).find("workspace branches only move forward"), std::string::npos);
  EXPECT_FALSE(One(kBob, before, kZero, "refs/heads/main").accepted);  // deleting needs admin
}

TEST_F(ReceiveTest, VersionTagsAreNeverMovedOrDeleted) {
  std::string tag = Id("refs/tags/main/a/v1"), other = Id("main~1");
  RefVerdict moved = One(kAdmin, tag, other, "refs/tags/main/a/v1");
  EXPECT_FALSE(moved.accepted);
  EXPECT_EQ(moved.reasons.at(0), "version tags are never moved ('main/a/v1' exists)");
  EXPECT_EQ(One(kAdmin, tag, kZero, "refs/tags/main/a/v1").reasons.at(0),
            "version tags are never deleted ('main/a/v1' exists)");
  EXPECT_FALSE(One(kVic, kZero, other, "refs/tags/main/a/v2").accepted);
  EXPECT_FALSE(One(kBob, kZero, other, "refs/tags/main/a/latest").accepted);
  EXPECT_TRUE(One(kVic, kZero, other, "refs/tags/release-1").accepted);  // not flowrepo's
  // A branch holding a workspace commit is a new workspace; other refs pass.
  EXPECT_FALSE(One(kVic, kZero, other, "refs/heads/feature").accepted);
  EXPECT_TRUE(One(kVic, kZero, other, "refs/notes/review").accepted);
}

TEST_F(ReceiveTest, NewWorkspacesNeedAnExistingAdmin) {
  std::string head = Id("main");
  EXPECT_FALSE(One(kBob, kZero, head, "refs/heads/prod").accepted);
  EXPECT_TRUE(One(kAdmin, kZero, head, "refs/heads/prod").accepted);
}

TEST_F(ReceiveTest, TagsComeWithThePublishCommitThatNamesThem) {
  Unpushed u = PublishNotPushed({MakeFlow("a", "", 2), MakeFlow("b")});
  const std::string at = "points at " + u.commit.substr(0, 7);
  const RefUpdate branch{u.old_head, u.commit, "refs/heads/main"};
  const RefUpdate a2{kZero, u.tags.at("refs/tags/main/a/v2"), "refs/tags/main/a/v2"};
  const RefUpdate b1{kZero, u.tags.at("refs/tags/main/b/v1"), "refs/tags/main/b/v1"};
  // The tags alone: the publish is not on main yet.
  EXPECT_EQ(Push(kBob, {a2}),
            (std::vector<std::string>{"'main/a/v2' " + at +
                                      ", a publish of 'a v2' that workspace 'main' does not contain "
                                      "(push the branch with the tag); a version tag must point at the publish commit "
                                      "that names it"}));
  // With the branch, in any order: one push.
  EXPECT_EQ(Push(kBob, {a2, b1, branch}), (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(Push(kBob, {branch, b1}), (std::vector<std::string>{"", ""}));
  // Another number or another flow at the same publish.
  EXPECT_EQ(Push(kBob, {branch, {kZero, u.commit, "refs/tags/main/a/v3"}}).at(1),
            "'main/a/v3' " + at +
                ", a publish that does not name 'a v3'; a version tag must point at the publish "
                "commit that names it");
  EXPECT_EQ(Push(kBob, {branch, {kZero, u.commit, "refs/tags/main/c/v1"}}).at(1),
            "'main/c/v1' " + at +
                ", a publish that does not name 'c v1'; a version tag must point at the publish "
                "commit that names it");
  // A commit that publishes nothing.
  std::string draft = Candidate(MakeFlow("c"), "d");
  EXPECT_EQ(One(kBob, kZero, draft, "refs/tags/main/c/v1").reasons.at(0),
            "'main/c/v1' points at " + draft.substr(0, 7) +
                ", which is no publish commit of workspace 'main'; a "
                "version tag must point at the publish commit that names it");
  // Viewers make no tags, even good ones.
  EXPECT_EQ(Push(kVic, {a2}).at(0),
            "user 'vic@example.com' needs role 'integrator' in workspace 'main' (has 'viewer')");
}

TEST_F(ReceiveTest, VersionTagsGoUpOneAtATime) {
  Unpushed two = PublishNotPushed({MakeFlow("a", "", 2)});
  Shell("git update-ref refs/heads/main " + two.commit, path());
  Unpushed three = PublishNotPushed({MakeFlow("a", "", 3)});
  Shell("git update-ref -d refs/tags/main/a/v2", path());  // the second publish completed it
  const RefUpdate branch{three.old_head, three.commit, "refs/heads/main"};
  const RefUpdate v2{kZero, two.tags.at("refs/tags/main/a/v2"), "refs/tags/main/a/v2"};
  const RefUpdate v3{kZero, three.tags.at("refs/tags/main/a/v3"), "refs/tags/main/a/v3"};
  EXPECT_EQ(Push(kBob, {branch, v3}).at(1),
            "'main/a/v3' skips v2: workspace 'main' has no version v2 of 'a' and this push does not tag it; version "
            "tags are pushed in order (git push --follow-tags pushes every tag publish made; flowrepo check --repair "
            "makes missing ones)");
  EXPECT_EQ(Push(kBob, {v3, branch, v2}), (std::vector<std::string>{"", "", ""}));
  // v2 on the server: v3 may follow in a later push.
  Shell("git update-ref refs/tags/main/a/v2 " + v2.new_id, path());
  EXPECT_EQ(Push(kBob, {branch, v3}), (std::vector<std::string>{"", ""}));
}

TEST_F(ReceiveTest, PublishCommitsMustNameTheNextNumbers) {
  const std::string head = Id("main");
  std::string jump = HandCommit("Publish a v5\\n\\nFlowrepo-Workspace: main\\nFlowrepo-Version: a v5\\n");
  EXPECT_EQ(One(kBob, head, jump, "refs/heads/main").reasons,
            (std::vector<std::string>{"commit " + jump.substr(0, 7) +
                                      " names 'a v5', but the next version of 'a' in "
                                      "workspace 'main' is v2; only publish gives version numbers (publish again on "
                                      "the server's head)"}));
  std::string huge = HandCommit("Publish a\\n\\nFlowrepo-Workspace: main\\nFlowrepo-Version: a v1000000000\\n");
  EXPECT_EQ(One(kBob, head, huge, "refs/heads/main").reasons,
            (std::vector<std::string>{"commit " + huge.substr(0, 7) +
                                      ": trailer 'Flowrepo-Version: a v1000000000' "
                                      "does not parse (a version is '<flow> v<N>', N from 1 to 999999999)"}));
  // A number already taken: two publishes of a v2 in one push.
  std::string next = HandCommit("Publish a v2\\n\\nFlowrepo-Workspace: main\\nFlowrepo-Version: a v2\\n");
  EXPECT_TRUE(One(kBob, head, next, "refs/heads/main").accepted);
  std::string again = Shell(
                          "printf 'Publish a v2\\n\\nFlowrepo-Workspace: main\\nFlowrepo-Version: a v2\\n' | "
                          "git -c user.name=m -c user.email=m@example.com commit-tree main^{tree} -p " +
                              next,
                          path())
                          .out.substr(0, 40);
  EXPECT_EQ(One(kBob, head, again, "refs/heads/main").reasons.at(0),
            "commit " + again.substr(0, 7) +
                " names 'a v2', but the next version of 'a' in workspace 'main' is v3; "
                "only publish gives version numbers (publish again on the server's head)");
  // Another workspace's trailers are no publish here.
  EXPECT_TRUE(
      One(kBob, head, HandCommit("x\\n\\nFlowrepo-Workspace: dev\\nFlowrepo-Version: a v9\\n"), "refs/heads/main")
          .accepted);
}

TEST_F(ReceiveTest, TagsNamedLikeVersionsOfNoWorkspaceAreRefused) {
  const std::string head = Id("main");
  EXPECT_EQ(One(kAdmin, kZero, head, "refs/tags/staging/a/v1").reasons,
            (std::vector<std::string>{"'staging/a/v1' is named like a version tag of workspace 'staging', which does "
                                      "not exist and is not created by this push; a version tag is pushed with or "
                                      "after the publish commit that names it"}));
  EXPECT_FALSE(One("", kZero, head, "refs/tags/staging/a/v02").accepted);
  // Not shaped like a version tag: not flowrepo's.
  for (const char* tag : {"refs/tags/v1.2.0", "refs/tags/release/2024-05", "refs/tags/Team/Flow/v2",
                          "refs/tags/staging/a/notes", "refs/tags/staging/a/b/v1", "refs/tags/staging/a/v1-rc"}) {
    EXPECT_TRUE(One("", kZero, head, tag).accepted) << tag;
  }
  // A number out of range under a workspace.
  EXPECT_EQ(One(kBob, kZero, head, "refs/tags/main/a/v1000000000").reasons.at(0),
            "'main/a/v1000000000' is not a version tag name (<workspace>/<flow>/v<N>, N from 1 to 999999999); "
            "refs/tags/main/ is reserved for them");
}

TEST_F(ReceiveTest, UnbackedTagsMayBeDeletedByAnAdmin) {
  const std::string other = Id("main~1");
  Shell("git tag main/a/v9 " + other + " && git tag staging/a/v1 " + other, path());
  EXPECT_EQ(One(kBob, other, kZero, "refs/tags/main/a/v9").reasons.at(0),
            "user 'bob@example.com' needs role 'admin' in workspace 'main' (has 'integrator')");
  EXPECT_TRUE(One(kAdmin, other, kZero, "refs/tags/main/a/v9").accepted);
  EXPECT_EQ(One(kBob, other, kZero, "refs/tags/staging/a/v1").reasons.at(0),
            "deleting 'staging/a/v1', named like a version tag of workspace 'staging', which does not exist, needs "
            "the server's owner or an admin of an existing workspace");
  EXPECT_TRUE(One(kAdmin, other, kZero, "refs/tags/staging/a/v1").accepted);
  // A backed version stays, for everyone.
  EXPECT_EQ(One(kAdmin, Id("refs/tags/main/a/v1"), kZero, "refs/tags/main/a/v1").reasons.at(0),
            "version tags are never deleted ('main/a/v1' exists)");
}

TEST(ReceiveParseTest, ParsesLinesAndRefusesGarbage) {
  std::string a(40, 'a'), b(40, 'b');
  auto updates = ParseRefUpdates(a + " " + b + " refs/heads/main\n\n" + b + " " + a + " refs/tags/x\n");
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[1].ref, "refs/tags/x");
  ExpectError(ErrorCode::kInvalidArgument,
              "malformed ref update line 'xyz refs/heads/main' (expected '<old> <new> <ref>')",
              [] { ParseRefUpdates("xyz refs/heads/main\n"); });
}

TEST(HookScriptTest, SourceTreeHooksAreTheGeneratedScripts) {
  for (const char* name : {"pre-commit", "pre-receive"}) {
    EXPECT_EQ(testing::ReadFile(testing::SourceDir() + "/hooks/" + name), HookScript(name, "flowrepo"))
        << "regenerate hooks/" << name;
  }
  EXPECT_NE(HookScript("pre-commit", "/opt/my tools/flowrepo").find("FLOWREPO=\"${FLOWREPO:-/opt/my tools/flowrepo}\""),
            std::string::npos);
}

}  // namespace
}  // namespace flowrepo
