// The delta-free pack written for large writes: checked by git itself.

#include "git/pack.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "flowrepo/repository.h"
#include "git/handles.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::Quote;
using testing::Shell;
using testing::TempDir;

// Blobs of pseudo-random letters: compressible, as flow documents are,
// but never repeated.
std::string Letters(std::size_t size, std::size_t seed) {
  std::string data(size, '\0');
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (auto& c : data) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>('a' + x % 16);
  }
  return data;
}

TEST(PackTest, PendingObjectsSpillToDiskAndReadBackEveryObject) {
  git::LibGit2Session session;
  TempDir dir;
  const std::string repo = dir / "repo.git";
  Shell("git init -q --bare " + Quote(repo));
  git_repository* raw_repo = nullptr;
  ASSERT_EQ(git_repository_open(&raw_repo, repo.c_str()), 0);
  git::RepositoryPtr handle(raw_repo);
  git_odb* raw_odb = nullptr;
  ASSERT_EQ(git_repository_odb(&raw_odb, handle.get()), 0);
  git::OdbPtr odb(raw_odb);
  git_odb_backend* backend = nullptr;
  git::PendingObjects* pending = git::PendingObjects::Create(&backend, repo + "/objects");
  ASSERT_EQ(git_odb_add_backend(odb.get(), backend, 1000), 0);

  // 48 MiB: more than a batch, so most objects are read back from the
  // spill file, and the last ones from memory.
  std::vector<git::PackObject> objects;
  for (std::size_t i = 0; i < 384; ++i) {
    git::PackObject o{{}, GIT_OBJECT_BLOB, Letters(128 << 10, i)};
    ASSERT_EQ(git_odb_write(&o.id, odb.get(), o.data.data(), o.data.size(), o.type), 0);
    objects.push_back(std::move(o));
  }
  EXPECT_EQ(pending->size(), objects.size());
  for (const auto& o : objects) {
    git_odb_object* read = nullptr;
    ASSERT_EQ(git_odb_read(&read, odb.get(), &o.id), 0);
    std::string data(static_cast<const char*>(git_odb_object_data(read)), git_odb_object_size(read));
    git_odb_object_free(read);
    ASSERT_EQ(data, o.data);
  }

  std::string pack;
  pending->WritePack([&](std::string_view bytes) { pack += bytes; });
  EXPECT_EQ(pack, git::BuildPack(objects)) << "spilled or not, the same objects give the same pack";
  testing::WriteFile(dir / "p.pack", pack);
  const std::string other = dir / "other.git";
  Shell("git init -q --bare " + Quote(other));
  testing::RunResult indexed = Shell("git -C " + Quote(other) + " index-pack --stdin < " + Quote(dir / "p.pack"));
  ASSERT_EQ(indexed.exit_code, 0) << indexed.err;
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &objects[7].id);
  EXPECT_EQ(Shell("git -C " + Quote(other) + " cat-file blob " + hex).out, objects[7].data);
  pending->Clear();
  EXPECT_TRUE(pending->empty());
}

TEST(PackTest, GitIndexesThePackAndReadsEveryObject) {
  TempDir dir;
  const std::string repo = dir / "repo.git";
  Shell("git init -q --bare " + Quote(repo));
  // Blobs of every size class of the pack entry header, one repeated.
  std::vector<git::PackObject> objects;
  for (std::size_t size : {0u, 15u, 16u, 2047u, 2048u, 300000u}) {
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>('a' + (i * 7 + size) % 26);
    git::PackObject o{{}, GIT_OBJECT_BLOB, data};
    git_odb_hash(&o.id, data.data(), data.size(), GIT_OBJECT_BLOB);
    objects.push_back(o);
  }
  const std::string pack = git::BuildPack(objects);
  EXPECT_EQ(pack, git::BuildPack(objects)) << "the same objects give the same bytes";
  testing::WriteFile(dir / "p.pack", pack);
  testing::RunResult indexed = Shell("git -C " + Quote(repo) + " index-pack --stdin < " + Quote(dir / "p.pack"));
  ASSERT_EQ(indexed.exit_code, 0) << indexed.err;
  for (const auto& o : objects) {
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof hex, &o.id);
    testing::RunResult shown = Shell("git -C " + Quote(repo) + " cat-file blob " + hex);
    EXPECT_EQ(shown.out, o.data) << hex;
  }
}

TEST(PackTest, LargePutLandsAsOnePackAndReadsBack) {
  TempDir dir;
  FlowRepository repo = testing::InitRepository(dir / "repo", "admin@example.com");
  std::vector<Flow> flows;
  for (int i = 0; i < 40; ++i) flows.push_back(testing::MakeFlow("flow-" + std::to_string(i), "Bulk", 3));
  repo.PutFlows("main", "bulk", flows);
  testing::RunResult count = Shell("git -C " + Quote(dir / "repo") + " count-objects -v");
  EXPECT_NE(count.out.find("packs: 1\n"), std::string::npos) << count.out;
  testing::ExpectFsckClean(dir / "repo");
  for (const auto& flow : flows) {
    Flow back = repo.ReadFlow("main", ParseFlowSpec(flow.summary.id + "@refs/heads/drafts/main/bulk"));
    EXPECT_EQ(back.summary.id, flow.summary.id);
    EXPECT_FALSE(back.flow_definition.empty());
  }
}

// After a large (packed) write, the same repository handle publishing many
// flows writes their tags as loose objects, not a pack per tag.
TEST(PackTest, TagsAfterAPackedWriteAreNotAPackEach) {
  TempDir dir;
  FlowRepository repo = testing::InitRepository(dir / "repo", "admin@example.com");
  std::vector<Flow> flows;
  for (int i = 0; i < 40; ++i) flows.push_back(testing::MakeFlow("f" + std::to_string(i), "G"));
  repo.PutFlows("main", "many", flows);
  repo.Publish("main", "many", "");
  EXPECT_EQ(repo.FlowHistory("main", "f39").versions.size(), 1u);
  auto packs = Shell("ls .git/objects/pack | grep -c '\\.pack$'", dir / "repo");
  EXPECT_EQ(packs.out, "2\n");  // the flows' objects, and the 40 tag objects together
  testing::ExpectFsckClean(dir / "repo");
}

}  // namespace
}  // namespace flowrepo
