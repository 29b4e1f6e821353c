// The git index read directly: entries and staged changes must be what git
// itself reports (`git ls-files -s`, `git diff --cached`) for every index
// version, with and without a cache-tree; a damaged index is one error.

#include "git/index_file.h"

#include <gtest/gtest.h>

#include <sstream>

#include "digest.h"
#include "flowrepo/error.h"
#include "git/handles.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::ExpectError;
using testing::Quote;
using testing::Shell;
using testing::TempDir;
using testing::WriteFile;

// \a index with its trailing SHA-1 made again for what it now holds.
std::string WithChecksum(std::string index) {
  index.resize(index.size() - 20);
  Digest sha1 = Digest::Sha1();
  sha1.Update(index);
  return index + sha1.Finish();
}

class IndexFileTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    repo_ = dir_ / "repo";
    Git("init -q " + Quote(repo_), ".");
    for (const char* path :
         {"README.md", "a-b", "a/x.json", "a/y/z.json", "a0", "flows/G/f1/app.json", "flows/G/f1/def.json",
          "flows/G/f2/app.json", "flows/H/f3/app.json", "gone/one", "gone/deep/two", "swap"}) {
      WriteFile(repo_ + "/" + path, std::string("content of ") + path + "\n");
    }
    Git("add -A && git commit -qm base");
  }

  void Git(const std::string& args, const std::string& cwd = "") {
    auto r = Shell("git " + args, cwd.empty() ? repo_ : cwd);
    ASSERT_EQ(r.exit_code, 0) << args << ": " << r.err;
  }

  // A change of every kind: modified deep and shallow, added in a new and
  // an old folder, a file deleted, a whole folder deleted, a file replaced
  // by a folder, an intent-to-add entry (not part of the commit).
  void StageChanges() {
    WriteFile(repo_ + "/a/y/z.json", "changed\n");
    WriteFile(repo_ + "/flows/G/f1/def.json", "changed\n");
    WriteFile(repo_ + "/flows/G/f9/app.json", "new flow\n");
    WriteFile(repo_ + "/a/new.json", "new\n");
    WriteFile(repo_ + "/later.txt", "not yet\n");
    Git("rm -q a-b && git rm -rq gone && git rm -q swap");
    WriteFile(repo_ + "/swap/inside", "now a folder\n");
    Git("add a flows swap && git add -N later.txt");
  }

  void UseIndexVersion() { Git("update-index --index-version " + std::to_string(GetParam())); }

  git::IndexFile Read() { return git::IndexFile::Read(repo_ + "/.git/index"); }
  git::IndexFile ReadByGit() { return git::IndexFile::FromGit(repo_, repo_ + "/.git/index"); }

  // The entries as `git ls-files -s` prints them.
  static std::string Listing(const git::IndexFile& index) {
    std::ostringstream out;
    for (const auto& e : index.entries()) {
      out << std::oct << e.mode << std::dec << " " << git::OidHex(e.id) << " " << e.stage << "\t" << e.path << "\n";
    }
    return out.str();
  }

  // flowrepo's view of the staged changes, as git's --name-status lines.
  std::string Changes() { return Changes(Read()); }
  std::string Changes(const git::IndexFile& index) {
    git::LibGit2Session session;
    git_repository* raw = nullptr;
    git::Check(git_repository_open(&raw, repo_.c_str()), "open");
    git::RepositoryPtr repo(raw);
    git_object* tree = nullptr;
    git::Check(git_revparse_single(&tree, repo.get(), "HEAD^{tree}"), "HEAD");
    git::ObjectPtr tree_owner(tree);
    std::string out;
    for (const auto& c : index.ChangesAgainst(repo.get(), reinterpret_cast<git_tree*>(tree))) {
      out += (c.deleted ? "D\t" : "*\t") + c.path + "\n";
    }
    return out;
  }
  // git's, with A/M/U folded into "*" (flowrepo reads whatever is staged).
  std::string GitChanges() {
    std::string out =
        Shell("git diff --cached --no-renames --name-status | sed 's/^[AMUT]\\t/*\\t/' | sort -k2", repo_).out;
    return out;
  }

  TempDir dir_;
  std::string repo_;
};

