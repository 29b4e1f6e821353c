// `validate`: the repository-facing entry points of validation.
//
// Every path ends in ValidateFlow (flow_validator.cc) for each flow and in
// ValidateSettingsDocument for workspace settings; what differs is where the
// flows come from and what they are checked against:
//
// - a folder on disk: ReadFlowFolders, with the workspace head of a
//   repository (when there is one) as the place the flows will live;
// - a revision: every flow of the commit, against that commit;
// - staged changes: the git index file is compared with HEAD's tree
//   (git::IndexFile skips every folder its cache-tree records as unchanged,
//   without reading a blob), the changed paths are mapped to flow folders
//   of the index, and only those flows' blobs are read and checked,
//   against the flow ids and settings the index holds. A commit touching
//   one flow in a repository of 10,000 reads three blobs.

#include "flowrepo/validate.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "file_io.h"
#include "flow/names.h"
#include "flowrepo/error.h"
#include "git/index_file.h"
#include "repo/repository_impl.h"
#include "validate/flow_validator.h"
#include "validate/secrets.h"

namespace flowrepo {
namespace {

namespace fs = std::filesystem;

std::string FlowFolderId(std::string_view folder) {
  auto slash = folder.rfind('/');
  return std::string(slash == std::string_view::npos ? folder : folder.substr(slash + 1));
}

// "flows/<group>/<id>" -> group.
std::string FlowFolderGroup(std::string_view folder) {
  std::string_view rest = folder.substr(kFlowsDir.size() + 1);
  auto slash = rest.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(rest.substr(0, slash));
}

// Settings document problems, plus the parsed settings when usable.
std::optional<WorkspaceSettings> CheckSettings(const std::string& text, const std::string& file,
                                               std::vector<Problem>& problems) {
  std::size_t before = problems.size();
  ValidateSettingsDocument(text, file, problems);
  if (problems.size() != before) {
    for (std::size_t i = before; i < problems.size(); ++i) {
      if (problems[i].rule == "json") return std::nullopt;
    }
  }
  try {
    return WorkspaceSettings::Parse(text);
  } catch (const Error&) {
    return std::nullopt;
  }
}

// The report with any secret in a flow folder, file or message masked (a
// group or flow id can be a token: "flows/npm_...").
ValidationReport Masked(ValidationReport report) {
  for (auto& folder : report.flows) folder = MaskSecretsInPath(folder);
  for (auto& p : report.problems) MaskSecrets(p);
  return report;
}

// Adds problems for two flows sharing an id.
void CheckUniqueIds(const std::vector<Flow>& flows, std::vector<Problem>& problems) {
  std::map<std::string, std::string> seen;
  for (const auto& f : flows) {
    auto [it, fresh] = seen.emplace(f.summary.id, f.summary.path());
    if (!fresh) {
      problems.push_back({f.summary.path(), "", "duplicate-flow-id",
                          "flow id '" + f.summary.id + "' is also used by '" + it->second + "'"});
    }
  }
}

// Adds a problem for each clash of names in one folder (flow/names.h).
void AddClashes(const std::vector<FlowPlace>& before, const std::vector<FlowPlace>& after,
                std::vector<Problem>& problems) {
  for (const auto& clash : FindNameClashes(before, after)) {
    problems.push_back(NameClashProblem(clash));
  }
}

std::vector<FlowPlace> PlacesOf(const std::vector<Flow>& flows) {
  std::vector<FlowPlace> places;
  for (const auto& f : flows) places.push_back({f.summary.group, f.summary.id});
  return places;
}

}  // namespace

bool IsPackagePath(std::string_view path) {
  auto ends = [&](std::string_view suffix) {
    return path.size() > suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
  };
  return ends(".studiopkg") || ends(".zip");
}

ValidationReport ValidateFolder(const std::string& dir, const ValidationTarget& target) {
  ValidationReport report;
  report.target = "folder '" + dir + "'";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(ErrorCode::kNotFound, "'" + dir + "' is not a directory");
  fs::path root = fs::path(dir).lexically_normal();
  if (!root.has_filename()) root = root.parent_path();

  // A work tree root: flows/ and .flowrepo/workspace.json.
  fs::path settings_path = root / std::string(kSettingsPath);
  bool tree_root = fs::is_directory(root / std::string(kFlowsDir), ec) && fs::exists(settings_path, ec);
  fs::path flows_root = tree_root ? root / std::string(kFlowsDir) : root;
  std::vector<Flow> flows = ReadFlowFolders(flows_root.string(), "");

  // Where each flow is on disk, for the problem file names.
  std::map<std::string, std::string> disk;
  bool single = fs::exists(flows_root / std::string(kAppDefinitionFile), ec);
  for (const auto& f : flows) {
    fs::path folder = single ? flows_root : flows_root / f.summary.group / f.summary.id;
    disk[f.summary.path()] = folder.lexically_normal().string();
  }

  std::optional<WorkspaceSettings> settings;
  if (tree_root) {
    settings = CheckSettings(ReadWholeFile(settings_path), settings_path.string(), report.problems);
  }
  std::set<std::string> ids;
  bool have_ids = tree_root;
  for (const auto& f : flows) ids.insert(f.summary.id);

  if (!target.repository.empty()) {
    try {
      FlowRepository::Impl impl{Store::Open(target.repository), ""};
      if (auto head = impl.store.ReadRef(WorkspaceRef(target.workspace))) {
        if (!tree_root) {
          for (const auto& [id, loc] : impl.FlowsAt(*head)) ids.insert(id);
          have_ids = true;
        }
        if (!settings) settings = WorkspaceSettings::AtCommit(impl.store, *head);
        report.target += " for workspace '" + target.workspace + "'";
      }
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kNotFound) throw;  // not in a repository: no context
    }
  }

