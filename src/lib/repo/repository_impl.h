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
#include "repo/version_index.h"

namespace flowrepo {

/// Where a write onto a draft starts from.
struct DraftTarget {
  std::string ref;
  std::optional<git_oid> head;  ///< std::nullopt: the draft does not exist yet
  git_oid parent;               ///< draft head, or the workspace head for a new draft
};

/// A flow whose documents are blobs already (a missing one is absent):
/// what committing it onto a draft needs. Large writes store documents as
/// they are made, so that memory holds ids, not texts.
struct StoredFlow {
  FlowSummary summary;
  std::optional<git_oid> definition, app, env;
};

/// A tag named like a version of a flow, and whether a publish commit
/// backs it (docs/repository-format.md, "What makes a version").
struct VersionTag {
  int number = 0;
  std::string ref;                ///< refs/tags/<ws>/<flow>/v<N>
  git_oid target;                 ///< the ref's target: an annotated tag or a commit
  std::optional<git_oid> commit;  ///< what it peels to; std::nullopt: no commit
  bool backed = false;
};

struct FlowRepository::Impl {
  Store store;
  std::string user;
  mutable FlowIndexCache index_cache;
  mutable VersionIndexCache version_index;
  // Publishing to a server (remote_sync.cc).
  bool offline = false;        ///< publish locally despite an upstream
  std::string landing_remote;  ///< set while a publish lands on this remote
  ServerLineSink server_lines;

  /// Head of workspace \a ws. Throws kNotFound.
  git_oid WorkspaceHead(std::string_view ws) const;
  /// Throws kPermissionDenied unless the user has \a role in \a ws.
  /// Throws kPermissionDenied unless the user has \a role in \a ws;
  /// \a why ("to export, as the workspace's export_role says") ends the
  /// message.
  void RequireRole(std::string_view ws, Role role, std::string_view why = {}) const;
  /// The commit a revision names: "vN" (with \a flow), a workspace, a draft
  /// of \a ws, "drafts/..", a full ref, or a commit id, full or abbreviated
  /// (at least 4 digits; names first). Never passes user text to git's
  /// revparse. Throws kNotFound, or kInvalidArgument for an ambiguous id.
  git_oid ResolveRevision(std::string_view ws, std::string_view flow, std::string_view revision) const;
  /// Peels \a id (a tag or commit) to a commit id.
  git_oid PeelToCommit(const git_oid& id) const;

  // Versions (versions.cc). A version tag counts only when it is backed:
  // it peels to a commit whose trailer block names the workspace and
  // "<flow> v<N>", and that commit is reachable from the workspace head.

  /// Every tag named like a version of \a flow in \a ws, ascending by
  /// number, each with whether it is backed. Throws kNotFound (workspace).
  std::vector<VersionTag> VersionTagsOf(std::string_view ws, std::string_view flow) const;
  /// The publish commit of version \a number of \a flow. Throws kNotFound
  /// when there is no such tag or no publish commit backs it (naming it),
  /// kInvalidArgument outside 1..kMaxVersion.
  git_oid VersionCommit(std::string_view ws, std::string_view flow, int number) const;
  /// Every tag under refs/tags/<ws>/ named like a version that no publish
  /// commit backs, as full ref names.
  std::vector<std::string> UnbackedVersionTags(std::string_view ws) const;
  /// The numbers of every backed tag under refs/tags/<ws>/, by flow,
  /// ascending (FlowRepository::ListVersions).
  std::map<std::string, std::vector<int>> BackedVersionNumbers(std::string_view ws) const;
  /// The highest version of \a flow in \a ws: of every backed tag and every
  /// version a publish commit on the head's first-parent chain names; 0
  /// when there is none. Throws kNotFound (workspace).
  int HighestVersion(std::string_view ws, std::string_view flow) const;
  /// The number the next publish of \a flow in \a ws gets: one above
  /// HighestVersion. Throws kConflict when an unbacked tag already holds
  /// that number (the tag could not be made), kInvalidData beyond
  /// kMaxVersion. A flow renamed from \a continues goes on from that
  /// flow's versions when they are higher.
  int NextVersion(std::string_view ws, std::string_view flow, std::string_view continues = {}) const;
  /// True when \a commit backs version \a number of \a flow in \a ws, whose
  /// head is \a head and version index \a index.
  bool Backs(std::string_view ws, const git_oid& head, const VersionIndex& index, std::string_view flow, int number,
             const git_oid& commit) const;
  /// Creates every version tag the publish commit \a commit of \a ws names
  /// but lacks (an interrupted publish or workspace creation), as annotated
  /// tags whose tagger is the commit's committer and whose message is its
  /// note: every clone that completes a publish makes the same tag object,
  /// so tags pushed by several clones never disagree. A tag ref that exists
  /// already is left alone. Returns the tag refs made.
  std::vector<std::string> CompleteTags(std::string_view ws, const git_oid& commit);
  /// The version tags (full ref names) publish commit \a commit of \a ws
  /// names, with the tag objects CompleteTags makes for them, written now.
  std::vector<std::pair<std::string, git_oid>> TagObjects(std::string_view ws, const git_oid& commit);

