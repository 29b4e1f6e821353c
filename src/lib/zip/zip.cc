#include "zip/zip.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "escape.h"
#include "flowrepo/error.h"

namespace flowrepo::zip {
namespace {

constexpr zip_uint16_t kUnicodePathField = 0x7075;
constexpr std::uint64_t kRatioFloor = 1u << 20;

std::string ArchiveError(zip_t* archive) { return zip_error_strerror(zip_get_error(archive)); }

}  // namespace

namespace {

// One deflate state per thread, reset between entries: setting one up
// allocates a few hundred kilobytes, too much to do per small document.
class Deflater {
 public:
  Deflater() {
    if (deflateInit2(&z_, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw Error(ErrorCode::kIo, "cannot start compression");
    }
  }
  ~Deflater() { deflateEnd(&z_); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  std::string Run(std::string_view data, int flush = Z_FINISH) {
    deflateReset(&z_);
    // deflateBound covers Z_FINISH; a sync flush adds an empty stored block.
    // The output goes to a reused buffer and leaves as an exact copy: a
    // string cut down with resize() keeps the whole bound allocated, which
    // is what export keeps per entry (four times the deflated bytes).
    scratch_.resize(deflateBound(&z_, static_cast<uLong>(data.size())) + 16);
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z_.avail_in = static_cast<uInt>(data.size());
    z_.next_out = reinterpret_cast<Bytef*>(scratch_.data());
    z_.avail_out = static_cast<uInt>(scratch_.size());
    int rc = deflate(&z_, flush);
    bool done = flush == Z_FINISH ? rc == Z_STREAM_END : rc == Z_OK && z_.avail_in == 0 && z_.avail_out > 0;
    if (!done) throw Error(ErrorCode::kIo, "cannot compress");
    return std::string(scratch_.data(), z_.total_out);
  }

 private:
  z_stream z_{};
  std::string scratch_;
};

thread_local Deflater thread_deflater;

}  // namespace

std::string Deflate(std::string_view data) { return thread_deflater.Run(data); }

std::string DeflatePiece(std::string_view piece, bool last) {
  return thread_deflater.Run(piece, last ? Z_FINISH : Z_SYNC_FLUSH);
}

std::uint32_t Crc32(std::string_view data, std::uint32_t previous) {
  return static_cast<std::uint32_t>(
      crc32(previous, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

std::string ErrorText(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

// ---- Reader ----------------------------------------------------------------

// The layout walk below reads the archive's own bytes the way a reader
// that trusts only the end of the file does (unzip, Python), and demands
// that everything else agree with that reading: then libzip, which picks
// among end records by its own rules, and a streaming reader, which walks
// local headers from the start, cannot find anything else.

namespace {

constexpr std::uint32_t kLocalSignature = 0x04034b50;
constexpr std::uint32_t kCentralSignature = 0x02014b50;
constexpr std::uint32_t kEndSignature = 0x06054b50;
constexpr std::uint32_t kZip64EndSignature = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr std::uint32_t kDescriptorSignature = 0x08074b50;
constexpr std::size_t kEndSize = 22, kLocatorSize = 20, kZip64EndMinSize = 56;
constexpr std::size_t kCentralSize = 46, kLocalSize = 30;
constexpr std::uint16_t kFlagDescriptor = 1 << 3;
constexpr std::uint16_t kMethodAes = 99;
constexpr std::uint16_t kZip64ExtraField = 0x0001;
constexpr std::size_t kCursorBuffer = 1u << 16;

Error Invalid(const std::string& why) { return Error(ErrorCode::kInvalidData, "not a valid zip archive: " + why); }

std::uint64_t Le(std::string_view b, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(b[at + i]);
  return v;
}

// \a name for a message: printable ASCII kept, anything else as \xNN, cut.
std::string Shown(std::string_view name) {
  std::string out;
  for (unsigned char c : name.substr(0, 120)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      AppendHexEscaped(out, c);
    }
  }
  return name.size() > 120 ? out + "..." : out;
}

}  // namespace

// The package file, open for as long as any reader of it lives.
class ArchiveFile {
 public:
  int fd = -1;
  std::uint64_t size = 0;

  explicit ArchiveFile(const std::string& path) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) throw Error(ErrorCode::kNotFound, "package '" + path + "' not found");
      throw Error(ErrorCode::kIo, "cannot read package '" + path + "': " + std::strerror(errno));
    }
    off_t end = ::lseek(fd, 0, SEEK_END);
    if (end < 0) {
      int saved = errno;
      ::close(fd);
      throw Error(ErrorCode::kIo, "cannot read package '" + path + "': " + std::strerror(saved));
    }
    size = static_cast<std::uint64_t>(end);
    libzip_path = "/proc/self/fd/" + std::to_string(fd);
    if (::access(libzip_path.c_str(), R_OK) != 0) libzip_path = path;
  }
  ~ArchiveFile() {
    if (fd >= 0) ::close(fd);
  }
  ArchiveFile(const ArchiveFile&) = delete;
  ArchiveFile& operator=(const ArchiveFile&) = delete;

  // \a n bytes at \a offset; fewer only at the end of the file.
  std::string Read(std::uint64_t offset, std::size_t n) const {
    std::string out;
    if (offset >= size) return out;
    out.resize(static_cast<std::size_t>(std::min<std::uint64_t>(n, size - offset)));
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t got = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw Error(ErrorCode::kIo, std::string("cannot read package: ") + std::strerror(errno));
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    out.resize(done);
    return out;
  }

  // The name libzip opens the file by: this descriptor's inode through
  // /proc, not whatever the path names by then; the path itself where
  // /proc is not mounted.
  std::string LibzipPath() const { return libzip_path; }

  std::string libzip_path;
};

namespace {

using File = ArchiveFile;

// Reads [begin, end) of a file front to back through a buffer, so that a
// large central directory is walked without being held.
class Cursor {
 public:
  Cursor(const File& file, std::uint64_t begin, std::uint64_t end) : file_(file), at_(begin), end_(end) {}

