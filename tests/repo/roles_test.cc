// Roles: grant, revoke, list; only admins change them; a managed workspace
// always keeps an admin; the role matrix is enforced by the operations.

#include <gtest/gtest.h>

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

class RolesTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::InitRepository(path(), kAdmin, InitOptions::Layout::kBare); }
  std::string path() const { return dir_ / "repo"; }
  FlowRepository As(const std::string& user) { return FlowRepository::Open(path(), user); }
  TempDir dir_;
};

TEST_F(RolesTest, InitMakesTheUserAdminAndGrantCommitsToTheWorkspace) {
  FlowRepository admin = As(kAdmin);
  auto roles = admin.ListRoles("main");
  ASSERT_EQ(roles.size(), 1u);
  EXPECT_EQ(roles[0].user, kAdmin);
  EXPECT_EQ(roles[0].role, Role::kAdmin);
  RoleChange c = admin.GrantRole("main", kBob, Role::kIntegrator);
  EXPECT_TRUE(c.changed);
  EXPECT_EQ(c.roles.size(), 2u);
  EXPECT_EQ(Shell("git log -1 --format=%s main", path()).out,
            "Grant role integrator to bob@example.com in workspace main\n");
  EXPECT_EQ(Shell("git log -1 --format=%ae main", path()).out, "admin@example.com\n");
  EXPECT_FALSE(admin.GrantRole("main", kBob, Role::kIntegrator).changed);  // already so
  testing::ExpectFsckClean(path());
}

TEST_F(RolesTest, OnlyAdminsChangeRoles) {
  As(kAdmin).GrantRole("main", kBob, Role::kIntegrator);
  FlowRepository bob = As(kBob);
  std::string before = testing::RefsSnapshot(path());
  ExpectError(ErrorCode::kPermissionDenied,
              "user 'bob@example.com' needs role 'admin' in workspace 'main' (has 'integrator')",
              [&] { bob.GrantRole("main", kBob, Role::kAdmin); });
  ExpectError(ErrorCode::kPermissionDenied, "", [&] { bob.RevokeRole("main", kAdmin); });
  EXPECT_EQ(before, testing::RefsSnapshot(path()));
}

TEST_F(RolesTest, RevokeKeepsAnAdmin) {
  FlowRepository admin = As(kAdmin);
  ExpectError(ErrorCode::kInvalidArgument,
              "workspace 'main' would have no admin; grant the admin role to someone first",
              [&] { admin.RevokeRole("main", kAdmin); });
  ExpectError(ErrorCode::kNotFound, "user 'nobody' has no role in workspace 'main'",
              [&] { admin.RevokeRole("main", "nobody"); });
  ExpectError(ErrorCode::kInvalidArgument, "", [&] { admin.GrantRole("main", "two words", Role::kViewer); });
  admin.GrantRole("main", kBob, Role::kAdmin);
  RoleChange c = admin.RevokeRole("main", kAdmin);
  ASSERT_EQ(c.roles.size(), 1u);
  EXPECT_EQ(c.roles[0].user, kBob);
}

TEST_F(RolesTest, RoleMatrix) {
  FlowRepository admin = As(kAdmin);
  admin.GrantRole("main", kBob, Role::kIntegrator);
  admin.GrantRole("main", kVic, Role::kViewer);
  admin.PutFlows("main", "d", {MakeFlow("a")});
  admin.Publish("main", "d", "");

  FlowRepository vic = As(kVic);
  EXPECT_EQ(vic.ListFlows({"main", "", ""}).size(), 1u);
  vic.ReadFlow("main", ParseFlowSpec("a"));
  vic.FlowHistory("main", "a");
  vic.Diff("main", "a", "v1", "v1");
  vic.ListRoles("main");
  const std::string needs = "user 'vic@example.com' needs role 'integrator' in workspace 'main' (has 'viewer')";
  ExpectError(ErrorCode::kPermissionDenied, needs, [&] { vic.StartDraft("main", "x"); });
  ExpectError(ErrorCode::kPermissionDenied, needs, [&] { vic.PutFlows("main", "x", {MakeFlow("b")}); });
  ExpectError(ErrorCode::kPermissionDenied, needs, [&] { vic.CopyFlow("main", {"a", "A2", "", "", ""}); });
  ExpectError(ErrorCode::kPermissionDenied, needs, [&] { vic.Revert("main", "a", 1); });
  ExpectError(ErrorCode::kPermissionDenied, needs, [&] { vic.Publish("main", "d", ""); });

  FlowRepository bob = As(kBob);
  bob.PutFlows("main", "d2", {MakeFlow("b")});
  bob.Publish("main", "d2", "");
  ExpectError(ErrorCode::kPermissionDenied, "", [&] { bob.CreateWorkspace("dev", "main"); });
  ExpectError(ErrorCode::kPermissionDenied, "", [&] { bob.GrantRole("main", kVic, Role::kAdmin); });
  ExpectError(ErrorCode::kPermissionDenied, "", [&] { As("mallory@example.com").ListFlows({"main", "", ""}); });
}

// Roles edited by hand on a draft are published only by an admin.
TEST_F(RolesTest, PublishingARoleChangeNeedsAdmin) {
  TempDir work;
  FlowRepository admin = As(kAdmin);
  admin.GrantRole("main", kBob, Role::kIntegrator);
  std::string clone = work / "clone";
  ASSERT_EQ(Shell("git clone -q " + testing::Quote(path()) + " " + clone).exit_code, 0);
  std::string settings_file = clone + "/.flowrepo/workspace.json";
  Json settings = ParseJson(testing::ReadFile(settings_file), "s");
  settings["roles"][kBob] = "admin";
  testing::WriteFile(settings_file, CanonicalJson(settings));
  auto r = Shell(
      "git switch -qc drafts/main/promote && git commit -qam 'make bob admin' && "
      "git push -q origin drafts/main/promote",
      clone);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string before = testing::RefsSnapshot(path());
  ExpectError(ErrorCode::kPermissionDenied,
              "user 'bob@example.com' needs role 'admin' in workspace 'main' (has 'integrator')",
              [&] { As(kBob).Publish("main", "promote", ""); });
  EXPECT_EQ(before, testing::RefsSnapshot(path()));
  admin.Publish("main", "promote", "");
  EXPECT_EQ(admin.ListRoles("main")[1].role, Role::kAdmin);
}

}  // namespace
}  // namespace flowrepo