  ValidationContext context{have_ids ? InSet(ids) : nullptr, AvailabilityOf(settings ? &*settings : nullptr),
                            CredentialPolicy::kAllowUnbound};
  CheckUniqueIds(flows, report.problems);
  AddClashes({}, PlacesOf(flows), report.problems);
  for (const auto& f : flows) {
    report.flows.push_back(disk[f.summary.path()]);
    for (auto& p : ValidateFlow(f, context)) report.problems.push_back(std::move(p));
  }
  // Name the files where they are on disk.
  for (auto& p : report.problems) {
    for (const auto& [logical, path] : disk) {
      if (p.file == logical || p.file.rfind(logical + "/", 0) == 0) {
        p.file = path + p.file.substr(logical.size());
        break;
      }
    }
  }
  return Masked(std::move(report));
}

ValidationReport ValidateRevision(const FlowRepository& repo, std::string_view workspace, std::string_view revision) {
  FlowRepository::Impl& impl = ImplOf(repo);
  impl.RequireRole(workspace, Role::kViewer);
  git_oid commit = revision.empty() ? impl.WorkspaceHead(workspace) : impl.ResolveRevision(workspace, "", revision);
  ValidationReport report;
  report.target = "'" + std::string(revision.empty() ? workspace : revision) + "' at " + ShortId(commit);

  git::TreePtr tree = impl.store.CommitTree(commit);
  std::optional<WorkspaceSettings> settings;
  if (auto entry = impl.store.EntryAt(tree.get(), std::string(kSettingsPath))) {
    settings = CheckSettings(impl.store.ReadBlob(entry->id), std::string(kSettingsPath), report.problems);
  }
  std::map<std::string, FlowLocation> index;
  try {
    index = IndexFlows(impl.store, tree.get());
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidData) throw;
    report.problems.push_back({std::string(kFlowsDir), "", "duplicate-flow-id", e.what()});
    return report;
  }
  std::set<std::string> ids;
  for (const auto& [id, loc] : index) ids.insert(id);
  ValidationContext context{InSet(ids), AvailabilityOf(settings ? &*settings : nullptr),
                            CredentialPolicy::kAllowUnbound};
  std::vector<FlowPlace> places;
  for (const auto& [id, loc] : index) places.push_back({loc.group, id});
  AddClashes({}, places, report.problems);
  for (const auto& [id, loc] : index) {
    report.flows.push_back(loc.path);
    for (auto& p : ValidateFlow(ReadFlowAt(impl.store, loc), context)) {
      report.problems.push_back(std::move(p));
    }
  }
  if (revision.empty()) {
    // The workspace's versions: `flowrepo check` says more.
    for (const auto& tag : impl.UnbackedVersionTags(workspace)) {
      report.problems.push_back({tag, "", "unbacked-version-tag",
                                 "no publish commit backs this version tag; it is ignored (see 'flowrepo check')"});
    }
  }
  return Masked(std::move(report));
}

