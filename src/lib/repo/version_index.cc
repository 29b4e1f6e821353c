#include "repo/version_index.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "flowrepo/error.h"
#include "repo/trailers.h"

namespace flowrepo {
namespace {

using Record = VersionIndex::Record;

// "flowrepo-version-index 1 <head hex> <record count>\n", then the records.
constexpr std::string_view kMagic = "flowrepo-version-index 1 ";
// Catching up costs one commit read per commit since the file's head;
// rewriting the file costs its size. Rewrite once that many were read.
constexpr std::size_t kResaveAfterCommits = 16;

std::string IndexPath(const Store& store, std::string_view ws) {
  return store.git_dir() + "flowrepo/versions/" + std::string(ws);
}

std::array<std::uint8_t, 16> FlowKey(std::string_view flow) {
  git_oid id;
  git::Check(git_odb_hash(&id, flow.data(), flow.size(), GIT_OBJECT_BLOB), "hash flow id");
  std::array<std::uint8_t, 16> key;
  std::memcpy(key.data(), id.id, key.size());
  return key;
}

bool FlowBefore(const Record& a, const Record& b) { return a.flow < b.flow; }

int NumberOf(const Record& r) {
  return static_cast<int>((std::uint32_t{r.number[0]} << 24) | (std::uint32_t{r.number[1]} << 16) |
                          (std::uint32_t{r.number[2]} << 8) | std::uint32_t{r.number[3]});
}

git_oid CommitOf(const Record& r) {
  git_oid id;
  std::memcpy(id.id, r.commit.data(), r.commit.size());
  return id;
}

// The Flowrepo-Version records of the commits publishing to \a ws on the
// first-parent chain from \a head, back to \a stop (exclusive), the
// workspace's creation commit, or the root.
struct ChainWalk {
  std::vector<Record> records;
  std::size_t commits = 0;
  bool reached_stop = false;
};

ChainWalk WalkPublishChain(const Store& store, std::string_view ws, const git_oid& head,
                           const std::optional<git_oid>& stop) {
  ChainWalk walk;
  git_oid current = head;
  while (true) {
    if (stop && git_oid_equal(&current, &*stop)) {
      walk.reached_stop = true;
      break;
    }
    git::CommitPtr commit = store.LookupCommit(current);
    ++walk.commits;
    // Read in place: the first publish of a large import names every flow.
    TrailerBlock block(git_commit_message(commit.get()));
    if (!ws.empty() && block.Workspace() == ws) {
      bool created_here = false;
      for (std::size_t i = 0; i < block.size(); ++i) {
        const TrailerBlock::Trailer t = block[i];
        if (t.key == kCreatedFromTrailer) created_here = true;
        if (t.key != kVersionTrailer) continue;
        if (auto v = ParseVersionValue(t.value)) {
          walk.records.push_back(VersionIndex::MakeRecord(v->flow, v->number, current));
        }
      }
      if (created_here) break;  // the workspace began here
    }
    if (git_commit_parentcount(commit.get()) == 0) break;
    current = *git_commit_parent_id(commit.get(), 0);
  }
  std::sort(walk.records.begin(), walk.records.end());
  return walk;
}

std::vector<Record> Merged(const std::vector<Record>& a, const std::vector<Record>& b) {
  std::vector<Record> out;
  out.reserve(a.size() + b.size());
  std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

bool VersionIndex::Record::operator<(const Record& other) const {
  return std::memcmp(this, &other, sizeof(Record)) < 0;
}

bool VersionIndex::Record::operator==(const Record& other) const {
  return std::memcmp(this, &other, sizeof(Record)) == 0;
}

VersionIndex::Record VersionIndex::MakeRecord(std::string_view flow, int number, const git_oid& commit) {
  static_assert(sizeof(Record) == 40, "records are stored as they are in memory");
  Record r;
  r.flow = FlowKey(flow);
  const auto n = static_cast<std::uint32_t>(number);
  r.number = {static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8),
              static_cast<std::uint8_t>(n)};
  std::memcpy(r.commit.data(), commit.id, r.commit.size());
  return r;
}

std::vector<VersionIndex::Entry> VersionIndex::Of(std::string_view flow) const {
  Record probe = MakeRecord(flow, 0, git_oid{});
  std::vector<Entry> out;
  for (std::span<const Record> records : {base(), std::span<const Record>(recent_)}) {
    auto [first, last] = std::equal_range(records.begin(), records.end(), probe, FlowBefore);
    for (auto it = first; it != last; ++it) out.push_back({NumberOf(*it), CommitOf(*it)});
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.number < b.number; });
  return out;
}

bool VersionIndex::Has(std::string_view flow, int number, const git_oid& commit) const {
  Record probe = MakeRecord(flow, number, commit);
  std::span<const Record> base_records = base();
  return std::binary_search(base_records.begin(), base_records.end(), probe) ||
         std::binary_search(recent_.begin(), recent_.end(), probe);
}

VersionIndex::MappedRecords::MappedRecords(void* map, std::size_t map_size, std::size_t offset, std::size_t count)
    : map_(map), map_size_(map_size), offset_(offset), count_(count) {}

VersionIndex::MappedRecords::MappedRecords(MappedRecords&& other) noexcept
    : map_(std::exchange(other.map_, nullptr)),
      map_size_(other.map_size_),
      offset_(other.offset_),
      count_(other.count_) {}

VersionIndex::MappedRecords& VersionIndex::MappedRecords::operator=(MappedRecords&& other) noexcept {
  if (this != &other) {
    if (map_) munmap(map_, map_size_);
    map_ = std::exchange(other.map_, nullptr);
    map_size_ = other.map_size_;
    offset_ = other.offset_;
    count_ = other.count_;
  }
  return *this;
}

VersionIndex::MappedRecords::~MappedRecords() {
  if (map_) munmap(map_, map_size_);
}

void VersionIndex::MappedRecords::Select(std::size_t offset, std::size_t count) {
  offset_ = offset;
  count_ = count;
}

std::span<const VersionIndex::Record> VersionIndex::MappedRecords::records() const {
  if (!map_ || count_ == 0) return {};
  // Records are arrays of bytes: any address is aligned for them.
  return {reinterpret_cast<const Record*>(static_cast<const char*>(map_) + offset_), count_};
}

const VersionIndex& VersionIndexCache::For(const Store& store, std::string_view ws, const git_oid& head) {
  auto it = states_.find(ws);
  if (it == states_.end()) {
    it = states_.emplace(std::string(ws), State{}).first;
    Load(store, ws, it->second);
  }
  State& state = it->second;
  if (state.head && git_oid_equal(&*state.head, &head)) return state.index;
  ChainWalk walk = WalkPublishChain(store, ws, head, state.head);
  if (walk.reached_stop) {
    state.index.recent_ = Merged(state.index.recent_, walk.records);
    state.commits_since_saved += walk.commits;
  } else {
    // Not a descendant of what the index described (or nothing was): the
    // walk read the whole chain.
    state.index.mapped_.reset();
    state.index.owned_ = std::move(walk.records);
    state.index.recent_.clear();
    state.commits_since_saved = kResaveAfterCommits + 1;
  }
  state.head = head;
  if (state.commits_since_saved > kResaveAfterCommits) Save(store, ws, state);
  return state.index;
}

const VersionIndex& VersionIndexCache::Rebuild(const Store& store, std::string_view ws, const git_oid& head) {
  State& state = states_[std::string(ws)];
  state.head.reset();
  state.index = VersionIndex();  // forgets the file: For reads the commits
  state.commits_since_saved = 0;
  return For(store, ws, head);
}

void VersionIndexCache::Load(const Store& store, std::string_view ws, State& state) {
  const int fd = open(IndexPath(store, ws).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  const bool sized = fstat(fd, &st) == 0 && st.st_size > 0;
  void* map = sized ? mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
  close(fd);
  if (map == MAP_FAILED) return;
  const auto size = static_cast<std::size_t>(st.st_size);
  VersionIndex::MappedRecords mapped(map, size, 0, 0);  // unmaps on every return below
  // "<magic><40 hex> <10 digits>\n"
  const std::size_t header_size = kMagic.size() + GIT_OID_HEXSZ + 1 + 10 + 1;
  if (size < header_size) return;
  const std::string_view header(static_cast<const char*>(map), header_size);
  if (header.substr(0, kMagic.size()) != kMagic || header[kMagic.size() + GIT_OID_HEXSZ] != ' ' ||
      header.back() != '\n') {
    return;
  }
  git_oid head;
  if (git_oid_fromstrn(&head, header.data() + kMagic.size(), GIT_OID_HEXSZ) < 0) return;
  const std::string_view digits = header.substr(kMagic.size() + GIT_OID_HEXSZ + 1, 10);
  if (digits.find_first_not_of("0123456789") != std::string_view::npos) return;
  const std::size_t count = std::stoul(std::string(digits));
  if (size != header_size + count * sizeof(Record)) return;  // torn or damaged
  state.head = head;
  mapped.Select(header_size, count);
  state.index.mapped_ = std::move(mapped);
  state.index.owned_.clear();
  state.index.recent_.clear();
}

void VersionIndexCache::Save(const Store& store, std::string_view ws, State& state) {
  std::span<const Record> base = state.index.base();
  state.index.owned_ = Merged(std::vector<Record>(base.begin(), base.end()), state.index.recent_);
  state.index.mapped_.reset();
  state.index.recent_.clear();
  state.commits_since_saved = 0;
  char count[11];
  std::snprintf(count, sizeof count, "%010zu", state.index.owned_.size());
  const std::string header = std::string(kMagic) + git::OidHex(*state.head) + " " + count + "\n";
  // Only a cache: a read-only repository simply gets none.
  std::error_code ec;
  const std::string path = IndexPath(store, ws);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    if (!file) return;
    file.write(header.data(), static_cast<std::streamsize>(header.size()));
    file.write(reinterpret_cast<const char*>(state.index.owned_.data()),
               static_cast<std::streamsize>(state.index.owned_.size() * sizeof(Record)));
    if (!file) {
      file.close();
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

}  // namespace flowrepo
