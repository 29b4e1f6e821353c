#ifndef FLOWREPO_REPO_VERSION_INDEX_H_
#define FLOWREPO_REPO_VERSION_INDEX_H_

// Which commits publish which versions. A version tag <ws>/<flow>/vN counts
// only when the commit it points at names workspace <ws> and "<flow> vN" in
// its trailer block and is reachable from the workspace head. Reading the
// trailers of every publish commit on each command would cost the length of
// the history (and the first publish of a large import names every flow),
// so the index of a workspace is kept in <gitdir>/flowrepo/versions/<ws>:
// the head it was made for and one fixed-size record per Flowrepo-Version
// trailer of the publish commits on that head's first-parent chain, sorted
// so that the records of one flow are found by a binary search in the
// mapped file (a history reads a few pages of it, not all). A newer
// head is caught up by reading only the commits since (the file is
// rewritten once it has fallen far behind); a head that is no descendant
// of the file's is read in full. The file is derived data: a missing,
// stale or torn file is rebuilt, and callers verify what they take from it
// against tags or commits, so a damaged file can neither hide nor invent a
// version (it only slows lookups until publish or check rewrites it).

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "repo/store.h"

namespace flowrepo {

/// The version records of one workspace at one head.
class VersionIndex {
 public:
  /// A version named by a publish commit.
  struct Entry {
    int number;
    git_oid commit;
  };
  /// One record: a key of the flow id (16 bytes of its SHA-1), the number
  /// (big-endian) and the commit; compared bytewise.
  struct Record {
    std::array<std::uint8_t, 16> flow;
    std::array<std::uint8_t, 4> number;
    std::array<std::uint8_t, GIT_OID_RAWSZ> commit;
    bool operator<(const Record& other) const;
    bool operator==(const Record& other) const;
  };

  static Record MakeRecord(std::string_view flow, int number, const git_oid& commit);

  /// Every record of \a flow, ascending by number (two commits may name the
  /// same number: check reports that).
  std::vector<Entry> Of(std::string_view flow) const;
  /// True when a publish commit on the chain names \a flow vN at \a commit.
  bool Has(std::string_view flow, int number, const git_oid& commit) const;
  /// The number of records.
  std::size_t size() const { return base().size() + recent_.size(); }

 private:
  friend class VersionIndexCache;

  /// The records of the index file, mapped (only the pages a lookup
  /// touches are read). Move-only; unmaps when destroyed.
  class MappedRecords {
   public:
    MappedRecords() = default;
    MappedRecords(void* map, std::size_t map_size, std::size_t offset, std::size_t count);
    MappedRecords(MappedRecords&& other) noexcept;
    MappedRecords& operator=(MappedRecords&& other) noexcept;
    ~MappedRecords();
    /// The records: \a count of them from byte \a offset of the map.
    void Select(std::size_t offset, std::size_t count);
    std::span<const Record> records() const;

   private:
    void* map_ = nullptr;
    std::size_t map_size_ = 0;
    std::size_t offset_ = 0;
    std::size_t count_ = 0;
  };

  /// Sorted: the file's records, or owned_ once made in this process.
  std::span<const Record> base() const { return mapped_ ? mapped_->records() : std::span<const Record>(owned_); }

  std::optional<MappedRecords> mapped_;
  std::vector<Record> owned_;
  std::vector<Record> recent_;  ///< sorted; from commits after the file's head
};

/// The version index of each workspace asked for, kept across calls.
class VersionIndexCache {
 public:
  /// The index of \a ws whose head is \a head. Valid until the next call.
  /// Throws kIo when the repository cannot be read.
  const VersionIndex& For(const Store& store, std::string_view ws, const git_oid& head);
  /// The same, read from the commits alone (the file is then rewritten).
  const VersionIndex& Rebuild(const Store& store, std::string_view ws, const git_oid& head);

 private:
  struct State {
    std::optional<git_oid> head;  ///< what index describes; std::nullopt: nothing yet
    VersionIndex index;
    std::size_t commits_since_saved = 0;  ///< commits read since the file was written
  };
  static void Load(const Store& store, std::string_view ws, State& state);
  static void Save(const Store& store, std::string_view ws, State& state);
  std::map<std::string, State, std::less<>> states_;
};

}  // namespace flowrepo

#endif  // FLOWREPO_REPO_VERSION_INDEX_H_
