// The pre-receive decision (CheckReceive) on ref updates made with the
// library and plain git inside one bare repository; tests/cli/hooks_test.cc
// pushes through the real hook.

#include <gtest/gtest.h>

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
    InitOptions options;
    options.user = kAdmin;
    options.layout = InitOptions::Layout::kBare;
    FlowRepository admin = FlowRepository::Init(path(), options);
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
  env["variables"].push_back({{"name", "DB_PASSWORD"}, {"value", "Hunter2" "Hunter2"}});
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
  EXPECT_TRUE(One(kBob, kZero, other, "refs/tags/main/a/v2").accepted);
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
