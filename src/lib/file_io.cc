#include "file_io.h"

#include <fstream>
#include <sstream>

#include "flowrepo/error.h"

namespace flowrepo {

std::optional<std::string> TryReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(bytes).str();
}

std::string ReadWholeFile(const std::filesystem::path& path) {
  std::optional<std::string> bytes = TryReadFile(path);
  if (!bytes) throw Error(ErrorCode::kIo, "cannot read '" + path.string() + "'");
  return std::move(*bytes);
}

}  // namespace flowrepo