  std::uint64_t offset() const { return at_; }
  std::uint64_t left() const { return end_ - at_; }
  // The next \a n bytes, or std::nullopt when fewer are left.
  std::optional<std::string_view> Take(std::size_t n) {
    if (n > left()) return std::nullopt;
    if (buffer_start_ > at_ || at_ + n > buffer_start_ + buffer_.size()) {
      buffer_start_ = at_;
      buffer_ = file_.Read(at_, static_cast<std::size_t>(std::min<std::uint64_t>(left(), std::max(n, kCursorBuffer))));
      if (buffer_.size() < n) throw Invalid("the file ends inside its central directory");
    }
    std::string_view out = std::string_view(buffer_).substr(static_cast<std::size_t>(at_ - buffer_start_), n);
    at_ += n;
    return out;
  }

 private:
  const File& file_;
  std::uint64_t at_, end_;
  std::uint64_t buffer_start_ = 0;
  std::string buffer_;
};

bool HasSignature(std::string_view bytes) {
  for (std::size_t at = 0; at + 4 <= bytes.size(); ++at) {
    if (bytes[at] != 'P' || bytes[at + 1] != 'K') continue;
    switch (static_cast<std::uint32_t>(Le(bytes, at, 4))) {
      case kLocalSignature:
      case kCentralSignature:
      case kEndSignature:
      case kZip64EndSignature:
      case kZip64LocatorSignature:
      case kDescriptorSignature: return true;
    }
  }
  return false;
}

Directory FindDirectory(const File& file) {
  if (file.size < kEndSize) throw Invalid("no end of central directory record");
  const std::size_t tail_size = static_cast<std::size_t>(std::min<std::uint64_t>(file.size, kEndSize + 0xffff));
  const std::uint64_t tail_start = file.size - tail_size;
  const std::string tail = file.Read(tail_start, tail_size);
  if (tail.size() != tail_size) throw Invalid("the file changed while being read");
  // Every end record whose comment reaches the end of the file is one a
  // reader may choose; there must be exactly one.
  std::vector<std::size_t> ends;
  for (std::size_t at = 0; at + kEndSize <= tail.size(); ++at) {
    if (Le(tail, at, 4) == kEndSignature && at + kEndSize + Le(tail, at + 20, 2) == tail.size()) ends.push_back(at);
  }
  if (ends.empty()) throw Invalid("no end of central directory record ends the file");
  if (ends.size() > 1) throw Invalid("two end of central directory records end the file (it can be read two ways)");
  const std::size_t at = ends[0];
  const std::string_view record = std::string_view(tail).substr(at, kEndSize);
  if (HasSignature(std::string_view(tail).substr(at + kEndSize))) {
    throw Invalid("the archive comment holds a zip record signature (it can be read two ways)");
  }
  const std::uint64_t end_at = tail_start + at;
  if (Le(record, 4, 2) != 0 || Le(record, 6, 2) != 0 || Le(record, 8, 2) != Le(record, 10, 2)) {
    throw Invalid("archives split over several disks are not supported");
  }
  Directory dir;
  dir.entries = Le(record, 10, 2);
  dir.size = Le(record, 12, 4);
  dir.offset = Le(record, 16, 4);
  dir.end = end_at;
  std::string locator = end_at >= kLocatorSize ? file.Read(end_at - kLocatorSize, kLocatorSize) : std::string();
  if (locator.size() == kLocatorSize && Le(locator, 0, 4) == kZip64LocatorSignature) {
    const std::uint64_t z64_at = Le(locator, 8, 8);
    if (Le(locator, 4, 4) != 0 || Le(locator, 16, 4) != 1) {
      throw Invalid("archives split over several disks are not supported");
    }
    const std::string z64 = file.Read(z64_at, kZip64EndMinSize);
    if (z64.size() != kZip64EndMinSize || Le(z64, 0, 4) != kZip64EndSignature || Le(z64, 4, 8) < 44 ||
        z64_at + 12 + Le(z64, 4, 8) != end_at - kLocatorSize) {
      throw Invalid("the Zip64 end record is not right before its locator");
    }
    if (Le(z64, 16, 4) != 0 || Le(z64, 20, 4) != 0 || Le(z64, 24, 8) != Le(z64, 32, 8)) {
      throw Invalid("archives split over several disks are not supported");
    }
    // A reader that ignores Zip64 uses the classic fields: each must say
    // "see Zip64" or the same.
    const std::uint64_t entries = Le(z64, 32, 8), size = Le(z64, 40, 8), offset = Le(z64, 48, 8);
    if ((dir.entries != 0xffff && dir.entries != entries) || (dir.size != 0xffffffff && dir.size != size) ||
        (dir.offset != 0xffffffff && dir.offset != offset)) {
      throw Invalid("the Zip64 end record and the end record disagree (it can be read two ways)");
    }
    dir.entries = entries;
    dir.size = size;
    dir.offset = offset;
    dir.end = z64_at;
  }
  if (dir.offset > dir.end || dir.end - dir.offset != dir.size) {
    throw Invalid("the central directory does not end where the end records begin");
  }
  return dir;
}

// One central directory entry as its bytes say.
struct Central {
  std::string name;
  std::uint16_t flags = 0, method = 0;
  std::uint32_t crc = 0;
  std::uint64_t comp_size = 0, size = 0, offset = 0;
  RawFacts facts;
};

// Walks the extra fields of a header; false when they are malformed.
template <class Each>
bool WalkExtra(std::string_view extra, Each&& each) {
  std::size_t at = 0;
  while (at + 4 <= extra.size()) {
    const std::size_t length = Le(extra, at + 2, 2);
    if (at + 4 + length > extra.size()) return false;
    each(static_cast<std::uint16_t>(Le(extra, at, 2)), extra.substr(at + 4, length));
    at += 4 + length;
  }
  return at == extra.size();
}

const char kMissingZip64[] = "a header announces a Zip64 field it does not have";

std::vector<Central> ReadCentral(const File& file, const Directory& dir) {
  std::vector<Central> out;
  out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(dir.entries, dir.size / kCentralSize)));
  Cursor cursor(file, dir.offset, dir.offset + dir.size);
  for (std::uint64_t i = 0; i < dir.entries; ++i) {
    auto header = cursor.Take(kCentralSize);
    if (!header || Le(*header, 0, 4) != kCentralSignature) {
      throw Invalid("the central directory holds fewer entries than the end record says");
    }
    const std::string_view h = *header;
    Central c;
    c.flags = static_cast<std::uint16_t>(Le(h, 8, 2));
    c.method = static_cast<std::uint16_t>(Le(h, 10, 2));
    c.crc = static_cast<std::uint32_t>(Le(h, 16, 4));
    c.comp_size = Le(h, 20, 4);
    c.size = Le(h, 24, 4);
    const std::size_t name_length = Le(h, 28, 2), extra_length = Le(h, 30, 2), comment_length = Le(h, 32, 2);
    std::uint64_t disk = Le(h, 34, 2);
    c.offset = Le(h, 42, 4);
    auto name = cursor.Take(name_length);
    auto extra = name ? cursor.Take(extra_length) : std::nullopt;
    if (!extra || !cursor.Take(comment_length)) throw Invalid("a central directory entry runs past the directory");
    c.name = std::string(*name);
    c.facts.nul_in_name = c.name.find('\0') != std::string::npos;
    // The Zip64 field holds, in this order, the values its header says are
    // in it (0xffffffff, 0xffff for the disk).
    const bool wants_zip64 = c.size == 0xffffffff || c.comp_size == 0xffffffff || c.offset == 0xffffffff;
    bool zip64_read = false, zip64_ok = true;
    bool well_formed = WalkExtra(*extra, [&](std::uint16_t id, std::string_view data) {
      if (id == kUnicodePathField) c.facts.unicode_path = true;
      if (id != kZip64ExtraField || zip64_read) return;
      zip64_read = true;
      std::size_t at = 0;
      for (std::uint64_t* value : {&c.size, &c.comp_size, &c.offset}) {
        if (*value != 0xffffffff) continue;
        if (at + 8 > data.size()) {
          zip64_ok = false;
          return;
        }
        *value = Le(data, at, 8);
        at += 8;
      }
      if (disk == 0xffff && at + 4 <= data.size()) disk = Le(data, at, 4);
    });
    if (!well_formed) throw Invalid("central directory entry '" + Shown(c.name) + "' has malformed extra fields");
    if (wants_zip64 && (!zip64_read || !zip64_ok)) throw Invalid(kMissingZip64);
    if (disk != 0) throw Invalid("archives split over several disks are not supported");
    out.push_back(std::move(c));
  }
  if (cursor.left() != 0) throw Invalid("the central directory holds more entries than the end record says");
  return out;
}

// The extent of one entry's bytes: local header, data, data descriptor.
struct Extent {
  std::uint64_t begin = 0, end = 0;
  std::size_t index = 0;
};

// Checks entry \a c's local header against it; returns where its bytes end.
std::uint64_t CheckLocal(const File& file, const Central& c, std::uint64_t limit) {
  const std::string who = "entry '" + Shown(c.name) + "'";
  const std::string h = file.Read(c.offset, kLocalSize);
  if (h.size() != kLocalSize || Le(h, 0, 4) != kLocalSignature) throw Invalid(who + " has no local header");
  const std::uint16_t flags = static_cast<std::uint16_t>(Le(h, 6, 2));
  const std::uint16_t method = static_cast<std::uint16_t>(Le(h, 8, 2));
  std::uint64_t crc = Le(h, 14, 4), comp_size = Le(h, 18, 4), size = Le(h, 22, 4);
  const std::size_t name_length = Le(h, 26, 2), extra_length = Le(h, 28, 2);
  const std::string rest = file.Read(c.offset + kLocalSize, name_length + extra_length);
  if (rest.size() != name_length + extra_length) throw Invalid(who + " runs past the end of the file");
  if (std::string_view(rest).substr(0, name_length) != c.name) {
    throw Invalid("the local header of " + who + " names it otherwise");
  }
  if (flags != c.flags) throw Invalid("the local header of " + who + " has other flags than its central entry");
  if (method != c.method) throw Invalid("the local header of " + who + " has another method than its central entry");
  // A local Zip64 field holds both sizes when either says 0xffffffff.
  const bool wants_zip64 = size == 0xffffffff || comp_size == 0xffffffff;
  bool zip64 = false, zip64_ok = true;
  bool well_formed =
      WalkExtra(std::string_view(rest).substr(name_length), [&](std::uint16_t id, std::string_view data) {
        if (id != kZip64ExtraField || zip64) return;
        zip64 = true;
        if (!wants_zip64) return;
        if (data.size() < 16) {
          zip64_ok = false;
          return;
        }
        size = Le(data, 0, 8);
        comp_size = Le(data, 8, 8);
      });
  if (!well_formed) throw Invalid("the local header of " + who + " has malformed extra fields");
  if (wants_zip64 && (!zip64 || !zip64_ok)) throw Invalid(kMissingZip64);
  const std::uint64_t data_at = c.offset + kLocalSize + name_length + extra_length;
  if (c.comp_size > limit || data_at > limit - c.comp_size) {
    throw Invalid(who + " runs into the central directory");
  }
  const std::uint64_t data_end = data_at + c.comp_size;
  auto agree = [&](std::uint64_t local, std::uint64_t central, bool zero_allowed) {
    return local == central || (zero_allowed && local == 0);
  };
  const bool descriptor = flags & kFlagDescriptor;
  if (!agree(crc, c.crc, descriptor) || !agree(comp_size, c.comp_size, descriptor) ||
      !agree(size, c.size, descriptor)) {
    throw Invalid("the local header of " + who + " has other sizes or CRC than its central entry");
  }
  if (!descriptor) return data_end;
  // The data descriptor: an optional signature, the CRC, then both sizes
  // in 4 bytes, or 8 with Zip64; it must repeat the central values.
  const std::size_t width = zip64 ? 8 : 4;
  const std::string d = file.Read(data_end, 4 + 4 + 2 * width);
  for (std::size_t skip : {std::size_t{4}, std::size_t{0}}) {
    if (skip == 4 && (d.size() < 4 || Le(d, 0, 4) != kDescriptorSignature)) continue;
    const std::size_t length = skip + 4 + 2 * width;
    if (d.size() >= length && Le(d, skip, 4) == c.crc && Le(d, skip + 4, static_cast<int>(width)) == c.comp_size &&
        Le(d, skip + 4 + width, static_cast<int>(width)) == c.size && data_end + length <= limit) {
      return data_end + length;
    }
  }
  throw Invalid("the data descriptor of " + who + " does not repeat its central entry");
}

// Every byte before the central directory belongs to exactly one entry.
void CheckCoverage(const File& file, const Directory& dir, const std::vector<Central>& entries) {
  std::vector<Extent> extents;
  extents.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) extents.push_back({entries[i].offset, 0, i});
  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.index < b.index;
  });
  std::uint64_t next = 0;
  for (std::size_t k = 0; k < extents.size(); ++k) {
    Extent& e = extents[k];
    if (e.begin < next) {
      const Central& other = entries[extents[k - 1].index];
      throw Invalid("entries overlap ('" + Shown(other.name) + "' and '" + Shown(entries[e.index].name) + "')");
    }
    if (e.begin > next) {
      throw Invalid(std::to_string(e.begin - next) +
                    (next == 0 ? " bytes before the first entry" : " bytes between entries") +
                    " that no entry accounts for");
    }
    e.end = CheckLocal(file, entries[e.index], dir.offset);
    next = e.end;
  }
  if (next != dir.offset) {
    throw Invalid(std::to_string(dir.offset - next) + " bytes before the central directory that no entry accounts for");
  }
}

