#include "repo/store.h"

#include <git2/sys/odb_backend.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "flowrepo/cancel.h"
#include "flowrepo/error.h"

namespace flowrepo {
namespace {

// The directories packed refs leave behind, deepest first, as git's
// pack-refs does: every ref listing would open each of them. rmdir only
// removes an empty one, so a ref written meanwhile stays.
void RemoveEmptyRefDirectories(const std::string& git_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (fs::recursive_directory_iterator it(fs::path(git_dir) / "refs", ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && it.depth() >= 1) dirs.push_back(it->path());
  }
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
    return std::distance(a.begin(), a.end()) > std::distance(b.begin(), b.end());
  });
  for (const auto& dir : dirs) rmdir(dir.c_str());
}

constexpr int kLockRetries = 20;  // about 1 s in all

// Durability: libgit2 fsyncs objects and refs only when asked. Set once per
// process before the first repository is opened.
void EnableDurability() {
  static const bool done = [] {
    git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
    return true;
  }();
  (void)done;
}

}  // namespace

Store Store::Open(const std::string& path) {
  git::LibGit2Session session;
  EnableDurability();
  git_repository* raw = nullptr;
  int rc = git_repository_open_ext(&raw, path.c_str(), 0, nullptr);
  if (rc == GIT_ENOTFOUND) {
    throw Error(ErrorCode::kNotFound, "no repository at '" + path + "' (run 'flowrepo init')");
  }
  git::Check(rc, "open repository '" + path + "'");
  return Store(git::RepositoryPtr(raw));
}

Store Store::Init(const std::string& path, bool bare) {
  git::LibGit2Session session;
  EnableDurability();
  git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  opts.flags = GIT_REPOSITORY_INIT_MKPATH | (bare ? GIT_REPOSITORY_INIT_BARE : 0);
  opts.initial_head = "main";
  git_repository* raw = nullptr;
  git::Check(git_repository_init_ext(&raw, path.c_str(), &opts), "create repository '" + path + "'");
  return Store(git::RepositoryPtr(raw));
}

Error Store::LockedError(const std::string& name) const {
  // Refs live in the common directory, also when opened from a linked work tree.
  std::string common = git_repository_commondir(repo_.get());
  if (!common.empty() && common.back() != '/') common += '/';
  return Error(ErrorCode::kConflict, "'" + name + "' is locked by another writer (" + common + name +
                                         ".lock); re-run the command, or remove the lock if no git or flowrepo "
                                         "process is running");
}

bool Store::bare() const { return git_repository_is_bare(repo_.get()); }

std::string Store::git_dir() const { return git_repository_path(repo_.get()); }

std::optional<git_oid> Store::ReadRef(const std::string& name) const {
  git_oid id;
  int rc = git_reference_name_to_id(&id, repo_.get(), name.c_str());
  if (rc == GIT_ENOTFOUND) return std::nullopt;
  git::Check(rc, "read ref '" + name + "'");
  return id;
}

void Store::EnablePackedWrites() {
  if (pending_) return;
  git_odb* odb_raw = nullptr;
  git::Check(git_repository_odb(&odb_raw, repo_.get()), "open object database");
  git::OdbPtr odb(odb_raw);
  git_odb_backend* backend = nullptr;
  git::PendingObjects* pending = git::PendingObjects::Create(&backend, ObjectsDir());
  // Highest priority, so every new object lands here; the odb owns it.
  int rc = git_odb_add_backend(odb.get(), backend, 1000);
  if (rc < 0) backend->free(backend);
  git::Check(rc, "add pending object store");
  pending_ = pending;
}

std::string Store::ObjectsDir() const { return std::string(git_repository_commondir(repo_.get())) + "objects"; }

