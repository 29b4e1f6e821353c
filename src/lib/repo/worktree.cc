// Work trees following the branches flowrepo moves: see worktree.h.

#include "repo/worktree.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "flowrepo/error.h"

namespace flowrepo {
namespace {

constexpr const char* kJournalName = "flowrepo-checkout";

// One file that differs between the two commits of a move.
struct PathChange {
  std::string path;
  std::optional<git_oid> before;
  std::optional<git_oid> after;
};

std::string JoinDir(const char* dir) {
  std::string out = dir ? dir : "";
  if (!out.empty() && out.back() != '/') out += '/';
  return out;
}

git::RepositoryPtr OpenRepository(const std::string& path) {
  git_repository* raw = nullptr;
  git::Check(git_repository_open(&raw, path.c_str()), "open repository '" + path + "'");
  return git::RepositoryPtr(raw);
}

WorkTree MakeWorkTree(git::RepositoryPtr repo) {
  WorkTree tree;
  tree.path = JoinDir(git_repository_workdir(repo.get()));
  tree.git_dir = JoinDir(git_repository_path(repo.get()));
  tree.repo = std::move(repo);
  return tree;
}

// Every work tree of the repository: the main one (unless bare) and the
// linked ones git still knows.
std::vector<WorkTree> AllWorkTrees(const Store& store) {
  std::vector<WorkTree> out;
  git::RepositoryPtr main = OpenRepository(git_repository_commondir(store.raw()));
  git_strarray names = {nullptr, 0};
  git::Check(git_worktree_list(&names, main.get()), "list work trees");
  for (size_t i = 0; i < names.count; ++i) {
    git_worktree* raw = nullptr;
    if (git_worktree_lookup(&raw, main.get(), names.strings[i]) < 0) continue;
    std::unique_ptr<git_worktree, Free<git_worktree_free>> wt(raw);
    if (git_worktree_validate(wt.get()) < 0) continue;  // its folder is gone: prunable
    git_repository* repo = nullptr;
    if (git_repository_open_from_worktree(&repo, wt.get()) < 0) continue;
    out.push_back(MakeWorkTree(git::RepositoryPtr(repo)));
  }
  git_strarray_dispose(&names);
  if (!git_repository_is_bare(main.get())) out.push_back(MakeWorkTree(std::move(main)));
  return out;
}

// The branch HEAD names in \a repo, or "" when HEAD is detached.
std::string HeadBranch(git_repository* repo) {
  git_reference* raw = nullptr;
  if (git_reference_lookup(&raw, repo, "HEAD") < 0) return "";
  git::ReferencePtr head(raw);
  if (git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC) return "";
  return git_reference_symbolic_target(head.get());
}

// The branch a work tree is on: HEAD's, or during a rebase (HEAD detached)
// the branch being rebased, which git still counts as checked out there.
std::string BranchOf(git_repository* repo) {
  std::string head = HeadBranch(repo);
  if (!head.empty()) return head;
  std::string dir = JoinDir(git_repository_path(repo));
  for (const char* file : {"rebase-merge/head-name", "rebase-apply/head-name"}) {
    std::ifstream in(dir + file);
    std::string name;
    if (in >> name) return name;
  }
  return "";
}

const char* StateName(int state) {
  switch (state) {
    case GIT_REPOSITORY_STATE_MERGE: return "merge";
    case GIT_REPOSITORY_STATE_REVERT:
    case GIT_REPOSITORY_STATE_REVERT_SEQUENCE: return "revert";
    case GIT_REPOSITORY_STATE_CHERRYPICK:
    case GIT_REPOSITORY_STATE_CHERRYPICK_SEQUENCE: return "cherry-pick";
    case GIT_REPOSITORY_STATE_BISECT: return "bisect";
    case GIT_REPOSITORY_STATE_APPLY_MAILBOX:
    case GIT_REPOSITORY_STATE_APPLY_MAILBOX_OR_REBASE: return "git am";
    default: return "rebase";
  }
}

// Every file below \a tree (a tree entry's id), as added (\a added) or
// removed, for ChangedFiles.
void AllFiles(const Store& store, const git_oid& tree, const std::string& prefix, bool added,
              std::vector<PathChange>& out) {
  git::TreePtr t = store.LookupTree(tree);
  for (std::size_t i = 0; i < git_tree_entrycount(t.get()); ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(t.get(), i);
    const std::string path = prefix + git_tree_entry_name(e);
    if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
      AllFiles(store, *git_tree_entry_id(e), path + "/", added, out);
    } else {
      out.push_back({path, added ? std::nullopt : std::optional(*git_tree_entry_id(e)),
                     added ? std::optional(*git_tree_entry_id(e)) : std::nullopt});
    }
  }
}

// The files that differ between trees \a from and \a to, sub-trees with the
// same id skipped: the cost follows the change, not the repository.
void DiffTrees(const Store& store, const git_oid& from, const git_oid& to, const std::string& prefix,
               std::vector<PathChange>& out) {
  struct Sides {
    const git_tree_entry* before = nullptr;
    const git_tree_entry* after = nullptr;
  };
  git::TreePtr a = store.LookupTree(from), b = store.LookupTree(to);
  std::map<std::string, Sides> entries;
  for (std::size_t i = 0; i < git_tree_entrycount(a.get()); ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(a.get(), i);
    entries[git_tree_entry_name(e)].before = e;
  }
  for (std::size_t i = 0; i < git_tree_entrycount(b.get()); ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(b.get(), i);
    entries[git_tree_entry_name(e)].after = e;
  }
  auto is_tree = [](const git_tree_entry* e) { return e && git_tree_entry_type(e) == GIT_OBJECT_TREE; };
  for (const auto& [name, sides] : entries) {
    const git_tree_entry *x = sides.before, *y = sides.after;
    if (x && y && git_oid_equal(git_tree_entry_id(x), git_tree_entry_id(y)) &&
        git_tree_entry_filemode(x) == git_tree_entry_filemode(y)) {
      continue;
    }
    const std::string path = prefix + name;
    if (is_tree(x) && is_tree(y)) {
      DiffTrees(store, *git_tree_entry_id(x), *git_tree_entry_id(y), path + "/", out);
      continue;
    }
    if (is_tree(x)) AllFiles(store, *git_tree_entry_id(x), path + "/", false, out);
    if (is_tree(y)) AllFiles(store, *git_tree_entry_id(y), path + "/", true, out);
    std::optional<git_oid> before, after;
    if (x && !is_tree(x)) before = *git_tree_entry_id(x);
    if (y && !is_tree(y)) after = *git_tree_entry_id(y);
    if (before || after) out.push_back({path, before, after});
  }
}

std::vector<PathChange> ChangedFiles(const Store& store, const git_oid& from, const git_oid& to) {
  std::vector<PathChange> out;
  DiffTrees(store, store.CommitTreeId(from), store.CommitTreeId(to), "", out);
  return out;
}

bool Allowed(const std::optional<git_oid>& state, const std::vector<std::optional<git_oid>>& ok) {
  for (const auto& allowed : ok) {
    if (state.has_value() != allowed.has_value()) continue;
    if (!state || git_oid_equal(&*state, &*allowed)) return true;
  }
  return false;
}

// The blob id of the index entry at \a path (stage 0), or std::nullopt.
std::optional<git_oid> IndexBlob(git_index* index, const std::string& path) {
  const git_index_entry* entry = git_index_get_bypath(index, path.c_str(), 0);
  if (!entry) return std::nullopt;
  return entry->id;
}

// The blob id the file at \a path would have (after git's filters), or
// std::nullopt when there is no file. A directory in its place has an id
// no commit holds.
std::optional<git_oid> FileBlob(const WorkTree& tree, const std::string& path) {
  std::string full = tree.path + path;
  struct stat st;
  if (lstat(full.c_str(), &st) != 0) return std::nullopt;
  git_oid id{};
  if (!S_ISREG(st.st_mode) ||
      git_repository_hashfile(&id, tree.repo.get(), full.c_str(), GIT_OBJECT_BLOB, path.c_str()) < 0) {
    id.id[0] = 0xff;  // cannot match a tree entry in practice; reported as changed
    id.id[1] = 0xfe;
  }
  return id;
}

// Paths of \a changes whose index entry, or whose file, is in none of the
// states \a allowed gives for it.
struct Unexpected {
  std::string index;               ///< the first such index entry, or ""
  std::vector<std::string> files;  ///< every such file
};

template <typename AllowedStates>
Unexpected FindUnexpected(const WorkTree& tree, const std::vector<PathChange>& changes, AllowedStates allowed) {
  git_index* raw = nullptr;
  git::Check(git_repository_index(&raw, tree.repo.get()), "read index of '" + tree.path + "'");
  git::IndexPtr index(raw);
  Unexpected out;
  if (git_index_has_conflicts(index.get())) out.index = "(the index has unresolved conflicts)";
  for (const auto& change : changes) {
    std::vector<std::optional<git_oid>> ok = allowed(change);
    if (out.index.empty() && !Allowed(IndexBlob(index.get(), change.path), ok)) out.index = change.path;
    if (!Allowed(FileBlob(tree, change.path), ok)) out.files.push_back(change.path);
  }
  return out;
}

// Copies \a files of \a tree under <git dir>/flowrepo-repair/<time>/ before
// a repair overwrites them: a file a killed checkout was writing and one
// the user changed after the crash look the same. Returns the folder.
std::string BackUp(const WorkTree& tree, const std::vector<std::string>& files) {
  std::string dir = tree.git_dir + "flowrepo-repair/" + std::to_string(time(nullptr)) + "/";
  for (const auto& file : files) {
    std::error_code ec;
    std::filesystem::path source = tree.path + file, target = dir + file;
    if (!std::filesystem::is_regular_file(source, ec)) continue;  // nothing there to keep
    std::filesystem::create_directories(target.parent_path(), ec);
    std::filesystem::copy_file(source, target, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) throw Error(ErrorCode::kIo, "cannot back up '" + file + "' to '" + target.string() + "': " + ec.message());
  }
  return dir;
}

void CheckoutPaths(const Store& store, const WorkTree& tree, const git_oid& from, const git_oid& to,
                   const std::vector<std::string>& paths) {
  if (paths.empty()) return;  // an empty list would mean every path
  // The work tree's own handle must own the trees it checks out.
  auto tree_of = [&](const git_oid& commit) {
    git_oid id = store.CommitTreeId(commit);
    git_tree* raw = nullptr;
    git::Check(git_tree_lookup(&raw, tree.repo.get(), &id), "look up tree " + git::OidHex(id));
    return git::TreePtr(raw);
  };
  git::TreePtr baseline = tree_of(from);
  git::TreePtr target = tree_of(to);
  std::vector<char*> raw_paths;
  for (const auto& p : paths) raw_paths.push_back(const_cast<char*>(p.c_str()));
  git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
  // FORCE is safe here: Plan (or the repair's own check) found every one of
  // these paths clean or already at the target.
  opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
  opts.paths = {raw_paths.data(), raw_paths.size()};
  opts.baseline = baseline.get();
  int rc = git_checkout_tree(tree.repo.get(), reinterpret_cast<git_object*>(target.get()), &opts);
  std::string lock = tree.git_dir + "index.lock";
  struct stat st;
  if (rc < 0 && stat(lock.c_str(), &st) == 0) {
    throw Error(ErrorCode::kConflict, "the index of work tree '" + tree.path + "' is locked by another writer (" +
                                          lock +
                                          "); re-run the command, or remove the lock if no git "
                                          "or flowrepo process is running");
  }
  git::Check(rc, "update work tree '" + tree.path + "'");
}

std::vector<std::string> PathsOf(const std::vector<PathChange>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(c.path);
  return out;
}

struct Journal {
  std::string ref;
  git_oid from{};
  git_oid to{};
  long pid = 0;
};

std::optional<Journal> ReadJournal(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  Journal j;
  std::string from, to;
  if (!(in >> j.ref >> from >> to >> j.pid)) return Journal{};  // torn write: nothing moved yet
  try {
    j.from = git::OidFromHex(from);
    j.to = git::OidFromHex(to);
  } catch (const Error&) {
    return Journal{};
  }
  return j;
}

bool ProcessAlive(long pid) {
  return pid > 0 && pid != getpid() && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

// Creates the journal, waiting up to a few seconds while another process
// holds one for this work tree (it is moving the same branch: once it is
// done, this process's compare-and-swap reports the conflict as usual).
int CreateJournal(const std::string& path) {
  using Clock = std::chrono::steady_clock;
  const auto give_up = Clock::now() + std::chrono::seconds(3);
  for (;;) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0 || errno != EEXIST || Clock::now() > give_up) return fd;
    std::optional<Journal> other = ReadJournal(path);
    if (other && other->pid > 0 && !ProcessAlive(other->pid)) {
      errno = EEXIST;  // a killed process's: for 'flowrepo repair'
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void WriteJournal(const std::string& path, const std::string& ref, const git_oid& from, const git_oid& to) {
  int fd = CreateJournal(path);
  if (fd < 0) {
    if (errno == EEXIST) {
      throw Error(ErrorCode::kConflict, "work tree update journal '" + path +
                                            "' exists: another flowrepo process is updating "
                                            "this work tree, or one was killed (then run "
                                            "'flowrepo repair'); run the command again");
    }
    throw Error(ErrorCode::kIo, "cannot write '" + path + "': " + std::strerror(errno));
  }
  std::string text = ref + "\n" + git::OidHex(from) + "\n" + git::OidHex(to) + "\n" + std::to_string(getpid()) + "\n";
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  close(fd);
  if (!ok) {
    unlink(path.c_str());
    throw Error(ErrorCode::kIo, "cannot write '" + path + "'");
  }
}

// Finishes one journaled update: brings the work tree from the journal's
// old commit to where the ref is now. Returns what was done.
std::string FinishJournaled(const Store& store, const WorkTree& tree, const Journal& j) {
  if (j.ref.empty()) return "dropped an unfinished journal";
  std::optional<git_oid> now = store.ReadRef(j.ref);
  if (!now || git_oid_equal(&*now, &j.from)) {
    return "the update of '" + j.ref + "' never happened; nothing to do";
  }
  if (HeadBranch(tree.repo.get()) != j.ref) {
    return "'" + j.ref + "' is no longer checked out here; nothing to do";
  }
  std::vector<PathChange> changes = ChangedFiles(store, j.from, *now);
  git::TreePtr journal_to = store.CommitTree(j.to);
  Unexpected unexpected = FindUnexpected(tree, changes, [&](const PathChange& c) {
    std::vector<std::optional<git_oid>> ok{c.before, c.after};
    if (auto entry = store.EntryAt(journal_to.get(), c.path)) ok.push_back(entry->id);
    return ok;
  });
  if (!unexpected.index.empty()) {
    throw Error(ErrorCode::kConflict, "work tree '" + tree.path + "': an interrupted flowrepo update of '" + j.ref +
                                          "' cannot be finished: '" + unexpected.index +
                                          "' was staged since; save that change elsewhere, run 'git reset --keep " +
                                          j.ref.substr(std::string("refs/heads/").size()) +
                                          "', then 'flowrepo repair'");
  }
  std::string kept;
  if (!unexpected.files.empty()) {
    kept = "; " + std::to_string(unexpected.files.size()) +
           " file(s) that differed (half-written, or changed since) kept in " + BackUp(tree, unexpected.files);
  }
  CheckoutPaths(store, tree, j.from, *now, PathsOf(changes));
  return "brought the work tree and index of '" + j.ref + "' to " + git::OidHex(*now).substr(0, 7) + " (" +
         std::to_string(changes.size()) + " file(s))" + kept;
}

// Whether any work tree has a journal: a few stat calls, so that the check
// before every write costs nothing when there is nothing to repair.
bool AnyJournal(const Store& store) {
  std::string common = JoinDir(git_repository_commondir(store.raw()));
  struct stat st;
  if (stat((common + kJournalName).c_str(), &st) == 0) return true;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir((common + "worktrees").c_str()), closedir);
  if (!dir) return false;
  while (const dirent* entry = readdir(dir.get())) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (stat((common + "worktrees/" + name + "/" + kJournalName).c_str(), &st) == 0) return true;
  }
  return false;
}

}  // namespace

