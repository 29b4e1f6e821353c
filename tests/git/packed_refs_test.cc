// Adding refs straight into packed-refs: what git reads afterwards, and
// nothing written when a ref disagrees or the file is locked.

#include "git/packed_refs.h"

#include <gtest/gtest.h>

#include "flowrepo/error.h"
#include "git/handles.h"
#include "support/test_support.h"

namespace flowrepo::git {
namespace {

using testing::ReadFile;
using testing::Shell;
using testing::TempDir;

class PackedRefsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Git("init -q . && git commit -q --allow-empty -m one && git tag -a -m old old && git pack-refs --all")
                  .exit_code,
              0);
    commit_ = OidFromHex(Git("rev-parse HEAD").out.substr(0, 40));
    tag_ =
        OidFromHex(Shell("printf 'object %s\\ntype commit\\ntag new\\ntagger T <t@example.com> 0 +0000\\n\\nnew\\n' " +
                             OidHex(commit_) + " | git mktag",
                         dir_.path())
                       .out.substr(0, 40));
  }
  testing::RunResult Git(const std::string& args) {
    return Shell(
        "export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=T "
        "GIT_COMMITTER_EMAIL=t@example.com; git " +
            args,
        dir_.path());
  }
  std::string GitDir() const { return dir_ / ".git"; }

  TempDir dir_;
  git_oid commit_{}, tag_{};
};

TEST_F(PackedRefsTest, GitSeesTheAddedRefsBesideTheOldOnes) {
  AddPackedRefs(GitDir(), {{"refs/tags/main/b/v1", tag_, commit_}, {"refs/tags/main/a/v1", tag_, commit_}});
  EXPECT_EQ(Git("for-each-ref --format='%(refname) %(*objectname)' refs/tags").out,
            "refs/tags/main/a/v1 " + OidHex(commit_) + "\nrefs/tags/main/b/v1 " + OidHex(commit_) + "\nrefs/tags/old " +
                OidHex(commit_) + "\n");
  EXPECT_EQ(Git("show-ref -d main/a/v1").out,
            OidHex(tag_) + " refs/tags/main/a/v1\n" + OidHex(commit_) + " refs/tags/main/a/v1^{}\n");
  testing::ExpectFsckClean(dir_.path());
  EXPECT_FALSE(std::filesystem::exists(GitDir() + "/packed-refs.lock"));
  // Adding what is there already changes nothing.
  const std::string before = ReadFile(GitDir() + "/packed-refs");
  AddPackedRefs(GitDir(), {{"refs/tags/main/a/v1", tag_, commit_}});
  EXPECT_EQ(ReadFile(GitDir() + "/packed-refs"), before);
}

TEST_F(PackedRefsTest, ARefWithAnotherTargetWritesNothing) {
  const std::string before = ReadFile(GitDir() + "/packed-refs");
  testing::ExpectError(
      ErrorCode::kConflict, "'refs/tags/old' changed concurrently; nothing was written, re-run the command", [&] {
        AddPackedRefs(GitDir(), {{"refs/tags/main/a/v1", tag_, commit_}, {"refs/tags/old", tag_, commit_}});
      });
  EXPECT_EQ(ReadFile(GitDir() + "/packed-refs"), before);
  EXPECT_FALSE(std::filesystem::exists(GitDir() + "/packed-refs.lock"));
}

TEST_F(PackedRefsTest, AHeldLockIsReportedAndLeftAlone) {
  const std::string before = ReadFile(GitDir() + "/packed-refs");
  testing::WriteFile(GitDir() + "/packed-refs.lock", "");
  testing::ExpectError(ErrorCode::kConflict,
                       "'" + GitDir() +
                           "/packed-refs.lock' is held by another writer; re-run the command, or remove "
                           "the lock if no git or flowrepo process is running",
                       [&] {
                         AddPackedRefs(GitDir(), {{"refs/tags/main/a/v1", tag_, commit_}});
                       });
  EXPECT_EQ(ReadFile(GitDir() + "/packed-refs"), before);
  EXPECT_TRUE(std::filesystem::exists(GitDir() + "/packed-refs.lock"));  // not ours to remove
}

}  // namespace
}  // namespace flowrepo::git