TEST_P(IndexFileTest, EntriesAreWhatGitListsWithoutIntentToAdd) {
  StageChanges();
  UseIndexVersion();
  EXPECT_EQ(Listing(Read()), Shell("git ls-files -s | grep -v later.txt", repo_).out);
}

// The fallback for layouts Read refuses gives what Read gives.
TEST_P(IndexFileTest, GitsOwnListingIsTheSameIndex) {
  StageChanges();
  UseIndexVersion();
  EXPECT_EQ(Listing(ReadByGit()), Listing(Read()));
  EXPECT_EQ(Changes(ReadByGit()), GitChanges());
}

TEST_P(IndexFileTest, ChangesAreWhatGitDiffCachedReports) {
  StageChanges();
  UseIndexVersion();
  ASSERT_NE(testing::ReadFile(repo_ + "/.git/index").find("TREE"), std::string::npos);  // unchanged folders skipped
  std::string expected = GitChanges();
  ASSERT_NE(expected.find("D\tgone/deep/two"), std::string::npos) << expected;
  EXPECT_EQ(Changes(), expected);
}

TEST_P(IndexFileTest, ChangesWithoutACacheTreeAreTheSame) {
  StageChanges();
  // An index rebuilt entry by entry has no cache-tree: every folder is read.
  Git("ls-files -s > ../entries && rm .git/index && git update-index --index-info < ../entries");
  UseIndexVersion();
  ASSERT_EQ(testing::ReadFile(repo_ + "/.git/index").find("TREE"), std::string::npos);
  std::string expected = GitChanges();
  ASSERT_NE(expected.find("D\tgone/deep/two"), std::string::npos) << expected;
  EXPECT_EQ(Changes(), expected);
}

TEST_P(IndexFileTest, NothingStagedIsNoChange) {
  UseIndexVersion();
  EXPECT_EQ(Changes(), "");
}

TEST_P(IndexFileTest, ConflictStagesAreChanges) {
  UseIndexVersion();
  std::string blob = Shell("git rev-parse HEAD:a0", repo_).out.substr(0, 40);
  Git("update-index --force-remove a0 && printf '100644 " + blob + " 1\\ta0\\n100644 " + blob +
      " 2\\ta0\\n' | git update-index --index-info");
  EXPECT_EQ(Changes(), "*\ta0\n");
  git::IndexFile index = Read();
  EXPECT_EQ(index.Find("a0"), nullptr);  // no stage-0 entry to read
  EXPECT_NE(index.Find("a/x.json"), nullptr);
}

// A tool that adds an entry without invalidating the cache-tree leaves it
// naming the folder's old tree: the folder's entry count no longer
// matches, so the folder is compared and the new file is a change.
TEST_P(IndexFileTest, ACacheTreeThatMissesEntriesIsNotTrusted) {
  UseIndexVersion();
  const std::string before = testing::ReadFile(repo_ + "/.git/index");
  WriteFile(repo_ + "/flows/G/f1/extra.json", "slipped in\n");
  Git("add flows/G/f1/extra.json");
  const std::string after = testing::ReadFile(repo_ + "/.git/index");
  auto tree_extension = [](const std::string& index) {
    std::size_t at = index.find("TREE");
    EXPECT_NE(at, std::string::npos);
    std::uint32_t size = 0;
    for (int k = 0; k < 4; ++k) size = (size << 8) | static_cast<unsigned char>(index[at + 4 + k]);
    return std::pair(at, 8 + static_cast<std::size_t>(size));
  };
  auto [old_at, old_size] = tree_extension(before);
  auto [new_at, new_size] = tree_extension(after);
  std::string stale = after;
  stale.replace(new_at, new_size, before.substr(old_at, old_size));  // the cache-tree of before the add
  WriteFile(repo_ + "/.git/index", WithChecksum(stale));
  EXPECT_EQ(Changes(), "*\tflows/G/f1/extra.json\n");
}

