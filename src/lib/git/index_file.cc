#include "git/index_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

#include "digest.h"
#include "flowrepo/error.h"
#include "git/handles.h"
#include "parallel.h"
#include "process.h"

namespace flowrepo::git {
namespace {

constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kChecksumSize = 20;  // SHA-1; libgit2 1.5 reads no other
constexpr std::size_t kStatSize = 40;      // ctime, mtime, dev, ino, mode, uid, gid, size
constexpr std::uint16_t kExtendedFlag = 0x4000;
constexpr std::uint16_t kIntentToAddFlag = 0x2000;  // in the extended flags
constexpr int kMaxTreeDepth = 4096;

std::uint32_t Be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint16_t Be16(const unsigned char* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

}  // namespace

// The order git writes cache-tree subtrees in (cache-tree.c).
bool IndexFile::GitOrder(const CachedTree& a, const CachedTree& b) {
  return a.name.size() != b.name.size() ? a.name.size() < b.name.size() : a.name < b.name;
}

// Reads the file's bytes front to back; every read is bounds-checked, so a
// torn or hostile index ends in one kInvalidData error.
class IndexFile::Parser {
 public:
  Parser(const std::string& file, std::string_view bytes) : file_(file), bytes_(bytes) {}

  void Parse(IndexFile& index) {
    if (bytes_.size() < kHeaderSize + kChecksumSize || bytes_.substr(0, 4) != "DIRC") Fail("not a git index");
    end_ = bytes_.size() - kChecksumSize;
    std::uint32_t version = Be32(At(4)), count = Be32(At(8));
    if (version < 2 || version > 4) Fail("index version " + std::to_string(version) + " is not supported");
    pos_ = kHeaderSize;
    // Version 4 paths are rebuilt into index.paths_, whose buffer moves as it
    // grows: they are viewed once all are in.
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    std::string previous;
    // The count is not trusted to size memory: an entry takes 62 bytes or more.
    index.entries_.reserve(std::min<std::size_t>(count, bytes_.size() / (kStatSize + GIT_OID_RAWSZ + 2)));
    for (std::uint32_t i = 0; i < count; ++i) {
      std::size_t start = pos_;
      Need(kStatSize + GIT_OID_RAWSZ + 2);
      Entry entry{};
      entry.mode = Be32(At(start + 24));
      std::memcpy(entry.id.id, At(start + kStatSize), GIT_OID_RAWSZ);
      std::uint16_t flags = Be16(At(start + kStatSize + GIT_OID_RAWSZ));
      entry.stage = (flags >> 12) & 3;
      pos_ += kStatSize + GIT_OID_RAWSZ + 2;
      bool intent_to_add = false;
      if (flags & kExtendedFlag) {
        if (version < 3) Fail("extended entry flags in a version 2 index");
        Need(2);
        intent_to_add = Be16(At(pos_)) & kIntentToAddFlag;
        pos_ += 2;
      }
      if (version == 4) {
        previous = NextCompressedPath(previous);
        if (intent_to_add) continue;
        spans.emplace_back(index.paths_.size(), previous.size());
        index.paths_.insert(index.paths_.end(), previous.begin(), previous.end());
      } else {
        entry.path = NextPaddedPath(start);
        if (intent_to_add) continue;
      }
      index.entries_.push_back(entry);
    }
    for (std::size_t i = 0; i < spans.size(); ++i) {
      index.entries_[i].path = std::string_view(index.paths_.data() + spans[i].first, spans[i].second);
    }
    ReadExtensions(index);
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw Error(ErrorCode::kInvalidData, "cannot read the git index '" + file_ + "': " + what);
  }
  const unsigned char* At(std::size_t offset) const {
    return reinterpret_cast<const unsigned char*>(bytes_.data()) + offset;
  }
  void Need(std::size_t n) const {
    if (pos_ > end_ || end_ - pos_ < n) Fail("it ends early (torn or damaged)");
  }
  std::string_view NulTerminated() {
    std::size_t nul = bytes_.find('\0', pos_);
    if (nul == std::string_view::npos || nul >= end_) Fail("it ends early (torn or damaged)");
    std::string_view s = bytes_.substr(pos_, nul - pos_);
    pos_ = nul + 1;
    return s;
  }