std::vector<WorkTree> WorkTreesOn(const Store& store, const std::string& ref) {
  std::vector<WorkTree> out;
  std::string common = JoinDir(git_repository_commondir(store.raw()));
  struct stat st;
  if (stat((common + "worktrees").c_str(), &st) != 0) {
    // No linked work trees: only the store's own HEAD can name the branch,
    // which spares opening the repository again on every write.
    if (store.bare() || BranchOf(store.raw()) != ref) return out;
  }
  for (auto& tree : AllWorkTrees(store)) {
    if (BranchOf(tree.repo.get()) == ref) out.push_back(std::move(tree));
  }
  return out;
}

WorkTreeSync WorkTreeSync::Plan(const Store& store, const std::string& ref, const git_oid& from, const git_oid& to) {
  WorkTreeSync sync;
  sync.store_ = &store;
  sync.ref_ = ref;
  sync.from_ = from;
  sync.to_ = to;
  std::vector<WorkTree> trees = WorkTreesOn(store, ref);
  if (trees.empty()) return sync;
  std::vector<PathChange> changes = ChangedFiles(store, from, to);
  for (auto& tree : trees) {
    int state = git_repository_state(tree.repo.get());
    if (state != GIT_REPOSITORY_STATE_NONE) {
      throw Error(ErrorCode::kConflict, "work tree '" + tree.path + "' has '" + ref +
                                            "' checked out and is in the middle of a " + StateName(state) +
                                            "; finish or abort it, then run the command again");
    }
    Unexpected unexpected = FindUnexpected(tree, changes, [](const PathChange& c) {
      return std::vector<std::optional<git_oid>>{c.before, c.after};
    });
    std::string unsafe = !unexpected.index.empty()  ? unexpected.index
                         : unexpected.files.empty() ? std::string()
                                                    : unexpected.files.front();
    if (!unsafe.empty()) {
      throw Error(ErrorCode::kConflict, "work tree '" + tree.path + "' has '" + ref +
                                            "' checked out with changes in '" + unsafe +
                                            "' that this update would overwrite; commit or stash them, then "
                                            "run the command again");
    }
    Planned planned{std::move(tree), PathsOf(changes), "", false};
    planned.journal = planned.tree.git_dir + kJournalName;
    sync.trees_.push_back(std::move(planned));
  }
  return sync;
}