namespace {

// The index to check: GIT_INDEX_FILE when git set one (a commit of given
// paths uses a temporary index), else the repository's. Read directly, or
// by git itself when its layout is one flowrepo does not read (a split or
// sparse index, an extension git added later) or it looks damaged; both
// reasons when git cannot read it either.
git::IndexFile ReadIndex(const Store& store) {
  const char* file = std::getenv("GIT_INDEX_FILE");
  const std::string path = file && *file ? std::string(file) : std::string(git_repository_path(store.raw())) + "index";
  std::string unread;
  try {
    return git::IndexFile::Read(path);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidData) throw;
    unread = e.what();
  }
  try {
    return git::IndexFile::FromGit(git_repository_workdir(store.raw()), path);
  } catch (const Error& e) {
    throw Error(ErrorCode::kInvalidData, unread + "; " + e.what());
  }
}

std::string IndexBlob(const Store& store, const git::IndexFile& index, const std::string& path) {
  const git::IndexFile::Entry* entry = index.Find(path);
  return entry ? store.ReadBlob(entry->id) : std::string();
}

// Writes bytes to a private temporary file removed on destruction.
class TempFile {
 public:
  explicit TempFile(const std::string& bytes, const std::string& suffix) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/flowrepo-staged-XXXXXX" + suffix;
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = mkstemps(buf.data(), static_cast<int>(suffix.size()));
    if (fd < 0) throw Error(ErrorCode::kIo, "cannot create a temporary file in '" + tmpl + "'");
    path_ = buf.data();
    std::size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) {
        ::close(fd);
        std::remove(path_.c_str());
        throw Error(ErrorCode::kIo, "cannot write '" + path_ + "'");
      }
      done += static_cast<std::size_t>(n);
    }
    ::close(fd);
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

namespace {

// What the index changes against HEAD, sorted by kind.
struct StagedChanges {
  std::vector<std::string> flow_paths, deleted_flow_paths, packages;
  bool settings_changed = false;

  bool empty() const {
    return flow_paths.empty() && deleted_flow_paths.empty() && packages.empty() && !settings_changed;
  }
};

const std::string& FlowsPrefix() {
  static const std::string prefix = std::string(kFlowsDir) + "/";
  return prefix;
}

StagedChanges ListStagedChanges(const Store& store, const git::IndexFile& index, const git_tree* head_tree) {
  StagedChanges staged;
  for (const auto& change : index.ChangesAgainst(store.raw(), head_tree)) {
    const std::string& path = change.path;
    if (path.rfind(FlowsPrefix(), 0) == 0) {
      (change.deleted ? staged.deleted_flow_paths : staged.flow_paths).push_back(path);
    } else if (path == kSettingsPath) {
      staged.settings_changed = !change.deleted;
    }
    if (!change.deleted && IsPackagePath(path)) staged.packages.push_back(path);
  }
  return staged;
}

// The flow folders of the index, found by a hash of their id: no string
// is allocated per flow of a repository of 10,000.
class StagedFlows {
 public:
  explicit StagedFlows(const git::IndexFile& index) : index_(index) {
    for (const auto& entry : index.entries()) {
      std::string_view path = entry.path;
      if (path.rfind(FlowsPrefix(), 0) != 0 || path.size() <= AppSuffix().size() ||
          path.substr(path.size() - AppSuffix().size()) != AppSuffix()) {
        continue;
      }
      std::string_view folder = path.substr(0, path.size() - AppSuffix().size());
      by_id_hash_.emplace_back(std::hash<std::string_view>()(folder.substr(folder.rfind('/') + 1)), folder);
    }
    std::sort(by_id_hash_.begin(), by_id_hash_.end());
  }

  static const std::string& AppSuffix() {
    static const std::string suffix = "/" + std::string(kAppDefinitionFile);
    return suffix;
  }

