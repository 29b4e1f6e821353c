#ifndef FLOWREPO_GIT_PACK_H_
#define FLOWREPO_GIT_PACK_H_

// Objects collected during a large write, and the pack they are written
// as. libgit2's mempack dumps through its packbuilder, whose delta search
// costs more than everything else of a 10,000-flow import; flow documents
// are written once, so a pack of whole objects is what we want.

#include <git2.h>
#include <git2/sys/odb_backend.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "digest.h"
#include "git/handles.h"
#include "spool.h"

namespace flowrepo::git {

struct PackObject {
  git_oid id;
  git_object_t type;
  std::string data;
};

/// The pack entry of \a object: its type and size header, then its data
/// zlib-compressed. The same object gives the same bytes.
std::string PackEntry(const PackObject& object);

/// A version 2 pack written front to back to \a sink: the header on
/// construction, then the bytes of exactly \a count entries (PackEntry),
/// then Finish() adds the SHA-1 trailer of everything before it.
class PackStream {
 public:
  PackStream(std::uint32_t count, std::function<void(std::string_view)> sink);

  void Append(std::string_view entries);
  void Finish();

 private:
  std::function<void(std::string_view)> sink_;
  Digest sha1_;
};

/// A pack holding \a objects whole (no deltas), in the order given,
/// compressed on all cores. The same objects give the same bytes.
std::string BuildPack(const std::vector<PackObject>& objects);

/// An object database backend that collects every object written to it
/// until they are written out as one pack. Objects wait in memory in
/// batches; a full batch is compressed on all cores and spilled to an
/// unnamed temporary file, so a write of any size holds one batch, not the
/// write. Owned by the odb it is added to; libgit2 calls it from one thread.
class PendingObjects {
 public:
  /// A new backend spilling to \a spill_directory; \a out_backend is what
  /// git_odb_add_backend takes.
  static PendingObjects* Create(git_odb_backend** out_backend, std::string spill_directory);

  bool empty() const { return order_.empty(); }
  std::size_t size() const { return order_.size(); }
  /// Calls \a fn with every object, in the order written.
  void ForEach(const std::function<void(const PackObject&)>& fn) const;
  /// Hands \a sink the pack of every object (whole, in the order written)
  /// in pieces. Throws kIo.
  void WritePack(const std::function<void(std::string_view)>& sink);
  /// Forgets every object.
  void Clear();

 private:
  struct Backend;
  /// Where an object is: waiting in batch_, or its entry in the spill file.
  struct Location {
    git_object_t type;
    std::size_t size;      ///< of the object's data
    std::size_t in_batch;  ///< index into batch_, or kSpilled
    Spool::Span entry;     ///< its pack entry once spilled
  };
  static constexpr std::size_t kSpilled = static_cast<std::size_t>(-1);
  struct OidHash {
    std::size_t operator()(const git_oid& id) const;
  };
  struct OidEqual {
    bool operator()(const git_oid& a, const git_oid& b) const { return git_oid_equal(&a, &b); }
  };

  explicit PendingObjects(std::string spill_directory) : spill_directory_(std::move(spill_directory)) {}
  const Location* Find(const git_oid* id) const;
  void Add(const git_oid& id, git_object_t type, std::string_view data);
  std::string DataOf(const Location& location) const;
  void Spill();

  std::string spill_directory_;
  std::optional<Spool> spilled_;  ///< pack entries, in the order written
  std::vector<git_oid> order_;
  std::unordered_map<git_oid, Location, OidHash, OidEqual> index_;
  std::vector<PackObject> batch_;
  std::size_t batch_bytes_ = 0;
};

}  // namespace flowrepo::git

#endif  // FLOWREPO_GIT_PACK_H_