  // Versions 2 and 3: the path, then 1-8 NULs padding the entry to a
  // multiple of eight bytes.
  std::string_view NextPaddedPath(std::size_t entry_start) {
    std::string_view path = NulTerminated();
    std::size_t padded = entry_start + ((pos_ - 1 - entry_start + 8) & ~std::size_t{7});
    if (padded > end_) Fail("it ends early (torn or damaged)");
    pos_ = padded;
    return path;
  }

  // Version 4: how many bytes to drop from the previous path (git's varint),
  // then the suffix to append.
  std::string NextCompressedPath(const std::string& previous) {
    Need(1);
    std::uint64_t drop = *At(pos_) & 127;
    while (*At(pos_++) & 128) {
      Need(1);
      if (drop >= (std::uint64_t{1} << 56)) Fail("a damaged path length");
      drop = ((drop + 1) << 7) | (*At(pos_) & 127);
    }
    if (drop > previous.size()) Fail("a damaged path length");
    std::string path = previous.substr(0, previous.size() - drop);
    path += NulTerminated();
    return path;
  }

  void ReadExtensions(IndexFile& index) {
    while (pos_ < end_) {
      Need(8);
      std::string_view signature = bytes_.substr(pos_, 4);
      std::uint32_t size = Be32(At(pos_ + 4));
      pos_ += 8;
      Need(size);
      std::size_t extension_end = pos_ + size;
      if (signature == "TREE") {
        if (size > 0) index.cache_tree_ = ReadCachedTree(extension_end, 0);
      } else if (signature[0] < 'A' || signature[0] > 'Z') {
        // Lower case: the entries cannot be understood without it.
        Fail(signature == "link"   ? "it is a split index (core.splitIndex); run 'git update-index --no-split-index'"
             : signature == "sdir" ? "it is a sparse index; run 'git sparse-checkout init --no-sparse-index'"
                                   : "it needs extension '" + std::string(signature) + "'");
      }
      pos_ = extension_end;
    }
  }

  // A cache-tree node: "<name>\0<entry count> <subtree count>\n", the tree
  // id when the count is not -1, then its subtrees.
  CachedTree ReadCachedTree(std::size_t limit, int depth) {
    if (depth > kMaxTreeDepth) Fail("a damaged cache-tree");
    std::size_t saved_end = end_;
    end_ = limit;
    CachedTree node;
    node.name = NulTerminated();
    node.entry_count = static_cast<int>(ReadNumber(' '));
    long subtrees = ReadNumber('\n');
    if (subtrees < 0) Fail("a damaged cache-tree");
    if (node.entry_count >= 0) {
      Need(GIT_OID_RAWSZ);
      std::memcpy(node.id.id, At(pos_), GIT_OID_RAWSZ);
      pos_ += GIT_OID_RAWSZ;
    }
    for (long i = 0; i < subtrees; ++i) node.children.push_back(ReadCachedTree(limit, depth + 1));
    if (!std::is_sorted(node.children.begin(), node.children.end(), GitOrder)) {
      std::sort(node.children.begin(), node.children.end(), GitOrder);
    }
    end_ = saved_end;
    return node;
  }

  long ReadNumber(char terminator) {
    std::size_t stop = bytes_.find(terminator, pos_);
    if (stop == std::string_view::npos || stop >= end_ || stop == pos_ || stop - pos_ > 10) {
      Fail("a damaged cache-tree");
    }
    std::string_view digits = bytes_.substr(pos_, stop - pos_);
    bool negative = digits[0] == '-';
    if (negative) digits.remove_prefix(1);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
      Fail("a damaged cache-tree");
    }
    pos_ = stop + 1;
    long value = std::stol(std::string(digits));
    if (value > std::numeric_limits<int>::max()) Fail("a damaged cache-tree");
    return negative ? -value : value;
  }