void Store::FlushPackedWrites() {
  if (!pending_ || pending_->empty()) return;
  // A few objects (a tag after a large write) are written loose, as any
  // small write is: a pack per ref update would leave one pack per tag
  // of a large publish, and every object lookup scans all packs.
  constexpr std::size_t kSmallestPack = 16;
  if (pending_->size() < kSmallestPack) {
    git_odb* loose_raw = nullptr;
    git::Check(git_odb_open(&loose_raw, ObjectsDir().c_str()), "open object database");
    git::OdbPtr loose(loose_raw);
    pending_->ForEach([&](const git::PackObject& o) {
      git_oid id;
      git::Check(git_odb_write(&id, loose.get(), o.data.data(), o.data.size(), o.type), "write object");
    });
    pending_->Clear();
    return;
  }
  git_odb* odb_raw = nullptr;
  git::Check(git_repository_odb(&odb_raw, repo_.get()), "open object database");
  git::OdbPtr odb(odb_raw);
  git_odb_writepack* raw = nullptr;
  git::Check(git_odb_write_pack(&raw, odb.get(), nullptr, nullptr), "start pack");
  git::OdbWritepackPtr writer(raw);
  git_indexer_progress stats{};
  pending_->WritePack([&](std::string_view bytes) {
    git::Check(writer->append(writer.get(), bytes.data(), bytes.size(), &stats), "write pack");
  });
  git::Check(writer->commit(writer.get(), &stats), "finish pack");
  pending_->Clear();
}

void Store::UpdateRef(const std::string& name, const git_oid& target, const std::optional<git_oid>& expected,
                      const std::string& log_message) {
  ThrowIfCancelled();   // the last safe point before the commit point
  FlushPackedWrites();  // objects are durable before any ref names them
  git_oid zero;
  std::memset(&zero, 0, sizeof zero);
  const git_oid* current = expected ? &*expected : &zero;
  // libgit2 fails at once on a held lock; like git, retry for about a second
  // before reporting the lock, which is never removed by flowrepo.
  int rc = 0;
  for (int attempt = 0;; ++attempt) {
    git_reference* raw = nullptr;
    rc = git_reference_create_matching(&raw, repo_.get(), name.c_str(), &target,
                                       /*force=*/1, current, log_message.c_str());
    git::ReferencePtr ref(raw);
    if (rc != GIT_ELOCKED || attempt == kLockRetries) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + 5 * attempt));
  }
  if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS) {
    throw Error(ErrorCode::kConflict, "'" + name + "' changed concurrently; nothing was written, re-run the command");
  }
  if (rc == GIT_ELOCKED) throw LockedError(name);
  git::Check(rc, "update '" + name + "'");
}

void Store::DeleteRef(const std::string& name, const git_oid& expected) {
  git_reference* raw = nullptr;
  git::Check(git_reference_lookup(&raw, repo_.get(), name.c_str()), "look up '" + name + "'");
  git::ReferencePtr ref(raw);
  const git_oid* current = git_reference_target(ref.get());
  if (!current || !git_oid_equal(current, &expected)) {
    throw Error(ErrorCode::kConflict, "'" + name + "' changed concurrently; nothing was written, re-run the command");
  }
  int rc = 0;
  for (int attempt = 0;; ++attempt) {
    rc = git_reference_delete(ref.get());
    if (rc != GIT_ELOCKED || attempt == kLockRetries) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + 5 * attempt));
  }
  if (rc == GIT_ELOCKED) throw LockedError(name);
  if (rc == GIT_EMODIFIED) {
    throw Error(ErrorCode::kConflict, "'" + name + "' changed concurrently; nothing was written, re-run the command");
  }
  git::Check(rc, "delete '" + name + "'");
}

std::vector<std::pair<std::string, git_oid>> Store::ListRefs(const std::string& glob) const {
  git_reference_iterator* raw = nullptr;
  git::Check(git_reference_iterator_glob_new(&raw, repo_.get(), glob.c_str()), "list refs");
  git::ReferenceIteratorPtr it(raw);
  std::vector<std::pair<std::string, git_oid>> refs;
  git_reference* ref_raw = nullptr;
  int rc;
  while ((rc = git_reference_next(&ref_raw, it.get())) == 0) {
    git::ReferencePtr ref(ref_raw);
    if (const git_oid* id = git_reference_target(ref.get())) {
      refs.emplace_back(git_reference_name(ref.get()), *id);
    }
  }
  if (rc != GIT_ITEROVER) git::Check(rc, "list refs");
  return refs;
}

