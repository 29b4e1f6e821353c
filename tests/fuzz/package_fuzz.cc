// libFuzzer target: the package reader on arbitrary bytes given as a
// package file (zip container, entry checks, bounded decompression,
// manifest, flows). Any crash, sanitizer report, exception other than
// flowrepo::Error, or an accepted package whose flows are not valid is a
// finding. Limits are lowered so bombs are cheap to find and refuse.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "flowrepo/error.h"
#include "package/reader.h"

namespace {

// One scratch file per process: libzip reads packages from paths.
const std::string& ScratchPath() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/flowrepo-package-fuzz-" + std::to_string(::getpid()) +
           ".studiopkg";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::FILE* file = std::fopen(ScratchPath().c_str(), "wb");
  if (!file) __builtin_trap();
  if (size && std::fwrite(data, 1, size, file) != size) __builtin_trap();
  std::fclose(file);
  flowrepo::PackageLimits limits;
  limits.max_entries = 64;
  limits.max_entry_bytes = 1 << 20;
  limits.max_total_bytes = 4 << 20;
  try {
    flowrepo::LoadedPackage loaded = flowrepo::LoadPackage(ScratchPath(), limits);
    if (loaded.flows.size() != loaded.report.manifest.flows.size()) __builtin_trap();
    if (loaded.report.problems.empty()) {
      for (const auto& f : loaded.flows) {
        if (!f.complete || !f.valid) __builtin_trap();
      }
    }
  } catch (const flowrepo::Error&) {
  }
  std::remove(ScratchPath().c_str());
  return 0;
}
