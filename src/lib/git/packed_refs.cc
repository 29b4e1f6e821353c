#include "git/packed_refs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "flowrepo/error.h"
#include "git/handles.h"

namespace flowrepo::git {
namespace {

constexpr int kLockRetries = 20;  // about 1 s in all, as Store's ref updates
constexpr std::string_view kTraits = "# pack-refs with: peeled fully-peeled sorted \n";

// One packed ref: "<oid> <name>" and, for an annotated tag, "^<peeled>".
struct Line {
  std::string target;  // hex
  std::string peeled;  // hex, or empty
};

// The refs of an existing packed-refs file, and whether it promised that
// every annotated tag carries its peeled line (our output keeps that
// promise only if the old file did).
struct PackedFile {
  std::map<std::string, Line> refs;
  bool fully_peeled = true;
};

PackedFile ReadPackedFile(const std::string& path) {
  PackedFile file;
  std::ifstream in(path, std::ios::binary);
  if (!in) return file;  // none yet
  std::string line, last;
  bool first = true;
  while (std::getline(in, line)) {
    if (first && line.rfind("# pack-refs with:", 0) == 0) {
      file.fully_peeled = line.find(" fully-peeled") != std::string::npos;
    } else if (!line.empty() && line[0] == '^' && !last.empty()) {
      file.refs[last].peeled = line.substr(1);
    } else if (line.size() > 41 && line[40] == ' ') {
      last = line.substr(41);
      file.refs[last] = {line.substr(0, 40), ""};
    } else if (!line.empty() && line[0] != '#') {
      throw Error(ErrorCode::kInvalidData, "'" + path + "' has a line git does not write: '" + line + "'");
    }
    first = false;
  }
  return file;
}

std::string Render(const PackedFile& file) {
  std::string out = file.fully_peeled ? std::string(kTraits) : "# pack-refs with: peeled sorted \n";
  for (const auto& [name, line] : file.refs) {
    out += line.target + " " + name + "\n";
    if (!line.peeled.empty()) out += "^" + line.peeled + "\n";
  }
  return out;
}

// Holds packed-refs.lock; removed unless committed.
class Lock {
 public:
  explicit Lock(std::string path) : path_(std::move(path)) {
    for (int attempt = 0;; ++attempt) {
      fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd_ >= 0) return;
      if (errno != EEXIST || attempt == kLockRetries) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + 5 * attempt));
    }
    if (errno == EEXIST) {
      throw Error(ErrorCode::kConflict, "'" + path_ +
                                            "' is held by another writer; re-run the command, or remove "
                                            "the lock if no git or flowrepo process is running");
    }
    throw Error(ErrorCode::kIo, "cannot create '" + path_ + "'");
  }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  ~Lock() {
    if (fd_ >= 0) close(fd_);
    if (!committed_) unlink(path_.c_str());
  }
  // Writes \a content, makes it durable and puts it in place as \a target.
  void Commit(const std::string& content, const std::string& target, const std::string& dir) {
    std::size_t done = 0;
    while (done < content.size()) {
      ssize_t n = write(fd_, content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Error(ErrorCode::kIo, "cannot write '" + path_ + "'");
      done += static_cast<std::size_t>(n);
    }
    if (fsync(fd_) != 0 || close(fd_) != 0) {
      fd_ = -1;
      throw Error(ErrorCode::kIo, "cannot write '" + path_ + "'");
    }
    fd_ = -1;
    if (rename(path_.c_str(), target.c_str()) != 0) throw Error(ErrorCode::kIo, "cannot replace '" + target + "'");
    committed_ = true;
    int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      fsync(dir_fd);  // the rename itself survives a power loss
      close(dir_fd);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

void AddPackedRefs(const std::string& common_dir, const std::vector<PackedRef>& refs) {
  if (refs.empty()) return;
  std::string dir = common_dir;
  if (dir.back() != '/') dir += '/';
  const std::string path = dir + "packed-refs";
  Lock lock(path + ".lock");
  PackedFile file = ReadPackedFile(path);
  for (const auto& ref : refs) {
    Line line{OidHex(ref.target), ref.peeled ? OidHex(*ref.peeled) : ""};
    auto [at, added] = file.refs.emplace(ref.name, line);
    if (!added && at->second.target != line.target) {
      throw Error(ErrorCode::kConflict,
                  "'" + ref.name + "' changed concurrently; nothing was written, re-run the command");
    }
  }
  lock.Commit(Render(file), path, dir);
}

}  // namespace flowrepo::git
