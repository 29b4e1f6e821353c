// The delta-free pack written for large writes: checked by git itself.

#include "git/pack.h"

#include <gtest/gtest.h>

#include "flowrepo/repository.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::Quote;
using testing::Shell;
using testing::TempDir;

std::string Hex(const std::string& raw) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) out += {digits[c >> 4], digits[c & 15]};
  return out;
}

TEST(PackTest, Sha1MatchesKnownDigests) {
  EXPECT_EQ(Hex(git::Sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Hex(git::Sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Hex(git::Sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(Hex(git::Sha1(std::string(1000000, 'a'))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
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
  InitOptions options;
  options.user = "admin@example.com";
  FlowRepository repo = FlowRepository::Init(dir / "repo", options);
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
  InitOptions options;
  options.user = "admin@example.com";
  FlowRepository repo = FlowRepository::Init(dir / "repo", options);
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
