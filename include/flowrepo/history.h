#ifndef FLOWREPO_HISTORY_H_
#define FLOWREPO_HISTORY_H_

#include <cstdint>
#include <string>
#include <vector>

namespace flowrepo {

/// A published version: the annotated tag refs/tags/<ws>/<flow>/v<number>.
struct Version {
  std::string flow;
  int number = 0;
  std::string tag;        ///< full ref name
  std::string commit;     ///< the publish commit
  std::string author;     ///< tagger email
  std::int64_t time = 0;  ///< seconds since the epoch
  std::string note;
};

/// A publish that removed a flow from the workspace (its
/// "Flowrepo-Removed: <flow>" trailer).
struct Removal {
  std::string commit;      ///< the publish commit
  std::string author;      ///< its author's email: the publisher
  std::int64_t time = 0;   ///< seconds since the epoch
  std::string note;        ///< the publish note
  std::string renamed_to;  ///< set when the publish renamed the flow (flow mv --id)
};

struct History {
  std::string workspace;
  std::string flow;
  /// Newest first. A flow renamed (flow mv --id) lists the versions of its
  /// old id after its own: their Version::flow is that id.
  std::vector<Version> versions;
  /// Publishes that removed the flow since its latest version, newest
  /// first: the end of a retired flow's history. (A flow removed and later
  /// published again shows only its versions.)
  std::vector<Removal> removed;
  std::vector<std::string> drafts;  ///< open drafts that change the flow
  /// Tags named like versions that no publish commit backs ("<ws>/<flow>/vN"):
  /// not versions, left out above; `flowrepo check` reports them.
  std::vector<std::string> ignored_tags;
};

}  // namespace flowrepo

#endif  // FLOWREPO_HISTORY_H_
