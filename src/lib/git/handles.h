#ifndef FLOWREPO_GIT_HANDLES_H_
#define FLOWREPO_GIT_HANDLES_H_

// Owning wrappers for every libgit2 handle flowrepo uses, and the one place
// where libgit2 error codes become flowrepo::Error.

#include <git2.h>

#include <memory>
#include <string>
#include <string_view>

#include "owned.h"

namespace flowrepo::git {

using RepositoryPtr = std::unique_ptr<git_repository, Free<git_repository_free>>;
using CommitPtr = std::unique_ptr<git_commit, Free<git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, Free<git_tree_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, Free<git_tree_entry_free>>;
using TreeBuilderPtr = std::unique_ptr<git_treebuilder, Free<git_treebuilder_free>>;
using BlobPtr = std::unique_ptr<git_blob, Free<git_blob_free>>;
using ReferencePtr = std::unique_ptr<git_reference, Free<git_reference_free>>;
using ReferenceIteratorPtr = std::unique_ptr<git_reference_iterator, Free<git_reference_iterator_free>>;
using SignaturePtr = std::unique_ptr<git_signature, Free<git_signature_free>>;
using TagPtr = std::unique_ptr<git_tag, Free<git_tag_free>>;
using ObjectPtr = std::unique_ptr<git_object, Free<git_object_free>>;
using ConfigPtr = std::unique_ptr<git_config, Free<git_config_free>>;
using OdbPtr = std::unique_ptr<git_odb, Free<git_odb_free>>;
using RevwalkPtr = std::unique_ptr<git_revwalk, Free<git_revwalk_free>>;
using IndexPtr = std::unique_ptr<git_index, Free<git_index_free>>;
using DiffPtr = std::unique_ptr<git_diff, Free<git_diff_free>>;
using OdbWritepackPtr = std::unique_ptr<git_odb_writepack, Free<+[](git_odb_writepack* w) { w->free(w); }>>;

/// Keeps libgit2 initialised while alive (init/shutdown are refcounted).
/// Declare it first in an owner so it is destroyed last.
class LibGit2Session {
 public:
  LibGit2Session();
  ~LibGit2Session();
  LibGit2Session(const LibGit2Session&);
  LibGit2Session& operator=(const LibGit2Session&) { return *this; }
};

/// Throws flowrepo::Error when \a rc is negative; \a action says what was
/// attempted ("look up commit"). Maps GIT_ENOTFOUND to kNotFound,
/// GIT_EEXISTS to kAlreadyExists, GIT_EMODIFIED/GIT_ELOCKED/
/// GIT_ENONFASTFORWARD to kConflict, anything else to kIo.
void Check(int rc, std::string_view action);

/// Owns a git_buf.
class Buf {
 public:
  Buf() = default;
  ~Buf() { git_buf_dispose(&buf_); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  git_buf* get() { return &buf_; }
  std::string str() const { return buf_.ptr ? std::string(buf_.ptr, buf_.size) : std::string(); }

 private:
  git_buf buf_ = GIT_BUF_INIT;
};

/// Owns a git_message_trailer_array (the trailers point into its block).
class MessageTrailers {
 public:
  MessageTrailers() = default;
  ~MessageTrailers() { git_message_trailer_array_free(&array_); }
  MessageTrailers(const MessageTrailers&) = delete;
  MessageTrailers& operator=(const MessageTrailers&) = delete;
  git_message_trailer_array* get() { return &array_; }
  const git_message_trailer_array& array() const { return array_; }

 private:
  git_message_trailer_array array_ = {nullptr, 0, nullptr};
};

std::string OidHex(const git_oid& id);
git_oid OidFromHex(std::string_view hex);  // throws kInvalidArgument
bool IsZero(const git_oid& id);

}  // namespace flowrepo::git

#endif  // FLOWREPO_GIT_HANDLES_H_
