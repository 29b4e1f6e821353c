#include "server/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "flowrepo/error.h"

namespace flowrepo::server {

TempDir::TempDir() {
  std::error_code ec;
  std::string base = std::filesystem::temp_directory_path(ec).string();
  if (ec) base = "/tmp";
  std::string pattern = base + "/flowrepo-serve-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!mkdtemp(buffer.data())) {
    throw Error(ErrorCode::kIo, "cannot make a temporary directory in '" + base + "': " + std::strerror(errno));
  }
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ec;  // nothing to do about a failure here
  std::filesystem::remove_all(path_, ec);
}

}  // namespace flowrepo::server
