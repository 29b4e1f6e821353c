#include "git/pack.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "flowrepo/error.h"
#include "parallel.h"

namespace flowrepo::git {
namespace {

std::uint32_t Rotl(std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

void Sha1Block(std::uint32_t h[5], const unsigned char* p) {
  std::uint32_t w[80];
  for (int i = 0; i < 16; ++i) {
    w[i] = std::uint32_t(p[4 * i]) << 24 | std::uint32_t(p[4 * i + 1]) << 16 |
           std::uint32_t(p[4 * i + 2]) << 8 | std::uint32_t(p[4 * i + 3]);
  }
  for (int i = 16; i < 80; ++i) w[i] = Rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; ++i) {
    std::uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d), k = 0x5a827999;
    } else if (i < 40) {
      f = b ^ c ^ d, k = 0x6ed9eba1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
    } else {
      f = b ^ c ^ d, k = 0xca62c1d6;
    }
    std::uint32_t t = Rotl(a, 5) + f + e + k + w[i];
    e = d, d = c, c = Rotl(b, 30), b = a, a = t;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

// The pack entry of one object: type and size header, then zlib data.
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
                reinterpret_cast<const Bytef*>(object.data.data()),
                static_cast<uLong>(object.data.size()), Z_BEST_SPEED) != Z_OK) {
    throw Error(ErrorCode::kIo, "cannot compress an object for the pack");
  }
  out.resize(header + bound);
  out.shrink_to_fit();  // held until the pack is assembled: not the whole bound
  return out;
}

void AppendBigEndian32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

}  // namespace

std::string Sha1(std::string_view data) {
  std::uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t full = data.size() / 64 * 64;
  for (std::size_t i = 0; i < full; i += 64) Sha1Block(h, p + i);
  unsigned char tail[128] = {};
  std::size_t rest = data.size() - full;
  std::memcpy(tail, p + full, rest);
  tail[rest] = 0x80;
  std::size_t tail_size = rest + 9 <= 64 ? 64 : 128;
  std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_size - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
  for (std::size_t i = 0; i < tail_size; i += 64) Sha1Block(h, tail + i);
  std::string out;
  for (std::uint32_t v : h) AppendBigEndian32(out, v);
  return out;
}

std::string BuildPack(const std::vector<PackObject>& objects) {
  std::vector<std::string> entries(objects.size());
  ParallelFor(objects.size(), [&](std::size_t i, std::size_t) { entries[i] = PackEntry(objects[i]); }, 64);
  std::size_t total = 12 + 20;
  for (const auto& e : entries) total += e.size();
  std::string pack;
  pack.reserve(total);
  pack += "PACK";
  AppendBigEndian32(pack, 2);
  AppendBigEndian32(pack, static_cast<std::uint32_t>(objects.size()));
  for (const auto& e : entries) pack += e;
  pack += Sha1(pack);
  return pack;
}

// ---- the backend ------------------------------------------------------------

struct PendingObjects::Backend {
  git_odb_backend parent;  // first: libgit2 passes &parent
  PendingObjects* self;

  static PendingObjects& Of(git_odb_backend* b) { return *reinterpret_cast<Backend*>(b)->self; }

  static int Read(void** buffer, std::size_t* len, git_object_t* type, git_odb_backend* b,
                  const git_oid* id) {
    const PackObject* o = Of(b).Find(id);
    if (!o) return GIT_ENOTFOUND;
    void* copy = git_odb_backend_data_alloc(b, o->data.size());
    if (!copy) return -1;
    std::memcpy(copy, o->data.data(), o->data.size());
    *buffer = copy;
    *len = o->data.size();
    *type = o->type;
    return 0;
  }
  static int ReadHeader(std::size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* id) {
    const PackObject* o = Of(b).Find(id);
    if (!o) return GIT_ENOTFOUND;
    *len = o->data.size();
    *type = o->type;
    return 0;
  }
  static int Write(git_odb_backend* b, const git_oid* id, const void* data, std::size_t len,
                   git_object_t type) {
    PendingObjects& self = Of(b);
    if (self.Find(id)) return 0;
    self.index_.emplace(*id, self.objects_.size());
    self.objects_.push_back({*id, type, std::string(static_cast<const char*>(data), len)});
    return 0;
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

PendingObjects* PendingObjects::Create(git_odb_backend** out_backend) {
  auto* backend = new Backend{};
  if (git_odb_init_backend(&backend->parent, GIT_ODB_BACKEND_VERSION) < 0) {
    delete backend;
    throw Error(ErrorCode::kInternal, "cannot set up an in-memory object store");
  }
  backend->self = new PendingObjects();
  backend->parent.read = &Backend::Read;
  backend->parent.read_header = &Backend::ReadHeader;
  backend->parent.write = &Backend::Write;
  backend->parent.exists = &Backend::Exists;
  backend->parent.free = &Backend::Free;
  *out_backend = &backend->parent;
  return backend->self;
}

const PackObject* PendingObjects::Find(const git_oid* id) const {
  auto it = index_.find(*id);
  return it == index_.end() ? nullptr : &objects_[it->second];
}

std::vector<PackObject> PendingObjects::TakeObjects() {
  index_.clear();
  return std::exchange(objects_, {});
}

}  // namespace flowrepo::git
