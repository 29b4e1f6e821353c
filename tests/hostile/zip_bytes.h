#ifndef FLOWREPO_TESTS_HOSTILE_ZIP_BYTES_H_
#define FLOWREPO_TESTS_HOSTILE_ZIP_BYTES_H_

// Zip archives assembled byte by byte for the hostile corpus: every header
// field can be set to what no zip library would write (names with NUL or
// invalid UTF-8, symlink modes, lying sizes and CRCs, Zip64 sizes, a local
// header that differs from its central entry, central entries sharing one
// local header), plus a reader of the central directory for patching
// archives that libzip wrote.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flowrepo::testing::hostile {

/// CRC-32 (IEEE), as zip headers hold it.
std::uint32_t Crc32(const std::string& data);
/// \a data as a raw deflate stream (no zlib header), level 6.
std::string Deflate(const std::string& data);
/// \a n zero bytes as a raw deflate stream, without holding them in memory.
std::string DeflateZeros(std::uint64_t n);
/// CRC-32 of \a n zero bytes.
std::uint32_t Crc32Zeros(std::uint64_t n);

struct ZipEntry {
  std::string name;  ///< raw bytes, NUL and all
  std::string data;  ///< the uncompressed content
  /// Written to the headers. 0 and 8 compress \a data accordingly; any other
  /// method writes \a data as its "compressed" bytes.
  std::uint16_t method = 8;
  std::optional<std::string> raw;         ///< compressed bytes as written, instead of compressing
  std::uint16_t flags = 0x0800;           ///< general purpose bits (UTF-8 names)
  std::uint16_t made_by = (3 << 8) | 20;  ///< Unix, zip 2.0
  std::uint32_t external = 0100644u << 16;
  std::optional<std::uint32_t> crc, comp_size, size;  ///< header values instead of the real ones
  std::optional<std::uint64_t> zip64_size;            ///< write sizes as 0xffffffff plus a Zip64 extra field
  std::string extra;                                  ///< extra field bytes in both headers
  std::optional<std::string> local_name;              ///< name in the local header, when different
  std::optional<std::uint16_t> local_method;          ///< method in the local header, when different
  /// Set: no local header of its own; the central entry points at the local
  /// header of entry \a shares (an earlier index).
  std::optional<std::size_t> shares;
  std::optional<std::uint16_t> local_flags;  ///< flags in the local header, when different
  std::string descriptor;                    ///< bytes written after the data (a data descriptor)
};

struct ZipLayout {
  std::string prefix;                      ///< bytes before the first local header
  std::optional<std::uint16_t> count;      ///< entry count in the end record
  std::optional<std::uint32_t> cd_offset;  ///< central directory offset in the end record
  std::string comment;
  std::optional<std::uint16_t> comment_length;
  /// Write a Zip64 end record (the only way to count more than 65,535
  /// entries); the classic end record then says 0xffff.
  bool zip64_end = false;
};

/// A zip archive of \a entries in order, with central directory and end
/// record as \a layout says.
std::string BuildZip(const std::vector<ZipEntry>& entries, const ZipLayout& layout = {});

/// An archive whose comment hides a second central directory: the local
/// entries of \a hidden, then those of \a shown; the central directory and
/// end record of \a shown, whose archive comment is the central directory
/// and end record of \a hidden. With \a hidden_comment_length 0 both end
/// records reach the end of the file (libzip picks \a shown, whose data
/// ends later; unzip and Python take the last one, \a hidden); otherwise
/// the hidden one does not line up, and only readers that take the last
/// end record signature they find (Python) use it.
std::string TwoDirectoryZip(const std::vector<ZipEntry>& hidden, const std::vector<ZipEntry>& shown,
                            std::uint16_t hidden_comment_length = 0);

/// \a zip with the local header and data of \a extra inserted at byte
/// \a at (0, or where an entry begins, or the central directory's offset)
/// and every offset after it moved: an entry no central directory lists,
/// which readers that walk local headers from the start (funzip, streaming
/// unzippers) find.
std::string WithHiddenEntry(const std::string& zip, const ZipEntry& extra, std::size_t at);

/// The overlapping-entry bomb in its stored form: \a names.size() local
/// headers back to back, each entry's data running to the end of the last
/// one, so every entry "contains" all the headers after it (correct CRCs
/// and sizes). The compressed sizes add up to far more than the file.
std::string OverlappingZip(const std::vector<std::string>& names);

/// One central directory entry of an archive (no Zip64), with where its
/// fields are, for patching bytes in place.
struct ZipRecord {
  std::string name;
  std::size_t central = 0;  ///< offset of the central header
  std::size_t local = 0;    ///< offset of the local header
  std::uint16_t method = 0;
  std::uint32_t comp_size = 0;
  std::uint32_t size = 0;
  std::size_t data = 0;  ///< offset of the compressed data
};

/// The central directory of \a zip; empty when there is none.
std::vector<ZipRecord> ListZip(const std::string& zip);
/// Offset of the end of central directory record; npos when absent.
std::size_t EndRecord(const std::string& zip);

void Put16At(std::string& bytes, std::size_t at, std::uint16_t value);
void Put32At(std::string& bytes, std::size_t at, std::uint32_t value);

/// Field offsets inside local (L) and central (C) headers.
inline constexpr std::size_t kLocalFlags = 6, kLocalMethod = 8, kLocalCrc = 14, kLocalCompSize = 18, kLocalSize = 22;
inline constexpr std::size_t kCentralFlags = 8, kCentralMethod = 10, kCentralCrc = 16, kCentralCompSize = 20,
                             kCentralSize = 24, kCentralExternal = 38;

}  // namespace flowrepo::testing::hostile

#endif  // FLOWREPO_TESTS_HOSTILE_ZIP_BYTES_H_
