#include "git/pack.h"

#include <zlib.h>

#include <cstring>
#include <exception>
#include <utility>

#include "flowrepo/error.h"
#include "parallel.h"

namespace flowrepo::git {
namespace {

// Objects waiting in memory before a batch is compressed and spilled: large
// enough that compressing it on all cores pays, small against the write.
constexpr std::size_t kBatchBytes = 16u << 20;
constexpr std::size_t kReadPiece = 1u << 20;  // spill file read back in pieces

void AppendBigEndian32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// The object's data from its pack entry (header, then zlib data).
std::string Inflate(std::string_view entry, std::size_t size) {
  std::size_t header = 0;
  while (header < entry.size() && (static_cast<unsigned char>(entry[header]) & 0x80)) ++header;
  ++header;
  std::string data(size, '\0');
  uLongf length = static_cast<uLongf>(size);
  uLong used = static_cast<uLong>(entry.size() - std::min(header, entry.size()));
  int rc = uncompress2(reinterpret_cast<Bytef*>(data.data()), &length,
                       reinterpret_cast<const Bytef*>(entry.data() + header), &used);
  if (rc != Z_OK || length != size) throw Error(ErrorCode::kIo, "cannot read back a pending object");
  return data;
}

// Runs a backend callback: no C++ exception may cross libgit2's C frames.
template <class F>
int Guarded(F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    git_error_set_str(GIT_ERROR_ODB, e.what());
  } catch (...) {
    git_error_set_str(GIT_ERROR_ODB, "unexpected error in the pending object store");
  }
  return -1;
}

}  // namespace

std::string PackEntry(const PackObject& object) {
  std::string out;
  std::uint64_t size = object.data.size();
  unsigned char c = static_cast<unsigned char>((object.type << 4) | (size & 0x0f));
  size >>= 4;
  while (size) {
    out.push_back(static_cast<char>(c | 0x80));
    c = static_cast<unsigned char>(size & 0x7f);
    size >>= 7;
  }
  out.push_back(static_cast<char>(c));
  uLongf bound = compressBound(static_cast<uLong>(object.data.size()));
  std::size_t header = out.size();
  out.resize(header + bound);
  // Level 1: flow documents compress well at any level, and a large write
  // should cost what writing it costs, not a long compression.
  if (compress2(reinterpret_cast<Bytef*>(out.data() + header), &bound,
                reinterpret_cast<const Bytef*>(object.data.data()), static_cast<uLong>(object.data.size()),
                Z_BEST_SPEED) != Z_OK) {
    throw Error(ErrorCode::kIo, "cannot compress an object for the pack");
  }
  out.resize(header + bound);
  out.shrink_to_fit();  // held until spilled: not the whole bound
  return out;
}

// ---- PackStream --------------------------------------------------------------

PackStream::PackStream(std::uint32_t count, std::function<void(std::string_view)> sink)
    : sink_(std::move(sink)), sha1_(Digest::Sha1()) {
  std::string header = "PACK";
  AppendBigEndian32(header, 2);
  AppendBigEndian32(header, count);
  Append(header);
}

void PackStream::Append(std::string_view entries) {
  sha1_.Update(entries);
  sink_(entries);
}

void PackStream::Finish() { sink_(sha1_.Finish()); }

std::string BuildPack(const std::vector<PackObject>& objects) {
  std::vector<std::string> entries(objects.size());
  ParallelFor(
      objects.size(), [&](std::size_t i, std::size_t) { entries[i] = PackEntry(objects[i]); }, 64);
  std::string pack;
  PackStream stream(static_cast<std::uint32_t>(objects.size()), [&](std::string_view bytes) { pack += bytes; });
  for (const auto& e : entries) stream.Append(e);
  stream.Finish();
  return pack;
}

// ---- the backend ------------------------------------------------------------

struct PendingObjects::Backend {
  git_odb_backend parent;  // first: libgit2 passes &parent
  PendingObjects* self;

  static PendingObjects& Of(git_odb_backend* b) { return *reinterpret_cast<Backend*>(b)->self; }

