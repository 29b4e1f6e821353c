#include "spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "flowrepo/error.h"

namespace flowrepo {
namespace {

Error SpoolError(const std::string& what) {
  return Error(ErrorCode::kIo, "cannot " + what + " a temporary file: " + std::strerror(errno));
}

// O_TMPFILE where the file system has it; else a named file removed at once.
int OpenAnonymous(const std::string& directory) {
  int fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string path = directory + "/.flowrepo-spool-XXXXXX";
  fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd >= 0) ::unlink(path.c_str());
  return fd;
}

}  // namespace

Spool::Spool(const std::string& directory) : fd_(OpenAnonymous(directory)) {
  if (fd_ < 0) throw SpoolError("create");
}

Spool::Spool(Spool&& other) noexcept : fd_(other.fd_), end_(other.end_) { other.fd_ = -1; }

Spool::~Spool() {
  if (fd_ >= 0) ::close(fd_);
}

Spool::Span Spool::Append(std::string_view text) {
  Span span{end_, text.size()};
  while (!text.empty()) {
    ssize_t n = ::pwrite(fd_, text.data(), text.size(), static_cast<off_t>(end_));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw SpoolError("write");
    end_ += static_cast<std::uint64_t>(n);
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return span;
}

std::string Spool::Read(Span span) const {
  std::string text(span.size, '\0');
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::pread(fd_, text.data() + done, text.size() - done, static_cast<off_t>(span.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw SpoolError("read");
    done += static_cast<std::size_t>(n);
  }
  return text;
}

}  // namespace flowrepo
