#ifndef FLOWREPO_REPO_FLOW_INDEX_H_
#define FLOWREPO_REPO_FLOW_INDEX_H_

// Finding a flow by id means knowing every flow folder of a tree. Walking
// flows/ costs one tree read per folder, which grows with the repository;
// this cache keeps the index of the last tree seen in
// <gitdir>/flowrepo/flow-index and derives the index of any other tree from
// it by comparing the two trees, whose cost follows their difference (so
// the file is rewritten only once that difference has grown). The
// file is derived data: when it is missing, stale or unreadable the index
// is rebuilt by a full walk.

#include <map>
#include <optional>
#include <string>

#include "repo/layout.h"
#include "repo/store.h"

namespace flowrepo {

class FlowIndexCache {
 public:
  FlowIndexCache() = default;
  FlowIndexCache(FlowIndexCache&& other) noexcept;
  FlowIndexCache& operator=(FlowIndexCache&&) = delete;
  /// Saves the index of the last tree asked for (never throws).
  ~FlowIndexCache();

  /// Flow id -> location for the flows/ tree of \a root.
  /// Valid until the next call.
  const std::map<std::string, FlowLocation>& ForRootTree(const Store& store, const git_tree* root);

 private:
  std::optional<git_oid> LoadFromDisk(const Store& store);
  void SaveToDisk(const std::string& path) const;

  bool loaded_ = false;
  std::optional<git_oid> tree_;  ///< flows/ tree the index belongs to
  std::map<std::string, FlowLocation> index_;
  std::size_t changes_since_saved_ = 0;  ///< flows changed between the file's tree and tree_ (at most)
  std::string save_to_;                  ///< the cache file, when it is to be rewritten
};

}  // namespace flowrepo

#endif  // FLOWREPO_REPO_FLOW_INDEX_H_