  static int Read(void** buffer, std::size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* id) {
    return Guarded([&] {
      const Location* at = Of(b).Find(id);
      if (!at) return static_cast<int>(GIT_ENOTFOUND);
      std::string data = Of(b).DataOf(*at);
      void* copy = git_odb_backend_data_alloc(b, data.size());
      if (!copy) return -1;
      std::memcpy(copy, data.data(), data.size());
      *buffer = copy;
      *len = data.size();
      *type = at->type;
      return 0;
    });
  }
  static int ReadHeader(std::size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* id) {
    const Location* at = Of(b).Find(id);
    if (!at) return GIT_ENOTFOUND;
    *len = at->size;
    *type = at->type;
    return 0;
  }
  static int Write(git_odb_backend* b, const git_oid* id, const void* data, std::size_t len, git_object_t type) {
    return Guarded([&] {
      Of(b).Add(*id, type, std::string_view(static_cast<const char*>(data), len));
      return 0;
    });
  }
  static int Exists(git_odb_backend* b, const git_oid* id) { return Of(b).Find(id) ? 1 : 0; }
  static void Free(git_odb_backend* b) {
    auto* backend = reinterpret_cast<Backend*>(b);
    delete backend->self;
    delete backend;
  }
};

std::size_t PendingObjects::OidHash::operator()(const git_oid& id) const {
  std::size_t h;
  std::memcpy(&h, id.id, sizeof h);  // already uniformly distributed
  return h;
}

PendingObjects* PendingObjects::Create(git_odb_backend** out_backend, std::string spill_directory) {
  auto* backend = new Backend{};
  if (git_odb_init_backend(&backend->parent, GIT_ODB_BACKEND_VERSION) < 0) {
    delete backend;
    throw Error(ErrorCode::kInternal, "cannot set up an in-memory object store");
  }
  backend->self = new PendingObjects(std::move(spill_directory));
  backend->parent.read = &Backend::Read;
  backend->parent.read_header = &Backend::ReadHeader;
  backend->parent.write = &Backend::Write;
  backend->parent.exists = &Backend::Exists;
  backend->parent.free = &Backend::Free;
  *out_backend = &backend->parent;
  return backend->self;
}

const PendingObjects::Location* PendingObjects::Find(const git_oid* id) const {
  auto it = index_.find(*id);
  return it == index_.end() ? nullptr : &it->second;
}

void PendingObjects::Add(const git_oid& id, git_object_t type, std::string_view data) {
  if (index_.count(id)) return;
  index_.emplace(id, Location{type, data.size(), batch_.size(), {}});
  order_.push_back(id);
  batch_.push_back({id, type, std::string(data)});
  batch_bytes_ += data.size();
  if (batch_bytes_ >= kBatchBytes) Spill();
}

std::string PendingObjects::DataOf(const Location& location) const {
  if (location.in_batch != kSpilled) return batch_[location.in_batch].data;
  return Inflate(spilled_->Read(location.entry), location.size);
}

void PendingObjects::Spill() {
  if (batch_.empty()) return;
  if (!spilled_) spilled_.emplace(spill_directory_);
  std::vector<std::string> entries(batch_.size());
  ParallelFor(
      batch_.size(), [&](std::size_t i, std::size_t) { entries[i] = PackEntry(batch_[i]); }, 64);
  for (std::size_t i = 0; i < batch_.size(); ++i) {
    Location& at = index_.at(batch_[i].id);
    at.entry = spilled_->Append(entries[i]);
    at.in_batch = kSpilled;
  }
  std::vector<PackObject>().swap(batch_);
  batch_bytes_ = 0;
}

void PendingObjects::ForEach(const std::function<void(const PackObject&)>& fn) const {
  for (const git_oid& id : order_) {
    const Location& at = index_.at(id);
    if (at.in_batch != kSpilled) {
      fn(batch_[at.in_batch]);
    } else {
      fn(PackObject{id, at.type, DataOf(at)});
    }
  }
}

void PendingObjects::WritePack(const std::function<void(std::string_view)>& sink) {
  Spill();  // every entry in the spill file, in the order written
  PackStream stream(static_cast<std::uint32_t>(order_.size()), sink);
  const Spool::Span all = spilled_ ? spilled_->All() : Spool::Span{};
  for (std::uint64_t at = 0; at < all.size; at += kReadPiece) {
    stream.Append(spilled_->Read({at, std::min<std::uint64_t>(kReadPiece, all.size - at)}));
  }
  stream.Finish();
}

void PendingObjects::Clear() {
  order_.clear();
  index_.clear();
  std::vector<PackObject>().swap(batch_);
  batch_bytes_ = 0;
  spilled_.reset();
}

}  // namespace flowrepo::git
