#ifndef FLOWREPO_REPO_WORKTREE_H_
#define FLOWREPO_REPO_WORKTREE_H_

// Keeping work trees in step with the branches flowrepo moves.
//
// flowrepo writes objects and moves refs without a work tree. When a moved
// branch is checked out in a work tree (the main one or one made by `git
// worktree add`), that work tree and its index must follow as a git
// fast-forward would; otherwise git shows the move as staged changes that
// undo it, and the next plain `git commit` reverts it. A WorkTreeSync does
// this in three steps around the ref update, which stays the commit point:
//
//  1. Plan (before the ref moves): every work tree with the branch checked
//     out must be clean in the paths the move changes: index entry and file
//     equal to the old commit, no untracked file in the way, no merge or
//     rebase going on. Otherwise kConflict names the work tree, the first
//     such file and what to do. Paths the move does not touch may hold any
//     change, as with `git merge --ff-only`.
//  2. Begin (before the ref moves): a journal, <work tree git dir>/
//     flowrepo-checkout, records the ref and both commits.
//  3. Finish (after the ref moved): the changed paths of the work tree and
//     the index are written (a checkout limited to those paths, so the cost
//     follows the change), then the journal is removed.
//
// A process killed between the steps leaves a journal; RepairWorkTrees()
// finishes (or drops) what it describes. It runs before every write and as
// `flowrepo repair`.

#include <optional>
#include <string>
#include <vector>

#include "repo/store.h"

namespace flowrepo {

/// A work tree (main or linked) of the repository.
struct WorkTree {
  std::string path;     ///< its top directory, with a trailing '/'
  std::string git_dir;  ///< its own git directory (.git or .git/worktrees/<name>/)
  git::RepositoryPtr repo;
};

/// Work trees whose HEAD is the branch \a ref ("refs/heads/...").
std::vector<WorkTree> WorkTreesOn(const Store& store, const std::string& ref);

/// The work trees' updates for one ref move; see the file comment.
class WorkTreeSync {
 public:
  /// Checks every work tree with \a ref checked out for bringing it from
  /// commit \a from to \a to. Throws kConflict when one cannot follow.
  static WorkTreeSync Plan(const Store& store, const std::string& ref, const git_oid& from, const git_oid& to);

  WorkTreeSync(WorkTreeSync&&) noexcept = default;
  WorkTreeSync& operator=(WorkTreeSync&&) noexcept = default;
  /// Removes journals written by Begin() when Finish() never ran (the ref
  /// update failed): the work trees were not touched.
  ~WorkTreeSync();

  bool empty() const { return trees_.empty(); }
  /// Work tree paths that will follow the move.
  std::vector<std::string> paths() const;
  /// Writes the journals. Throws kConflict when another process is
  /// updating one of the work trees.
  void Begin();
  /// Updates the work trees and indexes to \a to and removes the journals.
  void Finish();

 private:
  struct Planned {
    WorkTree tree;
    std::vector<std::string> changed;  ///< file paths that differ between the commits
    std::string journal;
    bool journaled = false;
  };
  WorkTreeSync() = default;

  const Store* store_ = nullptr;
  std::string ref_;
  git_oid from_{};
  git_oid to_{};
  std::vector<Planned> trees_;
};

/// What RepairWorkTrees did to one work tree.
struct WorkTreeRepair {
  std::string path;
  std::string ref;
  std::string message;
};

/// Finishes work-tree updates that a killed flowrepo process left
/// journaled. Throws kConflict when a work tree changed since in a way
/// that cannot be finished safely (the journal stays).
std::vector<WorkTreeRepair> RepairWorkTrees(const Store& store);

/// Work trees with an unfinished update (a journal whose process is gone).
std::vector<WorkTreeRepair> StaleWorkTrees(const Store& store);

}  // namespace flowrepo

#endif  // FLOWREPO_REPO_WORKTREE_H_