  std::vector<std::string_view> WithId(const std::string& id) const {
    std::vector<std::string_view> found;
    auto [first, last] = std::equal_range(by_id_hash_.begin(), by_id_hash_.end(),
                                          std::pair(std::hash<std::string_view>()(id), std::string_view()),
                                          [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto it = first; it != last; ++it) {
      if (FlowFolderId(it->second) == id) found.push_back(it->second);
    }
    return found;
  }
  bool Exists(const std::string& id) const { return !WithId(id).empty(); }
  bool IsFolder(std::string_view folder) const { return index_.Find(std::string(folder) + AppSuffix()) != nullptr; }
  /// The flow folder holding \a path: the shallowest folder with an app
  /// definition (flow folders never nest).
  std::optional<std::string> FolderOf(const std::string& path) const {
    for (std::size_t slash = path.find('/', FlowsPrefix().size()); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      std::string candidate = path.substr(0, slash);
      if (IsFolder(candidate)) return candidate;
    }
    return std::nullopt;
  }
  /// Every folder (with the hash of its id), in no particular order.
  const std::vector<std::pair<std::size_t, std::string_view>>& Folders() const { return by_id_hash_; }

 private:
  const git::IndexFile& index_;
  std::vector<std::pair<std::size_t, std::string_view>> by_id_hash_;
};

// The flow folders the commit changes, and those it removes whole.
struct ChangedFolders {
  std::set<std::string, std::less<>> changed;
  std::set<std::string> removed;
};

ChangedFolders FoldersOf(const StagedChanges& staged, const StagedFlows& flows) {
  ChangedFolders folders;
  for (const auto& p : staged.flow_paths) {
    if (auto f = flows.FolderOf(p)) folders.changed.insert(*f);
  }
  for (const auto& p : staged.deleted_flow_paths) {
    if (auto f = flows.FolderOf(p)) {
      folders.changed.insert(*f);
    } else {
      // The whole folder is gone: "flows/<group>/<id>/<file>".
      std::string folder = p.substr(0, p.rfind('/'));
      if (!flows.IsFolder(folder)) folders.removed.insert(folder);
    }
  }
  return folders;
}

// The staged workspace settings; their problems are reported when the
// commit changes them.
std::optional<WorkspaceSettings> StagedSettings(const Store& store, const git::IndexFile& index, bool changed,
                                                ValidationReport& report) {
  std::string text = IndexBlob(store, index, std::string(kSettingsPath));
  if (text.empty()) return std::nullopt;
  std::vector<Problem> problems;
  std::optional<WorkspaceSettings> settings = CheckSettings(text, std::string(kSettingsPath), problems);
  if (changed) {
    for (auto& p : problems) report.problems.push_back(std::move(p));
  }
  return settings;
}

// Names the commit brings that clash with others of their folder: the
// index's flow folders after, and before them HEAD's (the unchanged ones,
// the changed ones HEAD has, the removed ones).
void AddStagedClashes(const Store& store, const git_tree* head_tree, const StagedFlows& flows,
                      const ChangedFolders& folders, ValidationReport& report) {
  auto place = [](std::string_view folder) { return FlowPlace{FlowFolderGroup(folder), FlowFolderId(folder)}; };
  ClashScope scope;
  for (const auto& folder : folders.changed) scope.Touch(FlowFolderGroup(folder));
  std::vector<FlowPlace> before, after;
  for (const auto& [hash, folder] : flows.Folders()) {
    if (folders.changed.count(folder)) {
      after.push_back(place(folder));
      if (head_tree && store.EntryAt(head_tree, std::string(folder) + StagedFlows::AppSuffix())) {
        before.push_back(place(folder));
      }
      continue;
    }
    if (scope.Includes(FlowFolderGroup(folder))) {
      after.push_back(place(folder));
      before.push_back(place(folder));
    }
  }
  for (const auto& folder : folders.removed) before.push_back(place(folder));
  AddClashes(before, after, report.problems);
}

Flow StagedFlow(const Store& store, const git::IndexFile& index, const std::string& folder) {
  Flow flow;
  flow.summary.id = FlowFolderId(folder);
  flow.summary.group = FlowFolderGroup(folder);
  flow.app_definition = IndexBlob(store, index, folder + StagedFlows::AppSuffix());
  flow.flow_definition = IndexBlob(store, index, folder + "/" + std::string(kFlowDefinitionFile));
  flow.env_variables = IndexBlob(store, index, folder + "/" + std::string(kEnvVariablesFile));
  return flow;
}

void ValidateChangedFlows(const Store& store, const git::IndexFile& index, const StagedFlows& flows,
                          const ChangedFolders& folders, const ValidationContext& context, ValidationReport& report) {
  for (const auto& folder : folders.changed) {
    Flow flow = StagedFlow(store, index, folder);
    report.flows.push_back(folder);
    for (std::string_view other : flows.WithId(flow.summary.id)) {
      if (other != folder) {
        report.problems.push_back({folder, "", "duplicate-flow-id",
                                   "flow id '" + flow.summary.id + "' is also used by '" + std::string(other) + "'"});
      }
    }
    for (auto& p : ValidateFlow(flow, context)) report.problems.push_back(std::move(p));
  }
}

// Flows the commit leaves unchanged can still break: those that use a flow
// it deletes. Only then is every flow definition read (a text search for
// the id first, then the subflow check).
void CheckUsersOfRemovedFlows(const Store& store, const git::IndexFile& index, const StagedFlows& flows,
                              const ChangedFolders& folders, const ValidationContext& context,
                              ValidationReport& report) {
  std::set<std::string> removed_ids;
  for (const auto& r : report.removed) removed_ids.insert(FlowFolderId(r));
  if (removed_ids.empty()) return;
  std::vector<std::string> unchanged;
  for (const auto& [hash, folder] : flows.Folders()) {
    if (!folders.changed.count(folder)) unchanged.emplace_back(folder);
  }
  std::sort(unchanged.begin(), unchanged.end());
  for (const auto& folder : unchanged) {
    std::string definition = IndexBlob(store, index, folder + "/" + std::string(kFlowDefinitionFile));
    bool mentions = false;
    for (const auto& id : removed_ids) mentions |= definition.find("\"" + id + "\"") != std::string::npos;
    if (!mentions) continue;
    for (auto& p : ValidateFlow(StagedFlow(store, index, folder), context)) {
      if (p.rule == "missing-subflow") report.problems.push_back(std::move(p));
    }
  }
}

void ValidateStagedPackages(const Store& store, const git::IndexFile& index, const std::vector<std::string>& paths,
                            ValidationReport& report) {
  for (const auto& path : paths) {
    report.packages.push_back(path);
    TempFile copy(IndexBlob(store, index, path), path.substr(path.rfind('.')));
    ValidationReport pkg = ValidatePackage(copy.path(), PackageCheck::kContents, nullptr);
    for (auto& p : pkg.problems) {
      // Problems name the staged path, not the temporary copy.
      if (p.file == copy.path()) {
        p.file = path;
      } else if (p.file.rfind(copy.path(), 0) == 0) {
        p.file = path + p.file.substr(copy.path().size());
      } else {
        p.file = path + (p.file.empty() ? "" : ":" + p.file);
      }
      report.problems.push_back(std::move(p));
    }
  }
}

}  // namespace

ValidationReport ValidateStaged(const std::string& repository) {
  Store store = Store::Open(repository);
  if (store.bare()) {
    throw Error(ErrorCode::kInvalidArgument, "--staged needs a repository with a work tree and index");
  }
  ValidationReport report;
  report.target = "staged changes";
  const git::IndexFile index = ReadIndex(store);
  git::TreePtr head_tree;
  git_oid head;
  if (git_reference_name_to_id(&head, store.raw(), "HEAD") == 0) head_tree = store.CommitTree(head);

  const StagedChanges staged = ListStagedChanges(store, index, head_tree.get());
  if (staged.empty()) return report;
  const StagedFlows flows(index);
  const ChangedFolders folders = FoldersOf(staged, flows);
  for (const auto& r : folders.removed) {
    if (!flows.Exists(FlowFolderId(r))) report.removed.push_back(r);
  }
  const std::optional<WorkspaceSettings> settings = StagedSettings(store, index, staged.settings_changed, report);
  const ValidationContext context{[&flows](const std::string& id) { return flows.Exists(id); },
                                  AvailabilityOf(settings ? &*settings : nullptr), CredentialPolicy::kAllowUnbound};
  AddStagedClashes(store, head_tree.get(), flows, folders, report);
  ValidateChangedFlows(store, index, flows, folders, context, report);
  CheckUsersOfRemovedFlows(store, index, flows, folders, context, report);
  ValidateStagedPackages(store, index, staged.packages, report);
  return Masked(std::move(report));
}

}  // namespace flowrepo