// libzip chose its own end record and read its own directory: it must be
// the one checked above, entry for entry.
void CompareWithLibzip(zip_t* za, const std::vector<Central>& entries) {
  if (zip_get_num_entries(za, 0) != static_cast<zip_int64_t>(entries.size())) {
    throw Invalid("libzip finds another number of entries (it can be read two ways)");
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Central& c = entries[i];
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, i, ZIP_FL_ENC_RAW, &st) < 0) throw Invalid(ArchiveError(za));
    std::string name = c.name;
    std::replace(name.begin(), name.end(), '\0', ' ');  // as libzip reads it
    const bool same = st.size == c.size && st.comp_size == c.comp_size && st.crc == c.crc &&
                      (c.method == kMethodAes || st.comp_method == c.method) &&
                      (c.facts.unicode_path || (st.name && name == st.name));
    if (!same) throw Invalid("libzip reads entry '" + Shown(c.name) + "' otherwise (it can be read two ways)");
  }
}

ArchivePtr OpenLibzip(const std::string& path, const std::string& shown) {
  int code = 0;
  zip_t* raw = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (raw) return ArchivePtr(raw);
  switch (code) {
    case ZIP_ER_NOENT:
      // The file is open: libzip says "no such file" for a header that
      // announces a Zip64 field it does not have.
      throw Invalid(kMissingZip64);
    case ZIP_ER_OPEN:
    case ZIP_ER_READ:
    case ZIP_ER_MEMORY:
    case ZIP_ER_TMPOPEN: throw Error(ErrorCode::kIo, "cannot read package '" + shown + "': " + ErrorText(code));
    case ZIP_ER_EXISTS:  // libzip's duplicate name check (ZIP_CHECKCONS)
      throw Invalid("two entries have the same name");
    default: throw Invalid(ErrorText(code));
  }
}

}  // namespace

