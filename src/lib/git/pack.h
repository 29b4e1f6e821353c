#ifndef FLOWREPO_GIT_PACK_H_
#define FLOWREPO_GIT_PACK_H_

// Objects collected in memory during a large write, and the pack they are
// written as. libgit2's mempack dumps through its packbuilder, whose delta
// search costs more than everything else of a 10,000-flow import; flow
// documents are written once, so a pack of whole objects is what we want.

#include <git2.h>
#include <git2/sys/odb_backend.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace flowrepo::git {

struct PackObject {
  git_oid id;
  git_object_t type;
  std::string data;
};

/// A version 2 pack holding \a objects whole (no deltas), in the order
/// given, each zlib-compressed, on all cores. The same objects give the
/// same bytes.
std::string BuildPack(const std::vector<PackObject>& objects);

/// SHA-1 of \a data (20 raw bytes), as pack trailers record it.
std::string Sha1(std::string_view data);

/// An object database backend that keeps every object written to it in
/// memory until TakeObjects(). Owned by the odb it is added to.
class PendingObjects {
 public:
  /// A new backend; \a out_backend is what git_odb_add_backend takes.
  static PendingObjects* Create(git_odb_backend** out_backend);
  /// The collected objects in the order written; the backend is left empty.
  std::vector<PackObject> TakeObjects();
  bool empty() const { return objects_.empty(); }

 private:
  struct Backend;
  PendingObjects() = default;
  const PackObject* Find(const git_oid* id) const;

  std::vector<PackObject> objects_;
  struct OidHash {
    std::size_t operator()(const git_oid& id) const;
  };
  struct OidEqual {
    bool operator()(const git_oid& a, const git_oid& b) const { return git_oid_equal(&a, &b); }
  };
  std::unordered_map<git_oid, std::size_t, OidHash, OidEqual> index_;
};

}  // namespace flowrepo::git

#endif  // FLOWREPO_GIT_PACK_H_