  const std::string& file_;
  std::string_view bytes_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
};

std::unique_ptr<IndexFile::Mapping> IndexFile::Mapping::OfFile(const std::string& path) {
  auto mapping = std::make_unique<Mapping>();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    if (fd >= 0) ::close(fd);
    throw Error(ErrorCode::kIo, "cannot read the git index '" + path + "'");
  }
  mapping->size_ = static_cast<std::size_t>(st.st_size);
  void* data = mapping->size_ ? ::mmap(nullptr, mapping->size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0) : nullptr;
  ::close(fd);
  if (data == MAP_FAILED) throw Error(ErrorCode::kIo, "cannot read the git index '" + path + "'");
  mapping->data_ = static_cast<const char*>(data);
  return mapping;
}

std::unique_ptr<IndexFile::Mapping> IndexFile::Mapping::OfBytes(std::string bytes) {
  auto mapping = std::make_unique<Mapping>();
  mapping->owned_ = std::move(bytes);
  return mapping;
}

IndexFile::Mapping::~Mapping() {
  if (data_) ::munmap(const_cast<char*>(data_), size_);
}

// Parses the index while a second core checks its trailing SHA-1 (git
// itself checks it only in fsck, for speed; hashing beside the parse costs
// no time where there is a second core). All zeros is no checksum: git's
// index.skipHash writes that.
void IndexFile::ParseChecked(const std::string& name) {
  const std::string_view bytes = file_->bytes();
  bool checksum_ok = true;
  ParallelFor(
      2,
      [&](std::size_t task, std::size_t) {
        if (task == 1) return Parser(name, bytes).Parse(*this);
        if (bytes.size() < kChecksumSize) return;
        const std::string_view stored = bytes.substr(bytes.size() - kChecksumSize);
        if (stored == std::string(kChecksumSize, '\0')) return;
        Digest sha1 = Digest::Sha1();
        sha1.Update(bytes.substr(0, bytes.size() - kChecksumSize));
        checksum_ok = sha1.Finish() == stored;
      },
      1);
  if (!checksum_ok) {
    throw Error(ErrorCode::kInvalidData,
                "cannot read the git index '" + name + "': its checksum does not match its content (damaged)");
  }
}

IndexFile IndexFile::Read(const std::string& path) {
  IndexFile index;
  index.file_ = Mapping::OfFile(path);
  index.ParseChecked(path);
  return index;
}

IndexFile IndexFile::FromBytes(std::string bytes, const std::string& name) {
  IndexFile index;
  index.file_ = Mapping::OfBytes(std::move(bytes));
  index.ParseChecked(name);
  return index;
}

namespace {

// How git is run on one index: in its work tree, told which index file.
struct GitIndexRun {
  std::string work_tree;
  std::string index_file;  // absolute
};

// What `git ARGS` prints about \a index; kInvalidData with its message
// when it fails.
std::string GitListing(const GitIndexRun& index, std::vector<std::string> args) {
  const std::string& work_tree = index.work_tree;
  args.insert(args.begin(), {"git", "-C", work_tree});
  ProcessResult r = RunProcess(args, {.merge_stderr = true, .env = {"LC_ALL=C", "GIT_INDEX_FILE=" + index.index_file}});
  if (r.exit_status != 0) {
    std::string message = r.out.substr(0, r.out.find('\n'));
    throw Error(ErrorCode::kInvalidData,
                "git cannot read the index of '" + work_tree + "': " + (message.empty() ? "git failed" : message));
  }
  return std::move(r.out);
}

// What HEAD's tree is for `git diff-index`: git's empty tree before the
// first commit.
std::string HeadTreeish(const GitIndexRun& index) {
  bool has_head =
      RunProcess({"git", "-C", index.work_tree, "rev-parse", "-q", "--verify", "HEAD^{tree}"}, {.merge_stderr = true})
          .exit_status == 0;
  return has_head ? "HEAD" : "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
}

// The paths staged as added against \a base; intent-to-add entries
// (`git add -N`) count only when \a with_intent_to_add.
std::set<std::string, std::less<>> AddedPaths(const GitIndexRun& index, const std::string& base,
                                              bool with_intent_to_add) {
  std::vector<std::string> args{"diff-index", "--cached", "--no-renames", "--name-only", "-z", "--diff-filter=A"};
  if (!with_intent_to_add) args.push_back("--ita-invisible-in-index");
  args.push_back(base);
  std::string out = GitListing(index, args);
  std::set<std::string, std::less<>> paths;
  for (std::size_t pos = 0, nul; (nul = out.find('\0', pos)) != std::string::npos; pos = nul + 1) {
    paths.insert(out.substr(pos, nul - pos));
  }
  return paths;
}

}  // namespace

