// Digests: the published test vectors, fed whole and in uneven pieces.

#include "digest.h"

#include <gtest/gtest.h>

namespace flowrepo {
namespace {

std::string HexOf(Digest digest, std::string_view data, std::size_t piece = std::string_view::npos) {
  for (std::size_t at = 0; at < data.size(); at += piece) digest.Update(data.substr(at, piece));
  return digest.HexFinish();
}

TEST(DigestTest, Sha256MatchesKnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string million(1000000, 'a');
  for (std::size_t piece : {std::string_view::npos, std::size_t{37}, std::size_t{4096}}) {
    EXPECT_EQ(HexOf(Digest::Sha256(), million, piece),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
  EXPECT_EQ(HexOf(Digest::Sha256(), "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 5),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(DigestTest, Sha1MatchesKnownVectors) {
  EXPECT_EQ(HexOf(Digest::Sha1(), "abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(HexOf(Digest::Sha1(), "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 7),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(Digest::Sha1().Finish().size(), 20u);
}

}  // namespace
}  // namespace flowrepo
