// zip helpers: a deflate stream made of pieces compressed apart is one
// valid stream (the manifest of a large package is compressed that way).

#include "zip/zip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace flowrepo {
namespace {

std::string InflateRaw(const std::string& deflated, std::size_t size) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, -MAX_WBITS), Z_OK);
  std::string out(size + 1, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(deflated.data()));
  z.avail_in = static_cast<uInt>(deflated.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&z, Z_FINISH);
  EXPECT_EQ(rc, Z_STREAM_END);  // one stream, ending exactly at the last piece
  EXPECT_EQ(z.avail_in, 0u);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST(ZipTest, PiecesDeflatedApartAreOneStream) {
  std::string text;
  for (int i = 0; text.size() < 300000; ++i) text += "{\"id\": \"flow-" + std::to_string(i * 7919 % 1000) + "\"},\n";
  const std::size_t piece = 100000;
  std::string joined;
  for (std::size_t at = 0; at < text.size(); at += piece) {
    joined += zip::DeflatePiece(std::string_view(text).substr(at, piece), at + piece >= text.size());
  }
  EXPECT_EQ(InflateRaw(joined, text.size()), text);
  EXPECT_LT(joined.size(), text.size() / 4);
  EXPECT_EQ(InflateRaw(zip::DeflatePiece(text, true), text.size()), text);
  EXPECT_EQ(zip::DeflatePiece(text, true), zip::Deflate(text));
}

}  // namespace
}  // namespace flowrepo