Directory ReadDirectory(const std::string& path) { return FindDirectory(ArchiveFile(path)); }

Reader Reader::Open(const std::string& path) {
  auto file = std::make_shared<const ArchiveFile>(path);
  const Directory dir = FindDirectory(*file);
  // libzip first: what it refuses, it names best (duplicate names, damage).
  ArchivePtr archive = OpenLibzip(file->LibzipPath(), path);
  std::vector<Central> entries = ReadCentral(*file, dir);
  CheckCoverage(*file, dir, entries);
  CompareWithLibzip(archive.get(), entries);
  auto facts = std::make_shared<std::vector<RawFacts>>();
  facts->reserve(entries.size());
  for (const auto& c : entries) facts->push_back(c.facts);
  return Reader(std::move(file), std::move(archive), entries.size(), std::move(facts));
}

Reader Reader::Clone() const {
  ArchivePtr archive = OpenLibzip(file_->LibzipPath(), file_->LibzipPath());
  if (zip_get_num_entries(archive.get(), 0) != static_cast<zip_int64_t>(count_)) {
    throw Invalid("the file changed while being read");
  }
  return Reader(file_, std::move(archive), count_, facts_);
}

EntryInfo Reader::Stat(std::uint64_t index) const {
  zip_t* za = archive_.get();
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(za, index, ZIP_FL_ENC_RAW, &st) < 0) {
    throw Error(ErrorCode::kInvalidData, "entry " + std::to_string(index) + ": " + ArchiveError(za));
  }
  EntryInfo info;
  info.index = index;
  if (st.valid & ZIP_STAT_NAME && st.name) info.name = st.name;
  info.size = st.size;
  info.comp_size = st.comp_size;
  info.comp_method = st.comp_method;
  info.encryption = st.encryption_method;
  zip_uint8_t opsys = 0;
  zip_uint32_t attributes = 0;
  if (zip_file_get_external_attributes(za, index, 0, &opsys, &attributes) == 0) {
    info.opsys = opsys;
    info.attributes = attributes;
  }
  const RawFacts facts = index < facts_->size() ? (*facts_)[index] : RawFacts{};
  info.nul_in_name = facts.nul_in_name;
  info.unicode_path_field = facts.unicode_path;
  for (zip_flags_t where : {ZIP_FL_CENTRAL, ZIP_FL_LOCAL}) {
    if (zip_file_extra_fields_count_by_id(za, index, kUnicodePathField, where) > 0) {
      info.unicode_path_field = true;
    }
  }
  return info;
}

