#ifndef FLOWREPO_REPO_LAYOUT_H_
#define FLOWREPO_REPO_LAYOUT_H_

// Names of refs and tree paths (docs/repository-format.md), and reading
// flows out of a tree.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "flow/names.h"
#include "flowrepo/error.h"
#include "flowrepo/flow.h"
#include "repo/store.h"

namespace flowrepo {

inline constexpr std::string_view kFlowsDir = "flows";
inline constexpr std::string_view kSettingsPath = ".flowrepo/workspace.json";

std::string WorkspaceRef(std::string_view ws);
std::string DraftRef(std::string_view ws, std::string_view draft);
std::string DraftRefPrefix(std::string_view ws);  ///< "refs/heads/drafts/<ws>/"
std::string TagRef(std::string_view ws, std::string_view flow, int version);
std::string TagRefPrefix(std::string_view ws, std::string_view flow);  ///< ".../v"
/// A tag as messages name it: \a ref without "refs/tags/" ("main/a/v1").
std::string ShortTag(std::string_view ref);

/// Throws kInvalidArgument unless \a name is a valid workspace name / flow
/// id / draft name (drafts may contain '/'-separated ids).
void RequireId(std::string_view id, std::string_view what);
void RequireDraftName(std::string_view name);
/// Throws kInvalidArgument unless \a user can name a user (roles, API
/// tokens): 1-254 bytes without spaces, control characters, '"' or '\\'.
void RequireUserName(std::string_view user);

/// A flow folder found in a tree.
struct FlowLocation {
  std::string id;
  std::string group;
  std::string path;  ///< "flows/<group>/<id>"
  git_oid tree;      ///< the folder's tree id
};

/// A flow that differs between two trees: where it was and where it is.
struct FlowChange {
  std::string id;
  std::optional<FlowLocation> before;
  std::optional<FlowLocation> after;
};

/// Flow folders that differ between two flows/ trees (std::nullopt: no
/// flows/), keyed by id; a flow moved between groups is one change. Equal
/// sub-trees are never opened, so the cost follows the change.
std::map<std::string, FlowChange> DiffFlowTrees(const Store& store, const std::optional<git_oid>& a,
                                                const std::optional<git_oid>& b);

/// What DiffFlowTrees finds, as ids only (sorted): all it costs is the ids,
/// not their locations.
struct ChangedFlowIds {
  std::vector<std::string> changed;  ///< added, changed, moved or removed
  std::vector<std::string> removed;  ///< of those, the ones no folder holds after
};
ChangedFlowIds DiffFlowIds(const Store& store, const std::optional<git_oid>& a, const std::optional<git_oid>& b);

/// Every flow folder under flows/ of \a root (a folder holding
/// app_definition.json), keyed by id. Throws kInvalidData on two folders
/// with one id.
std::map<std::string, FlowLocation> IndexFlows(const Store& store, const git_tree* root);

/// Which unchanged flows a name-clash check needs. A new clash can only be
/// in a folder a changed flow passes through (its group and every group
/// above): unchanged flows directly in those folders take part in full; of
/// the others, one flow per group brings that group's path, which is all
/// they can add there. So a check of one change costs its folders, not the
/// workspace.
class ClashScope {
 public:
  /// A changed flow stands in \a group.
  void Touch(const std::string& group);
  /// Whether an unchanged flow in \a group takes part; call once per flow,
  /// after every Touch.
  bool Includes(const std::string& group);

 private:
  std::set<std::string> touched_ = {""};
  std::set<std::string> standing_in_;  ///< groups one flow already stands for
};

/// The name clashes (flow/names.h) that \a changes make among the flows
/// of \a after, the flows they leave: an entry is new when no flow before
/// the changes (those of \a after they do not touch, and where changed
/// flows were) made it.
std::vector<NameClash> ClashesOfChanges(const std::map<std::string, FlowLocation>& after,
                                        const std::vector<const FlowChange*>& changes);

/// Every group of \a flows and every group above one, sorted: what a user
/// may name, for "did you mean" hints.
std::vector<std::string> GroupsOf(const std::map<std::string, FlowLocation>& flows);

/// The name clashes that writing the flows \a written describes (replacing
/// the flows with their ids, wherever they are) onto a tree holding
/// \a existing makes.
std::vector<NameClash> ClashesOfWrite(const std::map<std::string, FlowLocation>& existing,
                                      const std::vector<FlowSummary>& written);

/// kNotFound for flow \a id, missing among \a flows (those of \a where),
/// with the closest id as a "did you mean" hint.
Error FlowNotFound(std::string_view id, const std::map<std::string, FlowLocation>& flows, std::string_view where);

/// The three documents of the flow at \a location (missing ones are empty).
Flow ReadFlowAt(const Store& store, const FlowLocation& location);

/// The highest version number a flow can have (nine digits): a tag named
/// beyond it is no version, and publish refuses to go past it.
inline constexpr int kMaxVersion = 999'999'999;

/// Parses the version number of a tag ref under \a prefix ("v12" -> 12):
/// 1 to kMaxVersion, written without leading zeros.
std::optional<int> VersionFromTag(std::string_view ref, std::string_view prefix);

/// A tag ref named like a version of a flow.
struct VersionTagRef {
  int number;
  std::string ref;  ///< refs/tags/<ws>/<flow>/v<N>
  git_oid target;   ///< its direct target: an annotated tag, or a commit
};

/// The tag refs named like versions of \a flow in \a ws, ascending by
/// number, whether or not a publish commit backs them
/// (FlowRepository::Impl::VersionTagsOf says which do).
std::vector<VersionTagRef> VersionTags(const Store& store, std::string_view ws, std::string_view flow);

}  // namespace flowrepo

#endif  // FLOWREPO_REPO_LAYOUT_H_