WorkTreeSync::~WorkTreeSync() {
  for (auto& t : trees_) {
    if (t.journaled) unlink(t.journal.c_str());
  }
}

std::vector<std::string> WorkTreeSync::paths() const {
  std::vector<std::string> out;
  for (const auto& t : trees_) out.push_back(t.tree.path);
  return out;
}

void WorkTreeSync::Begin() {
  for (auto& t : trees_) {
    WriteJournal(t.journal, ref_, from_, to_);
    t.journaled = true;
  }
}

void WorkTreeSync::Finish() {
  for (auto& t : trees_) {
    // The ref has moved: from here on the journal belongs to the repair,
    // should the update fail.
    t.journaled = false;
    CheckoutPaths(*store_, t.tree, from_, to_, t.changed);
    unlink(t.journal.c_str());
  }
}

std::vector<WorkTreeRepair> RepairWorkTrees(const Store& store) {
  std::vector<WorkTreeRepair> done;
  if (!AnyJournal(store)) return done;
  for (const auto& tree : AllWorkTrees(store)) {
    std::string journal_path = tree.git_dir + kJournalName;
    std::optional<Journal> journal = ReadJournal(journal_path);
    if (!journal || ProcessAlive(journal->pid)) continue;
    std::string message = FinishJournaled(store, tree, *journal);
    unlink(journal_path.c_str());
    done.push_back({tree.path, journal->ref, message});
  }
  return done;
}

std::vector<WorkTreeRepair> StaleWorkTrees(const Store& store) {
  std::vector<WorkTreeRepair> out;
  if (!AnyJournal(store)) return out;
  for (const auto& tree : AllWorkTrees(store)) {
    std::optional<Journal> journal = ReadJournal(tree.git_dir + kJournalName);
    if (!journal || ProcessAlive(journal->pid)) continue;
    out.push_back({tree.path, journal->ref,
                   "an interrupted flowrepo update left the work tree and index behind its "
                   "branch; run 'flowrepo repair'"});
  }
  return out;
}

}  // namespace flowrepo