std::string Reader::Read(const EntryInfo& entry, std::uint64_t max_bytes, std::uint64_t ratio_limit) const {
  zip_t* za = archive_.get();
  FilePtr file(zip_fopen_index(za, entry.index, 0));
  if (!file) {
    int code = zip_error_code_zip(zip_get_error(za));
    if (code == ZIP_ER_ENCRNOTSUPP || code == ZIP_ER_NOPASSWD || code == ZIP_ER_WRONGPASSWD) {
      throw Error(ErrorCode::kInvalidData, "encrypted entries are not supported");
    }
    if (code == ZIP_ER_COMPNOTSUPP) {
      throw Error(ErrorCode::kInvalidData,
                  "compression method " + std::to_string(entry.comp_method) + " is not supported");
    }
    throw Error(ErrorCode::kInvalidData, "cannot read entry: " + ArchiveError(za));
  }
  std::uint64_t ratio_bound = kRatioFloor;
  if (ratio_limit > 0 && entry.comp_size <= UINT64_MAX / ratio_limit) {
    ratio_bound = std::max(ratio_bound, entry.comp_size * ratio_limit);
  } else {
    ratio_bound = UINT64_MAX;
  }
  // The declared size is checked against the limits before any reading, so
  // the buffer is allocated once at its final size; an entry producing more
  // than it declares is refused as soon as it does.
  std::string out;
  out.reserve(static_cast<std::size_t>(std::min(entry.size, max_bytes)));
  char buf[1 << 16];
  zip_int64_t n;
  while ((n = zip_fread(file.get(), buf, sizeof buf)) > 0) {
    auto got = static_cast<std::uint64_t>(n);
    if (out.size() + got > max_bytes) {
      throw Error(ErrorCode::kInvalidData,
                  "decompresses to more than " + std::to_string(max_bytes) + " bytes (the limit)");
    }
    if (out.size() + got > ratio_bound) {
      throw Error(ErrorCode::kInvalidData, "compression ratio above " + std::to_string(ratio_limit) + " (the limit)");
    }
    if (out.size() + got > entry.size) {
      throw Error(ErrorCode::kInvalidData, "declares " + std::to_string(entry.size) + " bytes but holds more");
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  if (n < 0) {
    zip_error_t* error = zip_file_get_error(file.get());
    if (zip_error_code_zip(error) == ZIP_ER_CRC) {
      throw Error(ErrorCode::kInvalidData, "crc mismatch: the entry is damaged");
    }
    if (out.size() == entry.size) {
      throw Error(ErrorCode::kInvalidData, std::string("cannot read entry: ") + zip_error_strerror(error));
    }
  }
  if (out.size() != entry.size) {
    throw Error(ErrorCode::kInvalidData,
                "declares " + std::to_string(entry.size) + " bytes but holds " + std::to_string(out.size()));
  }
  return out;
}

}  // namespace flowrepo::zip