bool Store::IsValidRefName(const std::string& name) {
  int valid = 0;
  return git_reference_name_is_valid(&valid, name.c_str()) == 0 && valid;
}

git::CommitPtr Store::LookupCommit(const git_oid& id) const {
  git_commit* raw = nullptr;
  git::Check(git_commit_lookup(&raw, repo_.get(), &id), "look up commit " + git::OidHex(id));
  return git::CommitPtr(raw);
}

git::TreePtr Store::LookupTree(const git_oid& id) const {
  git_tree* raw = nullptr;
  git::Check(git_tree_lookup(&raw, repo_.get(), &id), "look up tree " + git::OidHex(id));
  return git::TreePtr(raw);
}

git::TreePtr Store::CommitTree(const git_oid& commit) const { return LookupTree(CommitTreeId(commit)); }

git_oid Store::CommitTreeId(const git_oid& commit) const { return *git_commit_tree_id(LookupCommit(commit).get()); }

std::optional<TreeEntry> Store::EntryAt(const git_tree* tree, const std::string& path) const {
  git_tree_entry* raw = nullptr;
  int rc = git_tree_entry_bypath(&raw, tree, path.c_str());
  if (rc == GIT_ENOTFOUND) return std::nullopt;
  git::Check(rc, "read '" + path + "'");
  git::TreeEntryPtr entry(raw);
  return TreeEntry{*git_tree_entry_id(entry.get()), git_tree_entry_filemode(entry.get())};
}

std::string Store::ReadBlob(const git_oid& id) const {
  git_blob* raw = nullptr;
  git::Check(git_blob_lookup(&raw, repo_.get(), &id), "read blob " + git::OidHex(id));
  git::BlobPtr blob(raw);
  return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                     static_cast<std::size_t>(git_blob_rawsize(blob.get())));
}

git_oid Store::WriteBlob(std::string_view content) {
  git_oid id;
  git::Check(git_blob_create_from_buffer(&id, repo_.get(), content.data(), content.size()), "write blob");
  return id;
}

git_oid Store::EditTree(const std::optional<git_oid>& base, const TreeEdits& edits) {
  return EditTree(base, edits.begin(), edits.end(), 0);
}

// The edits below one folder are a contiguous range of the sorted map (a
// common prefix sorts together), so each level works on its range in
// place: no copy of the edits per level, which for a write of 100,000
// flows held the 300,000 paths once per level of depth.
git_oid Store::EditTree(const std::optional<git_oid>& base, TreeEdits::const_iterator first,
                        TreeEdits::const_iterator last, std::size_t skip) {
  git::TreePtr base_tree;
  if (base) base_tree = LookupTree(*base);
  git_treebuilder* raw = nullptr;
  git::Check(git_treebuilder_new(&raw, repo_.get(), base_tree.get()), "build tree");
  git::TreeBuilderPtr builder(raw);

  // Entries of this folder first (a removed folder goes before what is
  // written into it again), then once per child folder.
  for (auto it = first; it != last; ++it) {
    const std::string_view rest = std::string_view(it->first).substr(skip);
    if (rest.find('/') != std::string_view::npos) continue;
    const std::string name(rest);
    if (it->second) {
      git::Check(git_treebuilder_insert(nullptr, builder.get(), name.c_str(), &it->second->id, it->second->mode),
                 "add '" + name + "' to tree");
    } else if (git_treebuilder_get(builder.get(), name.c_str())) {
      git::Check(git_treebuilder_remove(builder.get(), name.c_str()), "remove '" + name + "'");
    }
  }
  for (auto it = first; it != last;) {
    const std::string_view rest = std::string_view(it->first).substr(skip);
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) {
      ++it;
      continue;
    }
    const std::string name(rest.substr(0, slash));
    const std::string_view prefix = std::string_view(it->first).substr(0, skip + slash + 1);
    auto end = it;
    while (end != last && std::string_view(end->first).substr(0, prefix.size()) == prefix) ++end;
    std::optional<git_oid> child_base;
    if (const git_tree_entry* e = git_treebuilder_get(builder.get(), name.c_str())) {
      if (git_tree_entry_type(e) == GIT_OBJECT_TREE) child_base = *git_tree_entry_id(e);
    }
    git_oid child = EditTree(child_base, it, end, prefix.size());
    git::TreePtr child_tree = LookupTree(child);
    if (git_tree_entrycount(child_tree.get()) == 0) {
      if (git_treebuilder_get(builder.get(), name.c_str())) {
        git::Check(git_treebuilder_remove(builder.get(), name.c_str()), "remove '" + name + "'");
      }
    } else {
      git::Check(git_treebuilder_insert(nullptr, builder.get(), name.c_str(), &child, GIT_FILEMODE_TREE),
                 "add '" + name + "' to tree");
    }
    it = end;
  }
  git_oid id;
  git::Check(git_treebuilder_write(&id, builder.get()), "write tree");
  return id;
}

