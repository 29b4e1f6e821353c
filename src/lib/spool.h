#ifndef FLOWREPO_SPOOL_H_
#define FLOWREPO_SPOOL_H_

// An anonymous temporary file that text is appended to and read back from,
// so that what must be kept about every item of a long job until its end
// (an export's manifest entries, a zip's central directory) takes disk, not
// memory. The file has no name: it disappears when closed, even after a
// crash.

#include <cstdint>
#include <string>
#include <string_view>

namespace flowrepo {

class Spool {
 public:
  /// Where one appended text is.
  struct Span {
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
  };

  /// Creates the file in \a directory (where the job's output goes, whose
  /// file system will hold that output anyway). Throws kIo.
  explicit Spool(const std::string& directory);
  Spool(Spool&& other) noexcept;
  Spool& operator=(Spool&&) = delete;
  Spool(const Spool&) = delete;
  ~Spool();

  /// Appends \a text; not thread-safe. Throws kIo.
  Span Append(std::string_view text);
  /// The text at \a span; safe from many threads at once. Throws kIo.
  std::string Read(Span span) const;
  /// Everything appended so far.
  Span All() const { return {0, end_}; }

 private:
  int fd_ = -1;
  std::uint64_t end_ = 0;
};

}  // namespace flowrepo

#endif  // FLOWREPO_SPOOL_H_
