#include "zip/zip.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <zlib.h>

#include "flowrepo/error.h"

namespace flowrepo::zip {
namespace {

namespace fs = std::filesystem;

// 1980-01-01 00:00:00, the first DOS date: the same in every time zone.
constexpr std::uint16_t kDosTime = 0;
constexpr std::uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;
constexpr std::uint32_t kRegularFileMode = 0100644;
constexpr zip_uint16_t kUnicodePathField = 0x7075;
constexpr std::uint64_t kRatioFloor = 1u << 20;

std::string ArchiveError(zip_t* archive) { return zip_error_strerror(zip_get_error(archive)); }

std::uint64_t Le(const std::string& b, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(b[at + i]);
  return v;
}

// What libzip does not tell about each central directory entry, by index:
// a NUL byte in the raw name (libzip reads it as a space, _zip_read_string)
// and an Info-ZIP Unicode Path field (libzip applies or drops it, and
// hides it from zip_file_extra_fields_count_by_id). libzip has checked the
// directory already (ZIP_CHECKCONS), so anything unexpected here just
// means "nothing found".
struct RawFacts {
  std::vector<bool> nul_in_name, unicode_path;
};

RawFacts ReadRawFacts(const std::string& path, std::uint64_t count) {
  RawFacts out{std::vector<bool>(count, false), std::vector<bool>(count, false)};
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return out;
  auto read = [&](std::uint64_t offset, std::uint64_t n) {
    std::string buf;
    if (n > (1ull << 30) || std::fseek(f, static_cast<long>(offset), SEEK_SET) != 0) return buf;
    buf.resize(static_cast<std::size_t>(n));
    buf.resize(std::fread(buf.data(), 1, buf.size(), f));
    return buf;
  };
  std::fseek(f, 0, SEEK_END);
  const auto size = static_cast<std::uint64_t>(std::ftell(f));
  const std::uint64_t tail_start = size > 65557 ? size - 65557 : 0;  // EOCD + longest comment
  std::string tail = read(tail_start, size - tail_start);
  std::uint64_t cd_offset = 0, cd_size = 0;
  bool found = false;
  for (std::size_t at = tail.size() >= 22 ? tail.size() - 22 : 0; tail.size() >= 22; --at) {
    if (Le(tail, at, 4) == 0x06054b50 && Le(tail, at + 20, 2) == tail.size() - at - 22) {
      cd_size = Le(tail, at + 12, 4);
      cd_offset = Le(tail, at + 16, 4);
      if (at >= 20 && Le(tail, at - 20, 4) == 0x07064b50) {  // Zip64 locator
        std::string z64 = read(Le(tail, at - 12, 8), 56);
        if (z64.size() == 56 && Le(z64, 0, 4) == 0x06064b50) {
          cd_size = Le(z64, 40, 8);
          cd_offset = Le(z64, 48, 8);
        }
      }
      found = true;
      break;
    }
    if (at == 0) break;
  }
  std::string cd = found ? read(cd_offset, cd_size) : std::string();
  std::fclose(f);
  std::size_t at = 0;
  for (std::uint64_t i = 0; i < count && at + 46 <= cd.size() && Le(cd, at, 4) == 0x02014b50; ++i) {
    std::size_t name_len = Le(cd, at + 28, 2), extra_len = Le(cd, at + 30, 2);
    if (at + 46 + name_len + extra_len > cd.size()) break;
    out.nul_in_name[i] = std::memchr(cd.data() + at + 46, '\0', name_len) != nullptr;
    for (std::size_t e = at + 46 + name_len, end = e + extra_len; e + 4 <= end;
         e += 4 + Le(cd, e + 2, 2)) {
      if (Le(cd, e, 2) == kUnicodePathField) out.unicode_path[i] = true;
    }
    at += 46 + name_len + extra_len + Le(cd, at + 32, 2);
  }
  return out;
}

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

// ---- Writer ----------------------------------------------------------------

namespace {

constexpr std::size_t kWriteBuffer = 1u << 20;
constexpr std::uint32_t kMax32 = 0xffffffffu;
constexpr std::uint16_t kMax16 = 0xffffu;
constexpr std::uint16_t kMethodDeflate = 8;
constexpr std::uint16_t kVersion20 = 20;    // deflate
constexpr std::uint16_t kVersion45 = 45;    // Zip64
constexpr std::uint16_t kMadeByUnix = 3 << 8 | 63;  // Unix, APPNOTE 6.3
constexpr std::uint16_t kFlagUtf8 = 1 << 11;
constexpr std::uint16_t kZip64Field = 0x0001;

void Put(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>(value >> (8 * i) & 0xff);
}

std::uint16_t NameFlags(std::string_view name) {
  bool ascii = std::all_of(name.begin(), name.end(), [](char c) { return (c & 0x80) == 0; });
  return ascii ? 0 : kFlagUtf8;
}

// The fields the local and the central header share, flags to name length.
void PutEntryFields(std::string& out, std::string_view name, std::uint32_t crc, std::uint64_t deflated_size,
                    std::uint64_t size) {
  Put(out, NameFlags(name), 2);
  Put(out, kMethodDeflate, 2);
  Put(out, kDosTime, 2);
  Put(out, kDosDate, 2);
  Put(out, crc, 4);
  Put(out, deflated_size, 4);
  Put(out, size, 4);
  Put(out, name.size(), 2);
}

Error WriteError(const std::string& path) {
  return Error(ErrorCode::kIo, "cannot write '" + path + "': " + std::strerror(errno));
}

}  // namespace

Writer::Writer(const std::string& path, Observer observer)
    : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)),
      path_(path),
      observer_(std::move(observer)),
      central_(fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path().string()) {
  if (fd_ < 0) throw Error(ErrorCode::kIo, "cannot create '" + path + "': " + std::strerror(errno));
  buffer_.reserve(kWriteBuffer);
}