  /// Valid until the next call (it is the flow-index cache's own map).
  const std::map<std::string, FlowLocation>& FlowsAt(const git_oid& commit) const;
  /// The flow \a id at \a commit. Throws kNotFound.
  Flow FlowAt(const git_oid& commit, std::string_view id, std::string_view where) const;

  /// Flows that differ between two commits' trees; unchanged sub-trees are
  /// skipped, so the cost follows the size of the change, not the repository.
  std::vector<FlowChange> ChangedFlows(const git_oid& from, const git_oid& to) const;

  DraftTarget OpenDraft(std::string_view ws, std::string_view draft) const;
  /// Applies \a edits on top of the draft (creating it from the workspace
  /// head when missing) in one commit and moves the draft ref by CAS.
  WriteResult CommitToDraft(std::string_view ws, std::string_view draft, TreeEdits edits, const std::string& message,
                            std::vector<std::string> flows);
  /// Commits \a tree onto the draft \a target was opened for, as CommitToDraft.
  WriteResult CommitTreeToDraft(std::string_view ws, std::string_view draft, const DraftTarget& target,
                                const git_oid& tree, const std::string& message, std::vector<std::string> flows);
  /// Commits \a flows onto \a draft in one commit, replacing the flows
  /// with their ids wherever they were (GroupChoice as PutFlows). Refuses
  /// an invalid id or group, a flow without app definition or given twice,
  /// a folder inside another flow's, and name clashes.
  WriteResult CommitFlows(std::string_view ws, std::string_view draft, std::vector<StoredFlow> flows,
                          std::string_view action, FlowRepository::GroupChoice groups);
  /// As FlowRepository::EditSettings, without the role check (import
  /// declares components on the draft it writes).
  WriteResult EditSettingsList(std::string_view ws, std::string_view draft, SettingsList list,
                               const std::vector<std::string>& add, const std::vector<std::string>& remove);
  DraftInfo DescribeDraft(std::string_view ws, std::string_view name, const git_oid& head) const;
  /// The renames a draft carries out from \a base to \a head: each flow of
  /// \a added that the draft's own commits (Flowrepo-Renamed, written by
  /// RenameFlow) renamed from one of \a removed, new id -> old id. A chain
  /// a -> b -> c on one draft is a -> c.
  std::map<std::string, std::string> RenamesOnDraft(const git_oid& base, const git_oid& head,
                                                    const std::set<std::string>& removed,
                                                    const std::set<std::string>& added) const;

  /// Moves \a ref from \a expected to \a target and, when \a ref is checked
  /// out in a work tree that matched the old commit, updates the work tree.
  void MoveRef(const std::string& ref, const git_oid& target, const std::optional<git_oid>& expected,
               const std::string& log);

  // Remotes (remote_sync.cc).
  /// The remote workspace \a ws publishes to (branch.<ws>.remote), if any.
  std::optional<std::string> UpstreamOf(std::string_view ws) const;
  /// Moves the workspace ref from \a expected to the publish \a commit:
  /// when landing_remote is set, first on the server with the commit's
  /// version tags, in one atomic compare-and-swap (throws ServerMoved when
  /// the server's head is no longer \a expected).
  void LandPublish(std::string_view ws, const git_oid& commit, const git_oid& expected, const std::string& log);
  /// After a publish landed on the server: shares the version tags the
  /// server lacks and removes the server's copy of the draft. Returns
  /// what failed (the next pull or publish finishes it).
  std::vector<std::string> ShareLanded(std::string_view ws, std::string_view draft);
};

/// The internals of \a repo, for the library's operations outside repo/.
FlowRepository::Impl& ImplOf(const FlowRepository& repo);

/// True when the workspace head \a ws_head already holds \a change of the
/// draft at \a draft_head exactly: the same flow folder at the same path
/// (or the flow removed there too).
bool AlreadyOnWorkspace(const Store& store, const git_oid& ws_head, const git_oid& draft_head,
                        const FlowChange& change);

/// Points HEAD at workspace \a ref and writes its tree into the (empty)
/// work tree and index, refusing to overwrite an untracked file.
void CheckOutNewWorkspace(Store& s, const std::string& ref);

/// "abc1234" for a commit id.
std::string ShortId(const git_oid& id);

/// The commit a tag ref's \a target peels to, or std::nullopt (a tag of a
/// tree or blob, a missing object).
std::optional<git_oid> PeelTagTarget(const Store& store, const git_oid& target);

}  // namespace flowrepo

#endif  // FLOWREPO_REPO_REPOSITORY_IMPL_H_
