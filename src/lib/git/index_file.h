#ifndef FLOWREPO_GIT_INDEX_FILE_H_
#define FLOWREPO_GIT_INDEX_FILE_H_

// A work tree's git index read straight from its file, for `validate
// --staged`. libgit2 1.5 diffs an index against HEAD by reading every tree,
// because it ignores the index's cache-tree ("TREE" extension), so a
// commit of one flow would cost what the repository's size costs. Git keeps that extension
// current: every directory whose staged content is unchanged records its
// tree id, so comparing those ids with HEAD's skips all but the few
// directories a commit touches, as `git diff --cached` does.
//
// Reads index versions 2, 3 and 4, checking the file's SHA-1. Split and
// sparse indexes (the "link" and "sdir" extensions) and layouts git may add
// later are refused by Read; FromGit asks git itself for such an index
// (libgit2 1.5 refuses a split index and reads a sparse one's folders as
// files, so it is no fallback).

#include <git2.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowrepo::git {

class IndexFile {
 public:
  struct Entry {
    std::string_view path;
    git_oid id;
    std::uint32_t mode;
    int stage;  // 0, or 1-3 for an unresolved merge conflict
  };
  struct Change {
    std::string path;
    bool deleted;  // in the tree, not in the index
  };

  /// Reads the index file at \a path. Throws kIo when it cannot be read and
  /// kInvalidData when it is damaged or uses a layout flowrepo cannot read.
  static IndexFile Read(const std::string& path);
  /// The same for an index held in memory; \a name is what errors call it.
  static IndexFile FromBytes(std::string bytes, const std::string& name);
  /// The index file \a index_file of the work tree at \a work_tree as git
  /// lists it (`git ls-files --stage`), intent-to-add entries left out. For what Read refuses:
  /// git reads every index it writes. Without a cache-tree, ChangesAgainst
  /// reads every folder. Throws kInvalidData with git's message when git
  /// cannot list it either.
  static IndexFile FromGit(const std::string& work_tree, const std::string& index_file);

  IndexFile(const IndexFile&) = delete;
  IndexFile& operator=(const IndexFile&) = delete;
  IndexFile(IndexFile&&) = default;
  IndexFile& operator=(IndexFile&&) = default;

  /// Entries sorted by path, as in the file. Intent-to-add entries
  /// (`git add -N`) are left out: a commit does not record them.
  const std::vector<Entry>& entries() const { return entries_; }
  /// The stage-0 entry for \a path, if any.
  const Entry* Find(std::string_view path) const;

  /// Every path whose staged content differs from \a tree (null: an empty
  /// tree, as before the first commit), sorted. Directories the cache-tree
  /// records as unchanged are not read.
  std::vector<Change> ChangesAgainst(git_repository* repo, const git_tree* tree) const;

 private:
  // One directory of the cache-tree. entry_count < 0: invalidated by a
  // change since the tree id was computed.
  struct CachedTree {
    std::string_view name;  // in the mapped file
    int entry_count = -1;
    git_oid id{};
    std::vector<CachedTree> children;  // in git's order: by name length, then bytes
    const CachedTree* Child(std::string_view child) const;
  };
  static bool GitOrder(const CachedTree& a, const CachedTree& b);
  class Parser;
  class Differ;

  // The file, mapped read-only (or bytes given): entries view their paths
  // in it.
  class Mapping {
   public:
    static std::unique_ptr<Mapping> OfFile(const std::string& path);
    static std::unique_ptr<Mapping> OfBytes(std::string bytes);
    Mapping() = default;
    ~Mapping();
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    std::string_view bytes() const { return data_ ? std::string_view(data_, size_) : owned_; }

   private:
    const char* data_ = nullptr;  // mapped
    std::size_t size_ = 0;
    std::string owned_;
  };

  IndexFile() = default;
  void ParseChecked(const std::string& name);

  std::unique_ptr<Mapping> file_;
  std::vector<char> paths_;  // version 4 paths, rebuilt (a vector keeps its buffer when moved)
  std::vector<Entry> entries_;
  std::optional<CachedTree> cache_tree_;
};

}  // namespace flowrepo::git

#endif  // FLOWREPO_GIT_INDEX_FILE_H_
