#ifndef FLOWREPO_ZIP_WRITER_H_
#define FLOWREPO_ZIP_WRITER_H_

// Our own zip writer: libzip keeps about 400 bytes per entry until the
// archive is closed, which at 300,000 entries was the largest part of an
// export's memory. tests/zip/zip_test.cc checks that its bytes are
// libzip's for the same entries.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "spool.h"

namespace flowrepo::zip {

/// Writes a new zip archive front to back, deterministically: entries in
/// the order added, deflated ahead by the caller (Deflate, so entries can be
/// compressed on any thread), a fixed DOS time (1980-01-01 00:00), Unix mode
/// 0644, names flagged UTF-8 when not ASCII, no extra fields but Zip64's, no
/// comment; Zip64 end records from 65,535 entries or 4 GiB on. These are
/// the bytes libzip wrote for the same entries. Memory does not grow with
/// the number of entries: the central directory waits in a temporary file
/// beside the archive until Finish().
class Writer {
 public:
  /// Sees every byte of the archive once, in order, as it is written.
  using Observer = std::function<void(std::string_view bytes)>;

  /// Creates (or truncates) the archive at \a path. Throws kIo.
  explicit Writer(const std::string& path, Observer observer = {});
  /// Writes the archive to \a fd, an empty file the caller owns (and
  /// closes); \a label names it in errors; the central directory waits in
  /// \a spool_directory. Throws kIo.
  Writer(int fd, std::string label, const std::string& spool_directory, Observer observer = {});
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  /// Closes the file it opened; an archive not finished is not a valid zip file.
  ~Writer();

  /// Adds entry \a name whose content has \a size bytes and CRC-32 \a crc
  /// and whose deflated bytes are \a deflated. Throws kIo.
  void Add(std::string_view name, std::uint64_t size, std::uint32_t crc, std::string_view deflated);
  /// The same, the deflated bytes being \a span of \a spool, copied a
  /// piece at a time.
  void Add(std::string_view name, std::uint64_t size, std::uint32_t crc, const Spool& spool, Spool::Span span);
  /// Writes the central directory and end records and flushes the file to
  /// the operating system (not to disk: the caller decides). Throws kIo.
  void Finish();

 private:
  void LocalHeader(std::string_view name, std::uint64_t size, std::uint32_t crc, std::uint64_t deflated_size);
  void Write(std::string_view bytes);
  void Flush();

  int fd_ = -1;
  bool owns_fd_ = true;
  std::string path_;
  Observer observer_;
  std::string buffer_;
  std::uint64_t offset_ = 0;  ///< of the next byte written
  std::uint64_t entries_ = 0;
  Spool central_;  ///< the central directory, entry by entry
};

}  // namespace flowrepo::zip

#endif  // FLOWREPO_ZIP_WRITER_H_