INSTANTIATE_TEST_SUITE_P(Versions, IndexFileTest, ::testing::Values(2, 3, 4),
                         [](const auto& version) { return "v" + std::to_string(version.param); });

// Split and sparse indexes, which Read refuses, are read through git: every
// entry (a sparse index's folders outside the cone expanded) and every
// staged change.
TEST_F(IndexFileTest, SplitAndSparseIndexesAreReadThroughGit) {
  StageChanges();
  const std::string entries = Shell("git ls-files -s | grep -v later.txt", repo_).out;
  const std::string changes = GitChanges();
  Git("update-index --split-index");
  ASSERT_TRUE(std::filesystem::exists(repo_ + "/.git/index"));
  ExpectError(ErrorCode::kInvalidData, "", [&] { Read(); });
  EXPECT_EQ(Listing(ReadByGit()), entries);
  EXPECT_EQ(Changes(ReadByGit()), changes);

  Git("update-index --no-split-index && git commit -qm staged && git sparse-checkout set --cone --sparse-index a");
  ASSERT_NE(Shell("git ls-files --sparse | grep -c '/$'", repo_).out, "0\n");  // folders outside the cone
  WriteFile(repo_ + "/a/y/z.json", "changed again\n");
  Git("add a/y/z.json");
  ExpectError(ErrorCode::kInvalidData, "", [&] { Read(); });
  EXPECT_EQ(Listing(ReadByGit()), Shell("git ls-files -s | grep -v later.txt", repo_).out);  // still intent-to-add
  EXPECT_EQ(Changes(ReadByGit()), "*\ta/y/z.json\n");
}

TEST(IndexFileDamageTest, DamagedOrUnsupportedIndexIsOneError) {
  TempDir dir;
  std::string repo = dir / "repo";
  ASSERT_EQ(Shell("git init -q repo && cd repo && echo x > f && git add f && git commit -qm x", dir.path()).exit_code,
            0);
  std::string index = testing::ReadFile(repo + "/.git/index");
  auto expect_damaged = [&](const std::string& bytes, const std::string& message) {
    WriteFile(dir / "bad-index", bytes);
    ExpectError(ErrorCode::kInvalidData, "cannot read the git index '" + (dir / "bad-index") + "': " + message,
                [&] { git::IndexFile::Read(dir / "bad-index"); });
  };
  expect_damaged("", "not a git index");
  expect_damaged("not an index at all, but long enough to have a checksum", "not a git index");
  for (std::size_t cut : {std::size_t{40}, std::size_t{70}, index.size() - 21}) {
    std::string torn = index.substr(0, cut) + std::string(20, '\0');
    expect_damaged(torn, "it ends early (torn or damaged)");
  }
  std::string huge_count = index;  // four billion entries claimed: refused, not allocated
  huge_count.replace(8, 4, "\xff\xff\xff\xff");
  expect_damaged(WithChecksum(huge_count), "it ends early (torn or damaged)");
  std::string flipped = index;  // one bit of a blob id: the checksum tells
  flipped[12 + 40] ^= 1;
  expect_damaged(flipped, "its checksum does not match its content (damaged)");
  std::string unhashed = index;  // index.skipHash: no checksum to check
  unhashed.replace(unhashed.size() - 20, 20, std::string(20, '\0'));
  WriteFile(dir / "unhashed-index", unhashed);
  EXPECT_EQ(git::IndexFile::Read(dir / "unhashed-index").entries().size(), 1u);
  std::string version9 = index;
  version9[7] = 9;
  expect_damaged(version9, "index version 9 is not supported");
  ExpectError(ErrorCode::kIo, "cannot read the git index '" + (dir / "missing") + "'",
              [&] { git::IndexFile::Read(dir / "missing"); });

  ASSERT_EQ(Shell("git update-index --split-index", repo).exit_code, 0);
  ExpectError(ErrorCode::kInvalidData,
              "cannot read the git index '" + repo +
                  "/.git/index': it is a split index (core.splitIndex); run "
                  "'git update-index --no-split-index'",
              [&] { git::IndexFile::Read(repo + "/.git/index"); });
}

}  // namespace
}  // namespace flowrepo
