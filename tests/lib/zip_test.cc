// zip helpers: a deflate stream made of pieces compressed apart is one
// valid stream (the manifest of a large package is compressed that way);
// the archives Writer makes are read back by libzip and by unzip, with
// Zip64 end records past 65,534 entries.

#include "zip/zip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::Quote;
using testing::ReadFile;
using testing::RunResult;
using testing::Shell;
using testing::TempDir;

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

struct Entry {
  std::string name;
  std::string text;
};

void WriteArchive(const std::string& path, const std::vector<Entry>& entries) {
  zip::Writer writer(path);
  for (const auto& e : entries) writer.Add(e.name, e.text.size(), zip::Crc32(e.text), zip::Deflate(e.text));
  writer.Finish();
}

void ExpectReadBack(const std::string& path, const std::vector<Entry>& entries) {
  zip::Reader reader = zip::Reader::Open(path);
  ASSERT_EQ(reader.size(), entries.size());
  for (std::uint64_t i = 0; i < entries.size(); ++i) {
    zip::EntryInfo info = reader.Stat(i);
    EXPECT_EQ(info.name, entries[i].name);
    EXPECT_EQ(reader.Read(info, 64u << 20, 1000), entries[i].text) << info.name;
  }
  RunResult test = Shell("unzip -tq " + Quote(path));
  EXPECT_EQ(test.exit_code, 0) << test.out << test.err;
}

TEST(ZipWriterTest, ArchiveReadsBackWithLibzipAndUnzip) {
  TempDir dir;
  std::string large;
  for (int i = 0; large.size() < (3u << 20); ++i) large += std::to_string(i * 2654435761u) + ",";
  std::vector<Entry> entries = {{"manifest.json", "{}"},
                                {"flows/Équipe/a/flow_definition.json", "{\"nodes\": []}"},
                                {"flows/b/empty.json", ""},
                                {"flows/b/large.json", large}};
  const std::string path = dir.path() + "/a.zip";
  WriteArchive(path, entries);
  ExpectReadBack(path, entries);

  // Names that are not ASCII are flagged UTF-8 (bit 11), ASCII ones not.
  const std::string bytes = ReadFile(path);
  auto flags_of = [&](const std::string& name) {
    std::size_t at = bytes.find(name);
    return static_cast<unsigned char>(bytes[at - 30 + 7]);
  };
  EXPECT_EQ(flags_of("flows/Équipe/a/flow_definition.json") & 0x08, 0x08);
  EXPECT_EQ(flags_of("manifest.json") & 0x08, 0);

  const std::string again = dir.path() + "/b.zip";
  WriteArchive(again, entries);
  EXPECT_EQ(ReadFile(again), bytes);  // the same entries, the same bytes
}

TEST(ZipWriterTest, ManyEntriesGetZip64EndRecords) {
  TempDir dir;
  std::vector<Entry> entries;
  for (int i = 0; i < 70000; ++i) entries.push_back({"f/" + std::to_string(i), std::to_string(i % 97)});
  const std::string path = dir.path() + "/many.zip";
  WriteArchive(path, entries);
  ExpectReadBack(path, entries);
  const std::string bytes = ReadFile(path);
  EXPECT_NE(bytes.find(std::string("PK\x06\x06", 4), bytes.size() - 200), std::string::npos);
}

TEST(ZipWriterTest, EntryFromSpoolIsCopiedWhole) {
  TempDir dir;
  std::string text;
  for (int i = 0; text.size() < (5u << 20); ++i) text += "line " + std::to_string(i) + "\n";
  Spool spool(dir.path());
  spool.Append("not part of the entry");
  Spool::Span span = spool.Append(zip::Deflate(text));
  const std::string path = dir.path() + "/spooled.zip";
  {
    zip::Writer writer(path);
    writer.Add("big.txt", text.size(), zip::Crc32(text), spool, span);
    writer.Finish();
  }
  ExpectReadBack(path, {{"big.txt", text}});
}

}  // namespace
}  // namespace flowrepo
