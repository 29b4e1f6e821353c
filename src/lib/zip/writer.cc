#include "zip/writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "flowrepo/error.h"

namespace flowrepo::zip {
namespace {

namespace fs = std::filesystem;

// 1980-01-01 00:00:00, the first DOS date: the same in every time zone.
constexpr std::uint16_t kDosTime = 0;
constexpr std::uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;
constexpr std::uint32_t kRegularFileMode = 0100644;

constexpr std::size_t kWriteBuffer = 1u << 20;
constexpr std::uint32_t kMax32 = 0xffffffffu;
constexpr std::uint16_t kMax16 = 0xffffu;
constexpr std::uint16_t kMethodDeflate = 8;
constexpr std::uint16_t kVersion20 = 20;            // deflate
constexpr std::uint16_t kVersion45 = 45;            // Zip64
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

Writer::Writer(int fd, std::string label, const std::string& spool_directory, Observer observer)
    : fd_(fd), owns_fd_(false), path_(std::move(label)), observer_(std::move(observer)), central_(spool_directory) {
  buffer_.reserve(kWriteBuffer);
}

Writer::~Writer() {
  if (fd_ >= 0 && owns_fd_) ::close(fd_);
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

void Writer::LocalHeader(std::string_view name, std::uint64_t size, std::uint32_t crc, std::uint64_t deflated_size) {
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
  Put(central, 0, 2);             // comment
  Put(central, 0, 2);             // disk
  Put(central, 0, 2);             // internal attributes
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

void Writer::Add(std::string_view name, std::uint64_t size, std::uint32_t crc, const Spool& spool, Spool::Span span) {
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

}  // namespace flowrepo::zip
