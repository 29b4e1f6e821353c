// zip helpers: a deflate stream made of pieces compressed apart is one
// valid stream (the manifest of a large package is compressed that way);
// the archives Writer makes are libzip's bytes for the same entries, read
// back by libzip and by unzip, with Zip64 end records past 65,534 entries. The reader refuses archives that
// other zip tools read otherwise (each shown read two ways first).

#include "zip/zip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "hostile/zip_bytes.h"
#include "spool.h"
#include "support/test_support.h"
#include "zip/writer.h"

namespace flowrepo {
namespace {

using testing::ExpectError;
using testing::Quote;
using testing::ReadFile;
using testing::RunResult;
using testing::Shell;
using testing::TempDir;
using testing::WriteFile;
namespace hostile = testing::hostile;

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

// The same entries written by libzip as flowrepo wrote packages before it
// had its own writer: already-deflated data passed through a source that
// states its size and CRC, a fixed DOS time, mode 0644, UTF-8 names.
std::string LibzipArchive(const std::string& path, const std::vector<Entry>& entries) {
  struct Source {
    std::string deflated;
    std::uint64_t size;
    std::uint32_t crc;
    std::size_t offset = 0;
  };
  auto callback = [](void* state, void* data, zip_uint64_t len, zip_source_cmd_t cmd) -> zip_int64_t {
    auto* s = static_cast<Source*>(state);
    switch (cmd) {
      case ZIP_SOURCE_OPEN: s->offset = 0; return 0;
      case ZIP_SOURCE_READ: {
        std::size_t n = std::min<std::size_t>(len, s->deflated.size() - s->offset);
        std::memcpy(data, s->deflated.data() + s->offset, n);
        s->offset += n;
        return static_cast<zip_int64_t>(n);
      }
      case ZIP_SOURCE_CLOSE: return 0;
      case ZIP_SOURCE_STAT: {
        auto* st = static_cast<zip_stat_t*>(data);
        zip_stat_init(st);
        st->size = s->size;
        st->crc = s->crc;
        st->comp_method = ZIP_CM_DEFLATE;
        st->valid |= ZIP_STAT_SIZE | ZIP_STAT_CRC | ZIP_STAT_COMP_METHOD;
        return sizeof(zip_stat_t);
      }
      case ZIP_SOURCE_FREE: delete s; return 0;
      case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
                                              ZIP_SOURCE_FREE, -1);
      default: return -1;
    }
  };
  int code = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  EXPECT_NE(za, nullptr) << code;
  for (const auto& e : entries) {
    auto* state = new Source{zip::Deflate(e.text), e.text.size(), zip::Crc32(e.text)};
    zip_source_t* source = zip_source_function_create(callback, state, nullptr);
    zip_int64_t i = zip_file_add(za, e.name.c_str(), source, ZIP_FL_ENC_UTF_8);
    EXPECT_GE(i, 0) << e.name;
    auto at = static_cast<zip_uint64_t>(i);
    EXPECT_EQ(zip_set_file_compression(za, at, ZIP_CM_DEFLATE, 0), 0);
    EXPECT_EQ(zip_file_set_dostime(za, at, 0, (1 << 5) | 1, 0), 0);  // 1980-01-01 00:00
    EXPECT_EQ(zip_file_set_external_attributes(za, at, 0, ZIP_OPSYS_UNIX, 0100644u << 16), 0);
  }
  EXPECT_EQ(zip_close(za), 0);
  return ReadFile(path);
}

// The writer exists for bounded memory, not for a format of its own: its
// bytes are libzip's for the same entries, Zip64 end records included.
TEST(ZipWriterTest, BytesAreWhatLibzipWritesForTheSameEntries) {
  TempDir dir;
  std::string large;
  for (int i = 0; large.size() < (1u << 20); ++i) large += std::to_string(i * 2654435761u) + ",";
  std::vector<Entry> few = {{"manifest.json", "{}"},
                            {"flows/Équipe/a/flow_definition.json", "{\"nodes\": []}"},
                            {"flows/b/empty.json", ""},
                            {"flows/b/large.json", large}};
  std::vector<Entry> many;
  for (int i = 0; i < 70000; ++i) many.push_back({"f/" + std::to_string(i), std::to_string(i % 97)});
  for (const auto* entries : {&few, &many}) {
    WriteArchive(dir / "ours.zip", *entries);
    const std::string theirs = LibzipArchive(dir / "libzip.zip", *entries);
    const std::string ours = ReadFile(dir / "ours.zip");
    EXPECT_EQ(ours.size(), theirs.size()) << entries->size() << " entries";
    EXPECT_TRUE(ours == theirs) << entries->size() << " entries: the archives differ";
  }
}

// Entries of 4 GiB or more would need Zip64 sizes in the local header,
// which no flow document comes near: refused, not written wrong.
TEST(ZipWriterTest, EntriesOfFourGibibytesAreRefused) {
  TempDir dir;
  zip::Writer writer(dir / "huge.zip");
  ExpectError(ErrorCode::kInvalidArgument, "zip entry 'huge.json' is 4 GiB or larger",
              [&] { writer.Add("huge.json", std::uint64_t{1} << 32, 0, "not really deflated"); });
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

// Past 4 GiB of archive, an entry's offset moves into a Zip64 extra field
// of its central directory entry, and the end records into Zip64 ones.
// Three entries of 1.5 GiB (zeros in stored deflate blocks, so the
// archive really is that long) put the last entry and the directory past
// 4 GiB; libzip and the reader must find them. Needs 6.5 GiB of disk.
TEST(ZipWriterTest, ArchivesPastFourGibibytesPutOffsetsInZip64Fields) {
  TempDir dir;
  constexpr std::uint64_t kEntry = std::uint64_t{3} << 29;  // 1.5 GiB
  constexpr std::uint64_t kNeeded = std::uint64_t{13} << 29;
  const auto space = std::filesystem::space(dir.path());
  if (space.available < kNeeded) {
    GTEST_SKIP() << "needs " << (kNeeded >> 20) << " MiB free in " << dir.path() << ", has " << (space.available >> 20);
  }
  // A deflate stream of kEntry zero bytes in stored blocks, and their CRC.
  Spool spool(dir.path());
  const std::string zeros(65535, '\0');
  uLong crc = crc32(0, nullptr, 0);
  std::string piece;
  for (std::uint64_t left = kEntry; left > 0;) {
    const std::uint16_t n = static_cast<std::uint16_t>(std::min<std::uint64_t>(left, zeros.size()));
    left -= n;
    piece += static_cast<char>(left == 0 ? 1 : 0);  // BFINAL, BTYPE 00: stored
    for (std::uint16_t v : {n, static_cast<std::uint16_t>(~n)}) {
      piece += static_cast<char>(v & 0xff);
      piece += static_cast<char>(v >> 8);
    }
    piece.append(zeros, 0, n);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(zeros.data()), n);
    if (piece.size() >= (std::size_t{16} << 20) || left == 0) {
      spool.Append(piece);
      piece.clear();
    }
  }
  const std::string path = dir / "large.zip";
  {
    zip::Writer writer(path);
    for (const char* name : {"a.bin", "b.bin", "c.bin"}) {
      writer.Add(name, kEntry, static_cast<std::uint32_t>(crc), spool, spool.All());
    }
    const std::string last = "{\"after\": \"four gibibytes\"}";
    const uLong last_crc = crc32(0, reinterpret_cast<const Bytef*>(last.data()), static_cast<uInt>(last.size()));
    writer.Add("last.json", last.size(), static_cast<std::uint32_t>(last_crc), zip::Deflate(last));
    writer.Finish();
  }
  EXPECT_GT(std::filesystem::file_size(path), std::uint64_t{1} << 32);

  zip::Reader reader = zip::Reader::Open(path);
  ASSERT_EQ(reader.size(), 4u);
  EXPECT_EQ(reader.Stat(2).size, kEntry);
  const zip::EntryInfo last = reader.Stat(3);
  EXPECT_EQ(last.name, "last.json");
  EXPECT_EQ(reader.Read(last, 1000, 1000), "{\"after\": \"four gibibytes\"}");
  RunResult unzip = Shell("unzip -p " + Quote(path) + " last.json");
  EXPECT_EQ(unzip.exit_code, 0) << unzip.err;
  EXPECT_EQ(unzip.out, "{\"after\": \"four gibibytes\"}");
  const std::string tail = Shell("tail -c 200 " + Quote(path) + " | od -An -tx1 | tr -d ' \\n'").out;
  EXPECT_NE(tail.find("504b0606"), std::string::npos) << "a Zip64 end record";
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

// ---- archives that read two ways ---------------------------------------------

// libzip picks, among end records that reach the end of the file, the one
// whose entries span the most bytes: an attacker makes that the clean one.
constexpr char kClean[] = R"({"flow": "clean", "note": "a flow reviewers are happy with"})";
constexpr char kEvil[] = R"({"flow": "evil", "url": "https://collector.evil.example/in"})";

hostile::ZipEntry JsonEntry(const std::string& data) {
  hostile::ZipEntry e;
  e.name = "a.json";
  e.data = data;
  return e;
}

// What libzip alone (as flowrepo opened packages before it walked their
// bytes itself) reads as entry 0.
std::string LibzipReads(const std::string& path) {
  int code = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (!za) return "error " + std::to_string(code);
  zip_file_t* f = zip_fopen_index(za, 0, 0);
  std::string out;
  char buf[4096];
  zip_int64_t n;
  while (f && (n = zip_fread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  if (f) zip_fclose(f);
  zip_discard(za);
  return out;
}

std::string PythonReads(const std::string& path) {
  return Shell(
             "python3 -c 'import sys, zipfile; "
             "sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(\"a.json\").decode())' " +
             Quote(path))
      .out;
}

// Opening \a path fails with kInvalidData and a message holding \a why.
void ExpectRefused(const std::string& path, const std::string& why) {
  try {
    zip::Reader::Open(path);
    ADD_FAILURE() << "opened " << path;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidData) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("not a valid zip archive: ", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
}

TEST(ZipReaderTest, CommentHidingASecondCentralDirectoryIsRefused) {
  TempDir dir;
  const std::string path = dir.path() + "/two.zip";
  WriteFile(path, hostile::TwoDirectoryZip({JsonEntry(kEvil)}, {JsonEntry(kClean)}));
  // Read two ways: libzip finds the clean flow; unzip (which finds nothing
  // wrong) and Python the evil one.
  EXPECT_EQ(LibzipReads(path), kClean);
  EXPECT_EQ(PythonReads(path), kEvil);
  EXPECT_EQ(Shell("unzip -p " + Quote(path) + " a.json").out, kEvil);
  EXPECT_EQ(Shell("unzip -tq " + Quote(path)).exit_code, 0);
  EXPECT_NE(Shell("unzip -l " + Quote(path)).out.find("a.json"), std::string::npos);
  ExpectRefused(path, "two end of central directory records end the file (it can be read two ways)");
  try {
    zip::ReadDirectory(path);
    ADD_FAILURE() << "read the directory of " << path;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(it can be read two ways)"), std::string::npos) << e.what();
  }

  // The hidden end record off by one byte: libzip does not consider it,
  // Python takes the last end record signature it finds.
  WriteFile(path, hostile::TwoDirectoryZip({JsonEntry(kEvil)}, {JsonEntry(kClean)}, 1));
  EXPECT_EQ(LibzipReads(path), kClean);
  EXPECT_EQ(PythonReads(path), kEvil);
  ExpectRefused(path, "the archive comment holds a zip record signature (it can be read two ways)");
}

TEST(ZipReaderTest, EntriesNoCentralDirectoryListsAreRefused) {
  TempDir dir;
  const std::string path = dir.path() + "/hidden.zip";
  const std::string clean = hostile::BuildZip({JsonEntry(kClean)});
  // Before the first entry: a reader walking local headers (funzip, as a
  // streaming unzipper does) extracts the evil flow; libzip and unzip the
  // clean one.
  WriteFile(path, hostile::WithHiddenEntry(clean, JsonEntry(kEvil), 0));
  EXPECT_EQ(LibzipReads(path), kClean);
  EXPECT_EQ(Shell("unzip -p " + Quote(path) + " a.json").out, kClean);
  EXPECT_EQ(Shell("funzip < " + Quote(path)).out, kEvil);
  ExpectRefused(path, "bytes before the first entry that no entry accounts for");

  // Between entries and before the directory.
  hostile::ZipEntry second = JsonEntry(kClean);
  second.name = "b.json";
  const std::string two = hostile::BuildZip({JsonEntry(kClean), second});
  const auto records = hostile::ListZip(two);
  WriteFile(path, hostile::WithHiddenEntry(two, JsonEntry(kEvil), records[1].local));
  EXPECT_EQ(LibzipReads(path), kClean);
  ExpectRefused(path, "bytes between entries that no entry accounts for");
  const std::size_t directory = records[1].data + records[1].comp_size;
  WriteFile(path, hostile::WithHiddenEntry(two, JsonEntry(kEvil), directory));
  EXPECT_EQ(LibzipReads(path), kClean);
  ExpectRefused(path, "bytes before the central directory that no entry accounts for");
}

TEST(ZipReaderTest, LocalHeadersMustAgreeWithTheCentralDirectory) {
  TempDir dir;
  const std::string path = dir.path() + "/local.zip";
  // Flags: libzip does not compare them.
  hostile::ZipEntry flags = JsonEntry(kClean);
  flags.local_flags = 0x0808;
  WriteFile(path, hostile::BuildZip({flags}));
  EXPECT_EQ(LibzipReads(path), kClean);
  ExpectRefused(path, "the local header of entry 'a.json' has other flags than its central entry");
  // A data descriptor that names another CRC than the central entry.
  hostile::ZipEntry described = JsonEntry(kClean);
  described.flags = 0x0808;
  const char descriptor[] = "PK\x07\x08\x78\x56\x34\x12\0\0\0\0\0\0\0\0";  // a CRC of 0x12345678
  described.descriptor.assign(descriptor, sizeof descriptor - 1);
  WriteFile(path, hostile::BuildZip({described}));
  ExpectRefused(path, "the data descriptor of entry 'a.json' does not repeat its central entry");
  // Entries whose data runs over the next local headers.
  WriteFile(path, hostile::OverlappingZip({"a.json", "b.json", "c.json"}));
  ExpectRefused(path, "entries overlap ('a.json' and 'b.json')");
}

TEST(ZipReaderTest, ArchivesOtherToolsWriteAreAccepted) {
  TempDir dir;
  const std::string files = dir.path() + "/in";
  WriteFile(files + "/manifest.json", "{}\n");
  WriteFile(files + "/flows/a/app_definition.json", std::string(5000, 'x'));
  // Info-ZIP zip, with and without Zip64 records; Python's zipfile writing
  // to a stream (data descriptors after every entry); an archive comment
  // without signatures.
  for (const std::string& command :
       {std::string("zip -qrD ../plain.zip manifest.json flows"),
        std::string("zip -qrD -fz ../zip64.zip manifest.json flows"),
        std::string(
            "python3 -c 'import sys, zipfile\n"
            "class S:\n"
            "  def __init__(s, f): s.f = f\n"
            "  def write(s, b): return s.f.write(b)\n"
            "  def flush(s): s.f.flush()\n"
            "with open(\"../stream.zip\", \"wb\") as f, zipfile.ZipFile(S(f), \"w\", zipfile.ZIP_DEFLATED) as z:\n"
            "  z.write(\"manifest.json\"); z.write(\"flows/a/app_definition.json\")'"),
        std::string("zip -qrD -z ../comment.zip manifest.json flows <<< 'made by hand'")}) {
    RunResult r = Shell("bash -c " + Quote(command), files);
    ASSERT_EQ(r.exit_code, 0) << command << r.err;
  }
  for (const char* name : {"plain.zip", "zip64.zip", "stream.zip", "comment.zip"}) {
    SCOPED_TRACE(name);
    const std::string path = dir.path() + "/" + name;
    zip::Reader reader = zip::Reader::Open(path);
    ASSERT_EQ(reader.size(), 2u);
    EXPECT_EQ(reader.Read(reader.Stat(0), 1 << 20, 1000), "{}\n");
    EXPECT_EQ(reader.Read(reader.Stat(1), 1 << 20, 1000), std::string(5000, 'x'));
    zip::Reader clone = reader.Clone();
    EXPECT_EQ(clone.Read(clone.Stat(1), 1 << 20, 1000), std::string(5000, 'x'));
  }
  const std::string stream = ReadFile(dir.path() + "/stream.zip");
  EXPECT_EQ(static_cast<unsigned char>(stream[6]) & 0x08, 0x08);  // a data descriptor follows
}

}  // namespace
}  // namespace flowrepo
