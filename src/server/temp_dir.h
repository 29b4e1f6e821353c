#ifndef FLOWREPO_SERVER_TEMP_DIR_H_
#define FLOWREPO_SERVER_TEMP_DIR_H_

#include <string>

namespace flowrepo::server {

/// A private directory (0700) under $TMPDIR for one request's files (an
/// upload, an export), removed with everything in it when destroyed.
/// Throws kIo when it cannot be made.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace flowrepo::server

#endif  // FLOWREPO_SERVER_TEMP_DIR_H_
