#ifndef FLOWREPO_REMOTE_H_
#define FLOWREPO_REMOTE_H_

// Working with the team's server repository: clone, pull, push of drafts,
// status, and bringing a draft onto the workspace head. Publishing to a
// workspace that has an upstream happens on the server (FlowRepository::
// Publish); docs/teams.md describes the daily loop.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace flowrepo {

/// Receives each line the server wrote (its hook's messages included).
using ServerLineSink = std::function<void(std::string_view line)>;

/// What pull did to one local branch.
struct PullChange {
  std::string ref;     ///< refs/heads/<ws> or refs/heads/drafts/<ws>/<name>
  std::string before;  ///< empty: the branch was created
  std::string after;   ///< empty: the branch was removed (a published draft)
  /// "created", "fast-forward", "up-to-date", "unpublished-to-draft",
  /// "rebased" (a draft started on such changes, now on that draft),
  /// "removed-published", "local-ahead", "diverged".
  std::string what;
  std::string detail;  ///< e.g. the draft local publishes were turned into
};

struct PullReport {
  std::string remote;
  std::vector<PullChange> changes;
  std::vector<std::string> tags_added;      ///< short names (<ws>/<flow>/vN)
  std::vector<std::string> tags_set_aside;  ///< local tags the server contradicted, kept under refs/flowrepo/
};

/// One branch against the server.
struct BranchStatus {
  std::string name;  ///< workspace name, or draft name
  std::string workspace;
  bool is_draft = false;
  bool on_server = false;
  int ahead = 0;   ///< commits here the server does not have
  int behind = 0;  ///< commits on the server not here
  /// For a draft: commits of its workspace since the draft's base, and the
  /// flows changed on both sides (publish would refuse them).
  int behind_workspace = 0;
  std::vector<std::string> conflicts;
};

struct SyncStatus {
  std::string remote;  ///< empty: no remote configured
  std::vector<BranchStatus> branches;
};

/// How to settle a flow changed both in a draft and on the workspace.
struct DraftUpdateRequest {
  std::vector<std::string> keep_draft;      ///< flow ids: the draft's version wins
  std::vector<std::string> take_workspace;  ///< flow ids: the workspace's version wins
};

struct DraftUpdateResult {
  std::string draft;
  std::string before;
  std::string after;  ///< equal to before when it was up to date
  std::vector<std::string> kept_draft;
  std::vector<std::string> took_workspace;
};

}  // namespace flowrepo

#endif  // FLOWREPO_REMOTE_H_
