#include "git/handles.h"

#include "flowrepo/error.h"

namespace flowrepo::git {

LibGit2Session::LibGit2Session() {
  if (git_libgit2_init() == 1) {
    // Packs are read through 8 MiB windows, at most 16 MiB mapped at once:
    // libgit2's 64-bit defaults map whole packs, and an export's workers
    // each kept the whole pack resident (docs/performance.md, memory).
    git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, std::size_t{8} << 20);
    git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, std::size_t{16} << 20);
    // libgit2 caches the trees and commits it reads, up to 256 MiB of their
    // raw size (about four times that parsed). An export reads every flow's
    // tree once, so the cache grew with the flows and held what was never
    // read again; what flowrepo reads twice is read soon after.
    git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, static_cast<ssize_t>(4) << 20);
  }
}
LibGit2Session::LibGit2Session(const LibGit2Session&) { git_libgit2_init(); }
LibGit2Session::~LibGit2Session() { git_libgit2_shutdown(); }

void Check(int rc, std::string_view action) {
  if (rc >= 0) return;
  const git_error* last = git_error_last();
  std::string detail = last && last->message ? last->message : "unknown error";
  std::string message = std::string(action) + ": " + detail;
  switch (rc) {
    case GIT_ENOTFOUND: throw Error(ErrorCode::kNotFound, message);
    case GIT_EEXISTS: throw Error(ErrorCode::kAlreadyExists, message);
    case GIT_EMODIFIED:
    case GIT_ELOCKED:
    case GIT_ENONFASTFORWARD: throw Error(ErrorCode::kConflict, message);
    case GIT_EMISMATCH: throw Error(ErrorCode::kIo, message + " (the repository is damaged; `git fsck` lists what)");
    case GIT_EINVALIDSPEC:
    case GIT_EAMBIGUOUS: throw Error(ErrorCode::kInvalidArgument, message);
    default: throw Error(ErrorCode::kIo, message);
  }
}

std::string OidHex(const git_oid& id) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &id);
  return hex;
}

git_oid OidFromHex(std::string_view hex) {
  git_oid id;
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstrn(&id, hex.data(), hex.size()) < 0) {
    throw Error(ErrorCode::kInvalidArgument, "'" + std::string(hex) + "' is not a full commit id");
  }
  return id;
}

bool IsZero(const git_oid& id) { return git_oid_is_zero(&id); }

}  // namespace flowrepo::git