Writer::~Writer() {
  if (fd_ >= 0) ::close(fd_);
}

void Writer::Write(std::string_view bytes) {
  offset_ += bytes.size();
  if (buffer_.size() + bytes.size() > kWriteBuffer) Flush();
  if (bytes.size() >= kWriteBuffer) {
    buffer_ = bytes;
    Flush();
    buffer_.reserve(kWriteBuffer);
    return;
  }
  buffer_ += bytes;
}

void Writer::Flush() {
  if (observer_) observer_(buffer_);
  std::string_view rest = buffer_;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw WriteError(path_);
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  buffer_.clear();
}

void Writer::LocalHeader(std::string_view name, std::uint64_t size, std::uint32_t crc,
                         std::uint64_t deflated_size) {
  if (name.size() > kMax16) throw Error(ErrorCode::kInvalidArgument, "zip entry name too long: " + std::string(name));
  if (size >= kMax32 || deflated_size >= kMax32) {
    throw Error(ErrorCode::kInvalidArgument, "zip entry '" + std::string(name) + "' is 4 GiB or larger");
  }
  const std::uint64_t at = offset_;
  std::string header;
  Put(header, 0x04034b50, 4);
  Put(header, kVersion20, 2);
  PutEntryFields(header, name, crc, deflated_size, size);
  Put(header, 0, 2);
  header += name;
  Write(header);

  // Its central directory entry, kept for Finish(); past 4 GiB the offset
  // moves into a Zip64 extra field.
  const bool far = at >= kMax32;
  std::string central;
  Put(central, 0x02014b50, 4);
  Put(central, kMadeByUnix, 2);
  Put(central, far ? kVersion45 : kVersion20, 2);
  PutEntryFields(central, name, crc, deflated_size, size);
  Put(central, far ? 12 : 0, 2);  // extra field
  Put(central, 0, 2);              // comment
  Put(central, 0, 2);              // disk
  Put(central, 0, 2);              // internal attributes
  Put(central, std::uint64_t{kRegularFileMode} << 16, 4);
  Put(central, far ? kMax32 : at, 4);
  central += name;
  if (far) {
    Put(central, kZip64Field, 2);
    Put(central, 8, 2);
    Put(central, at, 8);
  }
  central_.Append(central);
  ++entries_;
}

void Writer::Add(std::string_view name, std::uint64_t size, std::uint32_t crc, std::string_view deflated) {
  LocalHeader(name, size, crc, deflated.size());
  Write(deflated);
}

void Writer::Add(std::string_view name, std::uint64_t size, std::uint32_t crc, const Spool& spool,
                 Spool::Span span) {
  LocalHeader(name, size, crc, span.size);
  for (std::uint64_t done = 0; done < span.size; done += kWriteBuffer) {
    Write(spool.Read({span.offset + done, std::min<std::uint64_t>(kWriteBuffer, span.size - done)}));
  }
}

void Writer::Finish() {
  const std::uint64_t directory_at = offset_;
  const Spool::Span directory = central_.All();
  for (std::uint64_t done = 0; done < directory.size; done += kWriteBuffer) {
    Write(central_.Read({done, std::min<std::uint64_t>(kWriteBuffer, directory.size - done)}));
  }
  std::string end;
  const bool zip64 = entries_ >= kMax16 || directory_at >= kMax32 || directory.size >= kMax32;
  if (zip64) {
    const std::uint64_t record_at = offset_;
    Put(end, 0x06064b50, 4);
    Put(end, 44, 8);  // the size of the rest of this record
    Put(end, kVersion45, 2);
    Put(end, kVersion45, 2);
    Put(end, 0, 4);  // this disk
    Put(end, 0, 4);  // the directory's disk
    Put(end, entries_, 8);
    Put(end, entries_, 8);
    Put(end, directory.size, 8);
    Put(end, directory_at, 8);
    Put(end, 0x07064b50, 4);
    Put(end, 0, 4);
    Put(end, record_at, 8);
    Put(end, 1, 4);  // disks
  }
  Put(end, 0x06054b50, 4);
  Put(end, 0, 2);
  Put(end, 0, 2);
  Put(end, std::min<std::uint64_t>(entries_, kMax16), 2);
  Put(end, std::min<std::uint64_t>(entries_, kMax16), 2);
  Put(end, std::min<std::uint64_t>(directory.size, kMax32), 4);
  Put(end, std::min<std::uint64_t>(directory_at, kMax32), 4);
  Put(end, 0, 2);  // comment
  Write(end);
  Flush();
}