git_oid Store::CreateCommit(const git_oid& tree, const std::vector<git_oid>& parents, const std::string& message,
                            const git_signature* who) {
  git::TreePtr tree_obj = LookupTree(tree);
  std::vector<git::CommitPtr> parent_objs;
  std::vector<const git_commit*> parent_ptrs;
  for (const auto& p : parents) {
    parent_objs.push_back(LookupCommit(p));
    parent_ptrs.push_back(parent_objs.back().get());
  }
  git_oid id;
  git::Check(git_commit_create(&id, repo_.get(), nullptr, who, who, "UTF-8", message.c_str(), tree_obj.get(),
                               parent_ptrs.size(), parent_ptrs.data()),
             "write commit");
  return id;
}

git_oid Store::WriteTagObject(const std::string& name, const git_commit* commit, const git_signature* who,
                              const std::string& message) {
  const std::string short_name = name.substr(std::string_view("refs/tags/").size());
  git_oid tag_id;
  git::Check(git_tag_annotation_create(&tag_id, repo_.get(), short_name.c_str(),
                                       reinterpret_cast<const git_object*>(commit), who, message.c_str()),
             "write tag '" + short_name + "'");
  return tag_id;
}

void Store::CreatePackedRefs(const std::vector<git::PackedRef>& refs) {
  ThrowIfCancelled();
  FlushPackedWrites();  // objects are durable before any ref names them
  git::AddPackedRefs(git_repository_commondir(repo_.get()), refs);
}

void Store::PackRefs() {
  git_refdb* raw = nullptr;
  git::Check(git_repository_refdb(&raw, repo_.get()), "open refs");
  std::unique_ptr<git_refdb, Free<git_refdb_free>> refdb(raw);
  git::Check(git_refdb_compress(refdb.get()), "pack refs");
  RemoveEmptyRefDirectories(git_repository_commondir(repo_.get()));
}

std::optional<git_oid> Store::MergeBase(const git_oid& a, const git_oid& b) const {
  git_oid out;
  int rc = git_merge_base(&out, repo_.get(), &a, &b);
  if (rc == GIT_ENOTFOUND) return std::nullopt;
  git::Check(rc, "find merge base");
  return out;
}

bool Store::IsAncestor(const git_oid& ancestor, const git_oid& descendant) const {
  if (git_oid_equal(&ancestor, &descendant)) return true;
  int rc = git_graph_descendant_of(repo_.get(), &descendant, &ancestor);
  git::Check(rc, "compare commits");
  return rc == 1;
}

git::SignaturePtr Store::Signature(const std::string& user) const {
  std::string email = user.find('@') == std::string::npos ? user + "@flowrepo.local" : user;
  std::string name = user;
  if (ConfigString("user.email") == user) {
    std::string configured = ConfigString("user.name");
    if (!configured.empty()) name = configured;
  }
  git_signature* raw = nullptr;
  git::Check(git_signature_now(&raw, name.c_str(), email.c_str()), "make signature for '" + user + "'");
  return git::SignaturePtr(raw);
}

std::string Store::ConfigString(const char* key) const {
  git_config* raw = nullptr;
  if (git_repository_config_snapshot(&raw, repo_.get()) < 0) return {};
  git::ConfigPtr config(raw);
  const char* value = nullptr;
  if (git_config_get_string(&value, config.get(), key) < 0 || !value) return {};
  return value;
}

}  // namespace flowrepo
