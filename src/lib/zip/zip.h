#ifndef FLOWREPO_ZIP_ZIP_H_
#define FLOWREPO_ZIP_ZIP_H_

// Owning wrappers for libzip handles, and the one place where libzip error
// codes become flowrepo::Error. Reader reads entries into bounded buffers
// and never extracts anything to disk. Deflate and Crc32 make what an
// entry holds; zip/writer.h writes archives.

#include <zip.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "owned.h"
#include "spool.h"

namespace flowrepo::zip {

/// An archive that is discarded (no changes written) unless committed.
using ArchivePtr = std::unique_ptr<zip_t, Free<zip_discard>>;
using FilePtr = std::unique_ptr<zip_file_t, Free<zip_fclose>>;

/// The text of libzip error \a code ("Not a zip archive").
std::string ErrorText(int code);

/// \a data as a raw deflate stream (no zlib header), level 6: the bytes a
/// deflated zip entry holds. The same input gives the same output.
std::string Deflate(std::string_view data);
/// One piece of a raw deflate stream made of independently compressed
/// pieces: all but the last end with a sync flush (byte-aligned, not final),
/// so the pieces concatenated are one valid stream, as pigz writes it. For
/// one large entry compressed on all cores; the same pieces give the same
/// bytes.
std::string DeflatePiece(std::string_view piece, bool last);
/// CRC-32 of \a data, as zip entries record it; continues the CRC-32 of
/// what came before \a data when given it.
std::uint32_t Crc32(std::string_view data, std::uint32_t previous = 0);

/// Where the central directory of an archive is, as its end records say.
struct Directory {
  std::uint64_t entries = 0;
  std::uint64_t offset = 0;  ///< of the central directory
  std::uint64_t size = 0;    ///< of the central directory
  std::uint64_t end = 0;     ///< where the end records begin (Zip64 or classic)
};

/// Reads the end records of the archive at \a path, refusing (kInvalidData)
/// any layout another zip reader could read otherwise: the end of central
/// directory record must be the last record of the file and the only one
/// that reaches its end, its comment must hold no zip signature, a Zip64
/// end record must sit right before its locator and agree with the classic
/// record, and the central directory must end where the end records begin.
/// Throws kNotFound or kIo when the file cannot be read.
Directory ReadDirectory(const std::string& path);

/// One entry as the central directory describes it.
struct EntryInfo {
  std::uint64_t index = 0;
  std::string name;             ///< raw bytes of the name
  std::uint64_t size = 0;       ///< declared decompressed size
  std::uint64_t comp_size = 0;  ///< declared compressed size
  std::uint16_t comp_method = 0;
  std::uint16_t encryption = 0;
  std::uint8_t opsys = 0;           ///< "version made by" host system
  std::uint32_t attributes = 0;     ///< external attributes
  bool unicode_path_field = false;  ///< has an Info-ZIP Unicode Path extra field
  /// The raw name holds a NUL byte. libzip reads NUL as a space, but other
  /// tools end the name there.
  bool nul_in_name = false;
};

/// What libzip does not tell about a central directory entry.
struct RawFacts {
  bool nul_in_name = false;   ///< libzip reads NUL as a space
  bool unicode_path = false;  ///< libzip applies or drops the field, and hides it
};

/// An open archive file, shared by a Reader and its clones (zip.cc).
class ArchiveFile;

/// A zip archive that reads one way only, opened read-only with libzip's
/// consistency checks (duplicate names, local headers against the central
/// directory) after our own walk over its bytes: ReadDirectory's checks;
/// every central entry on disk 0 with its Zip64 fields where its header
/// announces them; every local header agreeing with its central entry
/// (name, flags, method, CRC and sizes, a data descriptor's too); and the
/// entries, the central directory and the end records covering the file
/// exactly, in that order, with no byte before, between or after them and
/// no byte claimed twice. libzip must then see the same entries. Anything
/// else is an archive that some zip tool would read differently.
class Reader {
 public:
  /// Throws Error(kInvalidData) for anything that is not a consistent zip
  /// archive readable one way only, kNotFound or kIo when it cannot be read.
  static Reader Open(const std::string& path);
  /// Another libzip handle on the same file (libzip archives are not
  /// shared between threads), opened through this reader's descriptor so
  /// that it reads the file this one checked. Throws like Open.
  Reader Clone() const;

  std::uint64_t size() const { return count_; }
  EntryInfo Stat(std::uint64_t index) const;
  /// Reads entry \a index, refusing (kInvalidData) once more than
  /// \a max_bytes or more than its declared size come out, or when the
  /// data does not match its declared size or CRC. \a ratio_limit: more
  /// than max(1 MiB, comp_size * ratio) bytes is refused too. The result
  /// holds exactly the entry's bytes (no spare capacity).
  std::string Read(const EntryInfo& entry, std::uint64_t max_bytes, std::uint64_t ratio_limit) const;

 private:
  Reader(std::shared_ptr<const ArchiveFile> file, ArchivePtr archive, std::uint64_t count,
         std::shared_ptr<const std::vector<RawFacts>> facts)
      : file_(std::move(file)), archive_(std::move(archive)), count_(count), facts_(std::move(facts)) {}
  std::shared_ptr<const ArchiveFile> file_;  ///< the descriptor every clone reads through
  ArchivePtr archive_;
  std::uint64_t count_ = 0;
  std::shared_ptr<const std::vector<RawFacts>> facts_;  ///< by index
};

}  // namespace flowrepo::zip

#endif  // FLOWREPO_ZIP_ZIP_H_
