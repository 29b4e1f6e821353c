#ifndef FLOWREPO_REPO_PUBLISH_CHECKS_H_
#define FLOWREPO_REPO_PUBLISH_CHECKS_H_

// Publish's validation of the workspace as a merge would leave it.

#include <string>
#include <vector>

#include "repo/flow_index.h"
#include "repo/layout.h"
#include "repo/store.h"

namespace flowrepo {

/// A merge a publish is about to commit.
struct MergeToCheck {
  std::string workspace;
  std::string draft;
  git_oid workspace_head;                            ///< the workspace before the merge
  git_oid merged_tree;                               ///< the root tree after it
  const std::vector<FlowChange>* changes = nullptr;  ///< the draft's flow changes
  bool settings_changed = false;                     ///< the draft changed .flowrepo/
};

/// Throws kInvalidData ("publish refused: N problem(s) in M flow(s);
/// workspace '<ws>' unchanged", every problem in details()) when the merge
/// would leave the workspace invalid:
/// - a flow the draft adds or changes fails ValidateFlow against the merged
///   flows and settings, with credentials required to be bound;
/// - the merged settings document is invalid, when the draft changed it;
/// - a flow the draft leaves alone uses a flow the draft removes (or
///   renames), or a component or topic the workspace provided and the
///   merged settings do not.
/// The last check reads every flow (each document once) only when the
/// draft removes a flow or changes which components or topics exist;
/// otherwise the cost follows the size of the draft.
void CheckMergedWorkspace(const Store& store, FlowIndexCache& index, const MergeToCheck& merge);

}  // namespace flowrepo

#endif  // FLOWREPO_REPO_PUBLISH_CHECKS_H_