// ---- Reader ----------------------------------------------------------------

Reader Reader::Open(const std::string& path) {
  int code = 0;
  errno = 0;
  zip_t* raw = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (!raw) {
    switch (code) {
      case ZIP_ER_NOENT:
        // libzip also says "no such file" for a header that announces a
        // Zip64 field it does not have.
        if (::access(path.c_str(), F_OK) == 0) {
          throw Error(ErrorCode::kInvalidData,
                      "not a valid zip archive: a header announces a Zip64 field it does not have");
        }
        throw Error(ErrorCode::kNotFound, "package '" + path + "' not found");
      case ZIP_ER_OPEN:
      case ZIP_ER_READ:
      case ZIP_ER_MEMORY:
      case ZIP_ER_TMPOPEN:
        throw Error(ErrorCode::kIo, "cannot read package '" + path + "': " + ErrorText(code));
      case ZIP_ER_EXISTS:  // libzip's duplicate name check (ZIP_CHECKCONS)
        throw Error(ErrorCode::kInvalidData, "not a valid zip archive: two entries have the same name");
      default:
        throw Error(ErrorCode::kInvalidData, "not a valid zip archive: " + ErrorText(code));
    }
  }
  ArchivePtr archive(raw);
  zip_int64_t count = zip_get_num_entries(raw, 0);
  if (count < 0) throw Error(ErrorCode::kInvalidData, "not a valid zip archive");
  RawFacts facts = ReadRawFacts(path, static_cast<std::uint64_t>(count));
  return Reader(std::move(archive), static_cast<std::uint64_t>(count), std::move(facts.nul_in_name),
                std::move(facts.unicode_path));
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
  info.nul_in_name = index < nul_names_.size() && nul_names_[index];
  info.unicode_path_field = index < unicode_paths_.size() && unicode_paths_[index];
  for (zip_flags_t where : {ZIP_FL_CENTRAL, ZIP_FL_LOCAL}) {
    if (zip_file_extra_fields_count_by_id(za, index, kUnicodePathField, where) > 0) {
      info.unicode_path_field = true;
    }
  }
  return info;
}

std::string Reader::Read(const EntryInfo& entry, std::uint64_t max_bytes,
                         std::uint64_t ratio_limit) const {
  zip_t* za = archive_.get();
  FilePtr file(zip_fopen_index(za, entry.index, 0));
  if (!file) {
    int code = zip_error_code_zip(zip_get_error(za));
    if (code == ZIP_ER_ENCRNOTSUPP || code == ZIP_ER_NOPASSWD || code == ZIP_ER_WRONGPASSWD) {
      throw Error(ErrorCode::kInvalidData, "encrypted entries are not supported");
    }
    if (code == ZIP_ER_COMPNOTSUPP) {
      throw Error(ErrorCode::kInvalidData, "compression method " +
                                               std::to_string(entry.comp_method) +
                                               " is not supported");
    }
    throw Error(ErrorCode::kInvalidData, "cannot read entry: " + ArchiveError(za));
  }
  std::uint64_t ratio_bound = kRatioFloor;
  if (ratio_limit > 0 && entry.comp_size <= UINT64_MAX / ratio_limit) {
    ratio_bound = std::max(ratio_bound, entry.comp_size * ratio_limit);
  } else {
    ratio_bound = UINT64_MAX;
  }
  std::string out;
  out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>({entry.size, max_bytes, 1u << 20})));
  char buf[1 << 16];
  zip_int64_t n;
  while ((n = zip_fread(file.get(), buf, sizeof buf)) > 0) {
    auto got = static_cast<std::uint64_t>(n);
    if (out.size() + got > max_bytes) {
      throw Error(ErrorCode::kInvalidData,
                  "decompresses to more than " + std::to_string(max_bytes) + " bytes (the limit)");
    }
    if (out.size() + got > ratio_bound) {
      throw Error(ErrorCode::kInvalidData, "compression ratio above " +
                                               std::to_string(ratio_limit) + " (the limit)");
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
    throw Error(ErrorCode::kInvalidData, "declares " + std::to_string(entry.size) +
                                             " bytes but holds " + std::to_string(out.size()));
  }
  return out;
}

}  // namespace flowrepo::zip
