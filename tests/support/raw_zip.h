#ifndef FLOWREPO_TESTS_SUPPORT_RAW_ZIP_H_
#define FLOWREPO_TESTS_SUPPORT_RAW_ZIP_H_

// Zip files written byte by byte, for packages no zip library would write
// (duplicate names, traversal names, symlinks, lying sizes, encryption
// flags, unknown methods), and reading a zip's entries back.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flowrepo::testing {

struct RawEntry {
  std::string name;
  std::string data;          ///< written as is (the "compressed" bytes)
  std::uint16_t method = 0;  ///< 0 stored; any other number is written as given
  std::uint32_t unix_mode = 0100644;
  std::uint16_t flags = 0;                     ///< general purpose bits (bit 0: encrypted)
  std::optional<std::uint32_t> declared_size;  ///< uncompressed size in the headers
  std::optional<std::uint32_t> crc;            ///< CRC-32 in the headers
  std::string extra;                           ///< extra field bytes, in both headers
};

/// A zip archive holding \a entries in order, with a central directory.
std::string RawZip(const std::vector<RawEntry>& entries);

/// CRC-32 (IEEE) of \a data.
std::uint32_t Crc32(const std::string& data);

/// The entries of the zip at \a path (name, decompressed bytes), in order;
/// read with libzip. Empty when it cannot be opened.
std::vector<std::pair<std::string, std::string>> ReadZipEntries(const std::string& path);

/// \a entries written back as a stored zip (RawZip).
std::string RezipStored(const std::vector<std::pair<std::string, std::string>>& entries);

}  // namespace flowrepo::testing

#endif  // FLOWREPO_TESTS_SUPPORT_RAW_ZIP_H_
