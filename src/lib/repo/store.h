#ifndef FLOWREPO_REPO_STORE_H_
#define FLOWREPO_REPO_STORE_H_

// Store: the git object database and refs as flowrepo uses them. No work
// tree and no index are ever touched: trees are read and built directly,
// and every ref update is a compare-and-swap against the value read before
// the work started, so a concurrent writer surfaces as kConflict.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flowrepo/error.h"
#include "git/handles.h"
#include "git/pack.h"
#include "git/packed_refs.h"

namespace flowrepo {

/// A new tree entry: a blob or tree id and its file mode.
struct TreeEntry {
  git_oid id;
  git_filemode_t mode;
};

/// Path (slash-separated, relative to the root tree) to its new entry;
/// std::nullopt removes the path. Intermediate trees are created and empty
/// ones dropped.
using TreeEdits = std::map<std::string, std::optional<TreeEntry>>;

class Store {
 public:
  /// Opens the repository containing \a path (searching upwards).
  /// Throws kNotFound when there is none.
  static Store Open(const std::string& path);
  /// Creates (or reopens) a repository at \a path.
  static Store Init(const std::string& path, bool bare);

  git_repository* raw() const { return repo_.get(); }
  bool bare() const;
  /// The .git directory (or the bare repository).
  std::string git_dir() const;

  std::optional<git_oid> ReadRef(const std::string& name) const;
  /// Moves \a name to \a target only if it still points at \a expected
  /// (std::nullopt: only if it does not exist). Throws kConflict otherwise.
  void UpdateRef(const std::string& name, const git_oid& target, const std::optional<git_oid>& expected,
                 const std::string& log_message);
  /// Deletes \a name only if it still points at \a expected.
  void DeleteRef(const std::string& name, const git_oid& expected);
  /// All refs matching the fnmatch \a glob, with their direct targets.
  std::vector<std::pair<std::string, git_oid>> ListRefs(const std::string& glob) const;
  static bool IsValidRefName(const std::string& name);

  git::CommitPtr LookupCommit(const git_oid& id) const;
  git::TreePtr LookupTree(const git_oid& id) const;
  git::TreePtr CommitTree(const git_oid& commit) const;
  git_oid CommitTreeId(const git_oid& commit) const;
  /// The entry at \a path under \a tree, or std::nullopt.
  std::optional<TreeEntry> EntryAt(const git_tree* tree, const std::string& path) const;
  std::string ReadBlob(const git_oid& id) const;
  git_oid WriteBlob(std::string_view content);
  /// Applies \a edits to \a base (a tree id, or std::nullopt for empty).
  git_oid EditTree(const std::optional<git_oid>& base, const TreeEdits& edits);
  git_oid CreateCommit(const git_oid& tree, const std::vector<git_oid>& parents, const std::string& message,
                       const git_signature* who);
  /// Writes annotated tag object \a name (a full ref name; the ref itself is
  /// not written) at \a commit: the same arguments give the same object.
  /// The commit is passed looked up: a publish commit of thousands of
  /// flows is too big for libgit2's object cache, and reading it once per
  /// tag made tagging quadratic.
  git_oid WriteTagObject(const std::string& name, const git_commit* commit, const git_signature* who,
                         const std::string& message);
  /// Creates \a refs, none of which may exist as a loose ref, in one
  /// rewrite of packed-refs (objects written first): for many new refs at
  /// once, such as the tags of a large publish. kConflict when one exists
  /// with another target.
  void CreatePackedRefs(const std::vector<git::PackedRef>& refs);
  /// Packs the loose refs into packed-refs, as `git pack-refs --all` does:
  /// listing thousands of refs then reads one file, not thousands.
  void PackRefs();

  std::optional<git_oid> MergeBase(const git_oid& a, const git_oid& b) const;
  bool IsAncestor(const git_oid& ancestor, const git_oid& descendant) const;

  /// From now on, objects are collected (in memory, then spilled to a
  /// temporary file) and written as one pack (two fsyncs) right before the
  /// next ref update, instead of one loose, fsynced file each. For writes
  /// of many objects: of kPackedWriteThreshold flows or files and more.
  void EnablePackedWrites();
  static constexpr std::size_t kPackedWriteThreshold = 16;
  /// Writes the collected objects as a pack now (UpdateRef does it first).
  void FlushPackedWrites();

  /// A signature for \a user ("alice@example.com" or "alice") now.
  git::SignaturePtr Signature(const std::string& user) const;
  /// git config value, or empty.
  std::string ConfigString(const char* key) const;

 private:
  /// EditTree of the edits [first, last), whose paths' first \a skip
  /// characters name the folder \a base is.
  git_oid EditTree(const std::optional<git_oid>& base, TreeEdits::const_iterator first, TreeEdits::const_iterator last,
                   std::size_t skip);
  explicit Store(git::RepositoryPtr repo) : repo_(std::move(repo)) {}
  /// kConflict naming the lock file of \a name.
  Error LockedError(const std::string& name) const;
  /// The object database's folder (shared by every work tree).
  std::string ObjectsDir() const;

  git::LibGit2Session session_;
  git::RepositoryPtr repo_;
  git::PendingObjects* pending_ = nullptr;  ///< owned by the repository's odb
};

}  // namespace flowrepo

#endif  // FLOWREPO_REPO_STORE_H_