IndexFile IndexFile::FromGit(const std::string& work_tree, const std::string& index_file) {
  const GitIndexRun run{work_tree, std::filesystem::absolute(index_file).string()};
  std::string listing = GitListing(run, {"ls-files", "--stage", "-z"});
  // Intent-to-add entries (`git add -N`) are staged as added only when git
  // is told to show them.
  const std::string base = HeadTreeish(run);
  std::set<std::string, std::less<>> intent_to_add = AddedPaths(run, base, true);
  for (const auto& path : AddedPaths(run, base, false)) intent_to_add.erase(path);

  IndexFile index;
  index.file_ = Mapping::OfBytes(std::move(listing));
  const std::string_view bytes = index.file_->bytes();
  auto bad = [&] {
    return Error(ErrorCode::kInvalidData, "cannot read git's listing of the index of '" + work_tree + "'");
  };
  // Each record: "<octal mode> <hex id> <stage>\t<path>\0".
  for (std::size_t pos = 0, nul; (nul = bytes.find('\0', pos)) != std::string_view::npos; pos = nul + 1) {
    std::string_view record = bytes.substr(pos, nul - pos);
    std::size_t space = record.find(' '), tab = record.find('\t');
    if (space == std::string_view::npos || tab == std::string_view::npos || tab < space + GIT_OID_HEXSZ + 3)
      throw bad();
    Entry entry{};
    entry.path = record.substr(tab + 1);
    if (intent_to_add.contains(entry.path)) continue;
    auto [end, status] = std::from_chars(record.data(), record.data() + space, entry.mode, 8);
    if (status != std::errc() || end != record.data() + space ||
        git_oid_fromstrn(&entry.id, record.data() + space + 1, GIT_OID_HEXSZ) != 0) {
      throw bad();
    }
    entry.stage = record[tab - 1] - '0';
    if (entry.stage < 0 || entry.stage > 3) throw bad();
    index.entries_.push_back(entry);
  }
  return index;
}

const IndexFile::Entry* IndexFile::Find(std::string_view path) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), path,
                             [](const Entry& e, std::string_view p) { return e.path < p; });
  for (; it != entries_.end() && it->path == path; ++it) {
    if (it->stage == 0) return &*it;
  }
  return nullptr;
}

const IndexFile::CachedTree* IndexFile::CachedTree::Child(std::string_view child) const {
  CachedTree wanted;
  wanted.name = child;
  auto it = std::lower_bound(children.begin(), children.end(), wanted, GitOrder);
  return it != children.end() && it->name == child ? &*it : nullptr;
}

// Walks index entries and tree entries of one directory side by side. Both
// are in git's order: by name, a directory sorting as if its name ended in
// '/' (which is where its paths fall in the index's plain byte order).
class IndexFile::Differ {
 public:
  Differ(git_repository* repo, const std::vector<Entry>& entries) : repo_(repo), entries_(entries) {}

  void Directory(const std::string& prefix, std::size_t begin, std::size_t end, const CachedTree* cached,
                 const git_tree* tree) {
    std::size_t i = begin, t = 0, tree_size = tree ? git_tree_entrycount(tree) : 0;
    while (i < end || t < tree_size) {
      std::string_view name;
      bool is_dir = false;
      std::size_t group_end = i;
      if (i < end) {
        std::string_view rest = entries_[i].path.substr(prefix.size());
        std::size_t slash = rest.find('/');
        is_dir = slash != std::string_view::npos;
        name = rest.substr(0, slash);
        group_end = GroupEnd(prefix, name, is_dir, i, end);
      }
      const git_tree_entry* tree_entry = t < tree_size ? git_tree_entry_byindex(tree, t) : nullptr;
      int order = i >= end ? 1 : !tree_entry ? -1 : Compare(name, is_dir, tree_entry);
      if (order < 0) {
        for (std::size_t k = i; k < group_end; ++k) changes.push_back({std::string(entries_[k].path), false});
        i = group_end;
      } else if (order > 0) {
        Deleted(prefix, tree_entry);
        ++t;
      } else if (is_dir) {
        const CachedTree* child = cached ? cached->Child(name) : nullptr;
        // Trusted as git trusts it when it commits, but only while it
        // counts the entries the index has under it: a tool that changed
        // the entries without invalidating it gets the folder compared.
        bool unchanged = child && child->entry_count >= 0 &&
                         static_cast<std::size_t>(child->entry_count) == group_end - i &&
                         git_oid_equal(&child->id, git_tree_entry_id(tree_entry));
        if (!unchanged) {
          TreePtr subtree = LookupTree(tree_entry);
          Directory(prefix + std::string(name) + "/", i, group_end, child, subtree.get());
        }
        i = group_end;
        ++t;
      } else {
        const Entry& e = entries_[i];
        bool same = group_end == i + 1 && e.stage == 0 && e.mode == git_tree_entry_filemode(tree_entry) &&
                    git_oid_equal(&e.id, git_tree_entry_id(tree_entry));
        if (!same) changes.push_back({std::string(e.path), false});
        i = group_end;
        ++t;
      }
    }
  }

