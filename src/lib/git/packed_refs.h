#ifndef FLOWREPO_GIT_PACKED_REFS_H_
#define FLOWREPO_GIT_PACKED_REFS_H_

// Adding many refs at once straight into packed-refs, as git's own
// transactions do for packed refs: one locked rewrite of one file, fsynced,
// instead of a directory, a file and two fsyncs per ref. libgit2 1.5 has
// no way to do this (git_refdb_compress packs refs that already exist as
// loose files). libgit2 notices the new file by its stamp and rereads it.

#include <git2.h>

#include <optional>
#include <string>
#include <vector>

namespace flowrepo::git {

struct PackedRef {
  std::string name;               ///< full ref name, e.g. refs/tags/main/x/v1
  git_oid target;                 ///< what it names (a tag object, say)
  std::optional<git_oid> peeled;  ///< the commit an annotated tag points at
};

/// Adds \a refs to \a common_dir's packed-refs under packed-refs.lock
/// (retried for about a second like every ref update, then Error(kConflict)
/// naming the lock). A ref already packed with the same target is left as
/// it is; with another target nothing is written and Error(kConflict) names
/// it. The caller checks loose refs, which take precedence over packed ones.
void AddPackedRefs(const std::string& common_dir, const std::vector<PackedRef>& refs);

}  // namespace flowrepo::git

#endif  // FLOWREPO_GIT_PACKED_REFS_H_
