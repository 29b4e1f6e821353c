#ifndef FLOWREPO_REPO_REPOSITORY_IMPL_H_
#define FLOWREPO_REPO_REPOSITORY_IMPL_H_

// The state behind FlowRepository and the building blocks its operations
// (and the package, validation and access modules) share.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "flowrepo/access.h"
#include "flowrepo/repository.h"
#include "repo/flow_index.h"
#include "repo/layout.h"
#include "repo/settings.h"
#include "repo/store.h"

namespace flowrepo {

/// Where a write onto a draft starts from.
struct DraftTarget {
  std::string ref;
  std::optional<git_oid> head;  ///< std::nullopt: the draft does not exist yet
  git_oid parent;               ///< draft head, or the workspace head for a new draft
};

struct FlowRepository::Impl {
  Store store;
  std::string user;
  mutable FlowIndexCache index_cache;

  /// Head of workspace \a ws. Throws kNotFound.
  git_oid WorkspaceHead(std::string_view ws) const;
  /// Throws kPermissionDenied unless the user has \a role in \a ws.
  void RequireRole(std::string_view ws, Role role) const;
  /// The commit a revision names: "vN" (with \a flow), a workspace, a draft
  /// of \a ws, "drafts/..", a full ref or a full commit id. Never passes user
  /// text to git's revparse. Throws kNotFound.
  git_oid ResolveRevision(std::string_view ws, std::string_view flow,
                          std::string_view revision) const;
  /// Peels \a id (a tag or commit) to a commit id.
  git_oid PeelToCommit(const git_oid& id) const;

  /// Valid until the next call (it is the flow-index cache's own map).
  const std::map<std::string, FlowLocation>& FlowsAt(const git_oid& commit) const;
  /// The flow \a id at \a commit. Throws kNotFound.
  Flow FlowAt(const git_oid& commit, std::string_view id, std::string_view where) const;

  /// Flows that differ between two commits' trees; unchanged sub-trees are
  /// skipped, so the cost follows the size of the change, not the repository.
  std::vector<FlowChange> ChangedFlows(const git_oid& from, const git_oid& to) const;
  bool SettingsChanged(const git_oid& from, const git_oid& to) const;

  DraftTarget OpenDraft(std::string_view ws, std::string_view draft) const;
  /// Applies \a edits on top of the draft (creating it from the workspace
  /// head when missing) in one commit and moves the draft ref by CAS.
  WriteResult CommitToDraft(std::string_view ws, std::string_view draft, const TreeEdits& edits,
                            const std::string& message, std::vector<std::string> flows);
  DraftInfo DescribeDraft(std::string_view ws, std::string_view name, const git_oid& head) const;

  /// Moves \a ref from \a expected to \a target and, when \a ref is checked
  /// out in a work tree that matched the old commit, updates the work tree.
  void MoveRef(const std::string& ref, const git_oid& target,
               const std::optional<git_oid>& expected, const std::string& log);
};

/// "abc1234" for a commit id.
std::string ShortId(const git_oid& id);

}  // namespace flowrepo

#endif  // FLOWREPO_REPO_REPOSITORY_IMPL_H_