  std::vector<Change> changes;

 private:
  // The end of the entries at \a begin that share its name in this
  // directory: one file (with its conflict stages) or a whole subdirectory.
  std::size_t GroupEnd(const std::string& prefix, std::string_view name, bool is_dir, std::size_t begin,
                       std::size_t end) const {
    std::string_view first = entries_[begin].path;
    std::string_view stem = is_dir ? first.substr(0, prefix.size() + name.size() + 1) : first;
    auto in_group = [&](const Entry& e) { return is_dir ? e.path.substr(0, stem.size()) == stem : e.path == stem; };
    // The group's entries are contiguous from begin (the index is sorted).
    auto it = std::partition_point(entries_.begin() + static_cast<std::ptrdiff_t>(begin),
                                   entries_.begin() + static_cast<std::ptrdiff_t>(end), in_group);
    return static_cast<std::size_t>(it - entries_.begin());
  }

  static int Compare(std::string_view name, bool is_dir, const git_tree_entry* entry) {
    std::string_view other = git_tree_entry_name(entry);
    bool other_is_dir = git_tree_entry_type(entry) == GIT_OBJECT_TREE;
    std::size_t common = std::min(name.size(), other.size());
    int c = name.substr(0, common).compare(other.substr(0, common));
    if (c != 0) return c;
    unsigned char a = name.size() > common ? name[common] : is_dir ? '/' : 0;
    unsigned char b = other.size() > common ? other[common] : other_is_dir ? '/' : 0;
    return a == b ? 0 : a < b ? -1 : 1;
  }

  TreePtr LookupTree(const git_tree_entry* entry) const {
    git_tree* raw = nullptr;
    Check(git_tree_lookup(&raw, repo_, git_tree_entry_id(entry)), "read tree");
    return TreePtr(raw);
  }

  void Deleted(const std::string& prefix, const git_tree_entry* entry) {
    std::string path = prefix + git_tree_entry_name(entry);
    if (git_tree_entry_type(entry) != GIT_OBJECT_TREE) {
      changes.push_back({path, true});
      return;
    }
    TreePtr subtree = LookupTree(entry);
    for (std::size_t k = 0; k < git_tree_entrycount(subtree.get()); ++k) {
      Deleted(path + "/", git_tree_entry_byindex(subtree.get(), k));
    }
  }

  git_repository* repo_;
  const std::vector<Entry>& entries_;
};

std::vector<IndexFile::Change> IndexFile::ChangesAgainst(git_repository* repo, const git_tree* tree) const {
  Differ differ(repo, entries_);
  const CachedTree* root = cache_tree_ ? &*cache_tree_ : nullptr;
  bool unchanged = root && tree && root->entry_count >= 0 &&
                   static_cast<std::size_t>(root->entry_count) == entries_.size() &&
                   git_oid_equal(&root->id, git_tree_id(tree));
  if (!unchanged) differ.Directory("", 0, entries_.size(), root, tree);
  std::sort(differ.changes.begin(), differ.changes.end(),
            [](const Change& a, const Change& b) { return a.path < b.path; });
  return std::move(differ.changes);
}

}  // namespace flowrepo::git
