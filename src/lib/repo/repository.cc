// FlowRepository: opening and creating repositories, resolving revisions,
// reading flows, and writing onto drafts. Every write builds new trees from
// the old ones with tree builders (only the changed paths are rebuilt) and
// ends in exactly one compare-and-swap ref update, which is the commit
// point: a crash before it leaves only unreachable objects.

#include <algorithm>
#include <chrono>
#include <set>
#include <tuple>

#include "flow/names.h"
#include "flowrepo/error.h"
#include "json/json_io.h"
#include "repo/repository_impl.h"
#include "repo/settings_changes.h"
#include "repo/worktree.h"

namespace flowrepo {

std::string ShortId(const git_oid& id) { return git::OidHex(id).substr(0, 7); }

// ---- Impl ----------------------------------------------------------------

git_oid FlowRepository::Impl::WorkspaceHead(std::string_view ws) const {
  RequireId(ws, "workspace name");
  auto head = store.ReadRef(WorkspaceRef(ws));
  if (!head) throw Error(ErrorCode::kNotFound, "workspace '" + std::string(ws) + "' not found");
  return *head;
}

void FlowRepository::Impl::RequireRole(std::string_view ws, Role role, std::string_view why) const {
  WorkspaceSettings settings = WorkspaceSettings::AtCommit(store, WorkspaceHead(ws));
  auto has = settings.RoleOf(user);
  if (!has || *has < role) {
    throw Error(ErrorCode::kPermissionDenied,
                "user '" + user + "' needs role '" + RoleName(role) + "' in workspace '" + std::string(ws) + "'" +
                    (why.empty() ? "" : " " + std::string(why)) + " (has " +
                    (has ? std::string("'") + RoleName(*has) + "'" : std::string("none")) + ")");
  }
}

git_oid FlowRepository::Impl::PeelToCommit(const git_oid& id) const {
  git_object* raw = nullptr;
  git::Check(git_object_lookup(&raw, store.raw(), &id, GIT_OBJECT_ANY), "look up " + git::OidHex(id));
  git::ObjectPtr object(raw);
  git_object* peeled_raw = nullptr;
  int rc = git_object_peel(&peeled_raw, object.get(), GIT_OBJECT_COMMIT);
  if (rc < 0) {
    throw Error(ErrorCode::kInvalidArgument, git::OidHex(id) + " does not name a commit");
  }
  git::ObjectPtr peeled(peeled_raw);
  return *git_object_id(peeled.get());
}

git_oid FlowRepository::Impl::ResolveRevision(std::string_view ws, std::string_view flow,
                                              std::string_view revision) const {
  std::string rev(revision);
  auto from_ref = [&](const std::string& ref) -> std::optional<git_oid> {
    if (!Store::IsValidRefName(ref)) return std::nullopt;
    auto id = store.ReadRef(ref);
    if (!id) return std::nullopt;
    return PeelToCommit(*id);
  };
  if (rev.size() > 1 && rev[0] == 'v' && !flow.empty()) {
    // Only a backed tag is a version (versions.cc).
    if (auto n = VersionFromTag(rev, "v")) return VersionCommit(ws, flow, *n);
  }
  if (rev.size() == GIT_OID_HEXSZ && rev.find_first_not_of("0123456789abcdef") == std::string::npos) {
    git_oid id = git::OidFromHex(rev);
    try {
      return PeelToCommit(id);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kNotFound) throw Error(ErrorCode::kNotFound, "commit " + rev + " not found");
      throw;
    }
  }
  if (rev.rfind("refs/", 0) == 0) {
    if (auto id = from_ref(rev)) return *id;
  } else {
    for (const std::string& ref : {"refs/heads/" + rev, DraftRef(ws, rev), "refs/tags/" + rev}) {
      if (auto id = from_ref(ref)) return *id;
    }
  }
  // An abbreviated commit id, as flowrepo and git print them; names take
  // precedence, as in git.
  if (rev.size() >= 4 && rev.size() < GIT_OID_HEXSZ && rev.find_first_not_of("0123456789abcdef") == std::string::npos) {
    git_oid prefix;
    git::Check(git_oid_fromstrn(&prefix, rev.data(), rev.size()), "read '" + rev + "'");
    git_object* raw = nullptr;
    int rc = git_object_lookup_prefix(&raw, store.raw(), &prefix, rev.size(), GIT_OBJECT_ANY);
    if (rc == GIT_EAMBIGUOUS) {
      throw Error(ErrorCode::kInvalidArgument,
                  "'" + rev + "' is the start of several objects' ids; give more of the commit id");
    }
    if (rc == 0) {
      git::ObjectPtr object(raw);
      return PeelToCommit(*git_object_id(object.get()));
    }
    if (rc != GIT_ENOTFOUND) git::Check(rc, "look up '" + rev + "'");
  }
  throw Error(
      ErrorCode::kNotFound,
      "no revision '" + rev + "' (expected vN, a workspace, a draft, a ref or a commit id, full or abbreviated)");
}

const std::map<std::string, FlowLocation>& FlowRepository::Impl::FlowsAt(const git_oid& commit) const {
  git::TreePtr tree = store.CommitTree(commit);
  return index_cache.ForRootTree(store, tree.get());
}

Flow FlowRepository::Impl::FlowAt(const git_oid& commit, std::string_view id, std::string_view where) const {
  const auto& flows = FlowsAt(commit);
  auto it = flows.find(std::string(id));
  if (it == flows.end()) throw FlowNotFound(id, flows, where);
  return ReadFlowAt(store, it->second);
}

namespace {

std::optional<git_oid> FlowsTree(const Store& store, const git_oid& commit) {
  git::TreePtr tree = store.CommitTree(commit);
  auto entry = store.EntryAt(tree.get(), std::string(kFlowsDir));
  if (!entry || entry->mode != GIT_FILEMODE_TREE) return std::nullopt;
  return entry->id;
}

}  // namespace

std::vector<FlowChange> FlowRepository::Impl::ChangedFlows(const git_oid& from, const git_oid& to) const {
  std::map<std::string, FlowChange> changes = DiffFlowTrees(store, FlowsTree(store, from), FlowsTree(store, to));
  std::vector<FlowChange> out;
  for (auto& [id, change] : changes) {
    // A flow moved between groups appears once as removed and once as added
    // under the same id; CompareFolders merged them by id already.
    if (change.before && change.after && git_oid_equal(&change.before->tree, &change.after->tree) &&
        change.before->path == change.after->path) {
      continue;
    }
    out.push_back(std::move(change));
  }
  return out;
}

DraftTarget FlowRepository::Impl::OpenDraft(std::string_view ws, std::string_view draft) const {
  RequireDraftName(draft);
  DraftTarget target;
  target.ref = DraftRef(ws, draft);
  target.head = store.ReadRef(target.ref);
  target.parent = target.head ? *target.head : WorkspaceHead(ws);
  return target;
}

WriteResult FlowRepository::Impl::CommitToDraft(std::string_view ws, std::string_view draft, TreeEdits edits,
                                                const std::string& message, std::vector<std::string> flows) {
  DraftTarget target = OpenDraft(ws, draft);
  git_oid tree = store.EditTree(store.CommitTreeId(target.parent), edits);
  TreeEdits().swap(edits);  // written: a large write's paths are not held while it is described
  return CommitTreeToDraft(ws, draft, target, tree, message, std::move(flows));
}

WriteResult FlowRepository::Impl::CommitTreeToDraft(std::string_view ws, std::string_view draft,
                                                    const DraftTarget& target, const git_oid& tree,
                                                    const std::string& message, std::vector<std::string> flows) {
  const git_oid base_tree = store.CommitTreeId(target.parent);
  git_oid head = target.parent;
  if (!git_oid_equal(&tree, &base_tree) || !target.head) {
    if (!git_oid_equal(&tree, &base_tree)) {
      git::SignaturePtr who = store.Signature(user);
      head = store.CreateCommit(tree, {target.parent}, message, who.get());
    }
    MoveRef(target.ref, head, target.head, "flowrepo: " + message.substr(0, message.find('\n')));
  }
  WriteResult result;
  result.draft = DescribeDraft(ws, draft, head);
  result.flows = std::move(flows);
  result.created_draft = !target.head;
  return result;
}

DraftInfo FlowRepository::Impl::DescribeDraft(std::string_view ws, std::string_view name, const git_oid& head) const {
  DraftInfo info;
  info.workspace = std::string(ws);
  info.name = std::string(name);
  info.ref = DraftRef(ws, name);
  info.commit = git::OidHex(head);
  auto base = store.MergeBase(head, WorkspaceHead(ws));
  if (base) {
    info.base = git::OidHex(*base);
    ChangedFlowIds ids = DiffFlowIds(store, FlowsTree(store, *base), FlowsTree(store, head));
    info.changed_flows = std::move(ids.changed);
    info.removed_flows = std::move(ids.removed);
    if (!info.removed_flows.empty()) {  // a rename removes its old id
      const std::set<std::string> removed(info.removed_flows.begin(), info.removed_flows.end());
      std::set<std::string> added;
      const auto& at_base = FlowsAt(*base);
      for (const auto& id : info.changed_flows) {
        if (!removed.count(id) && !at_base.count(id)) added.insert(id);
      }
      for (const auto& [to, from] : RenamesOnDraft(*base, head, removed, added)) info.renamed.emplace_back(from, to);
    }
    info.settings_changes = DescribeSettingsChanges(store, *base, head);
  }
  return info;
}

void FlowRepository::Impl::MoveRef(const std::string& ref, const git_oid& target,
                                   const std::optional<git_oid>& expected, const std::string& log) {
  RepairWorkTrees(store);
  std::optional<WorkTreeSync> work_trees;
  if (expected) {
    try {
      work_trees = WorkTreeSync::Plan(store, ref, *expected, target);
      work_trees->Begin();
    } catch (const Error& e) {
      // A writer that moved the ref meanwhile may be updating the work tree
      // right now: report what really happened, the concurrent move.
      auto now = store.ReadRef(ref);
      if (e.code() != ErrorCode::kConflict || (now && git_oid_equal(&*now, &*expected))) throw;
      throw Error(ErrorCode::kConflict, "'" + ref + "' changed concurrently; nothing was written, re-run the command");
    }
  }
  store.UpdateRef(ref, target, expected, log);
  if (work_trees) work_trees->Finish();
}

// ---- FlowRepository ------------------------------------------------------

FlowRepository::FlowRepository(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FlowRepository::Impl& ImplOf(const FlowRepository& repo) { return *repo.impl_; }
FlowRepository::FlowRepository(FlowRepository&&) noexcept = default;
FlowRepository& FlowRepository::operator=(FlowRepository&&) noexcept = default;
FlowRepository::~FlowRepository() = default;

const std::string& FlowRepository::user() const { return impl_->user; }
bool FlowRepository::bare() const { return impl_->store.bare(); }
std::string FlowRepository::git_dir() const { return impl_->store.git_dir(); }

namespace {

std::string ResolveUser(const Store& store, const std::string& user) {
  if (!user.empty()) return user;
  std::string email = store.ConfigString("user.email");
  if (email.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "no acting user: pass --user, set FLOWREPO_USER or git config user.email");
  }
  return email;
}

}  // namespace

void CheckOutNewWorkspace(Store& s, const std::string& ref) {
  git::Check(git_repository_set_head(s.raw(), ref.c_str()), "set HEAD");
  git::TreePtr empty = s.LookupTree(s.EditTree(std::nullopt, {}));
  git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
  opts.checkout_strategy = GIT_CHECKOUT_SAFE;
  opts.baseline = empty.get();
  git::Check(git_checkout_head(s.raw(), &opts), "check out workspace");
}

FlowRepository FlowRepository::Open(const std::string& dir, const std::string& user) {
  Store store = Store::Open(dir);
  std::string who = ResolveUser(store, user);
  return FlowRepository(std::make_unique<Impl>(Impl{std::move(store), std::move(who)}));
}

FlowRepository FlowRepository::Init(const std::string& dir, const InitOptions& options) {
  RequireId(options.workspace, "workspace name");
  Store store = Store::Init(dir, options.layout == InitOptions::Layout::kBare);
  std::string who = ResolveUser(store, options.user);
  auto impl = std::make_unique<Impl>(Impl{std::move(store), who});
  Store& s = impl->store;
  const std::string ref = WorkspaceRef(options.workspace);
  if (auto existing = s.ReadRef(ref)) {
    git::TreePtr tree = s.CommitTree(*existing);
    if (s.EntryAt(tree.get(), std::string(kSettingsPath))) {
      throw Error(ErrorCode::kAlreadyExists, "workspace '" + options.workspace + "' already exists in '" + dir + "'");
    }
    throw Error(ErrorCode::kConflict, "branch '" + options.workspace +
                                          "' exists and is not a flowrepo workspace; choose "
                                          "another name with --workspace");
  }
  TreeEdits edits;
  std::string settings = CanonicalJson(WorkspaceSettings::Default(who).document);
  edits[std::string(kSettingsPath)] = TreeEntry{s.WriteBlob(settings), GIT_FILEMODE_BLOB};
  git_oid tree = s.EditTree(std::nullopt, edits);
  git::SignaturePtr sig = s.Signature(who);
  git_oid commit = s.CreateCommit(tree, {}, "Create workspace " + options.workspace + "\n", sig.get());
  // A new repository's HEAD names the workspace before it exists: check the
  // settings out so that git status is clean from the start.
  const bool check_out = !s.bare() && git_repository_head_unborn(s.raw()) == 1;
  s.UpdateRef(ref, commit, std::nullopt, "flowrepo: init");
  if (check_out) CheckOutNewWorkspace(s, ref);
  return FlowRepository(std::move(impl));
}

std::vector<WorkspaceInfo> FlowRepository::ListWorkspaces() const {
  std::vector<WorkspaceInfo> out;
  for (const auto& [ref, id] : impl_->store.ListRefs("refs/heads/*")) {
    std::string name = ref.substr(std::string("refs/heads/").size());
    if (!IsValidId(name)) continue;  // drafts/... and foreign branches
    git::TreePtr tree = impl_->store.CommitTree(id);
    if (!impl_->store.EntryAt(tree.get(), std::string(kSettingsPath))) continue;
    out.push_back(
        {name, git::OidHex(id), static_cast<int>(impl_->index_cache.ForRootTree(impl_->store, tree.get()).size())});
  }
  return out;
}

// CreateWorkspace: workspace_create.cc.

std::vector<FlowSummary> FlowRepository::ListFlows(const FlowQuery& query) const {
  impl_->RequireRole(query.workspace, Role::kViewer);
  git_oid commit =
      query.at.empty() ? impl_->WorkspaceHead(query.workspace) : impl_->ResolveRevision(query.workspace, "", query.at);
  if (std::string why = GroupProblem(query.group); !why.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "invalid group '" + query.group + "': " + why);
  }
  std::vector<FlowSummary> out;
  const std::map<std::string, FlowLocation>& flows = impl_->FlowsAt(commit);
  for (const auto& [id, location] : flows) {
    const std::string& g = location.group;
    if (!query.group.empty() && g != query.group && g.rfind(query.group + "/", 0) != 0) continue;
    out.push_back(ReadFlowAt(impl_->store, location).summary);
  }
  if (!query.group.empty() && out.empty()) {
    // As export does: a group that is not there is an error, not an empty list.
    std::string hint = ClosestName(query.group, GroupsOf(flows));
    throw Error(ErrorCode::kNotFound, "no group '" + query.group + "' in workspace '" + query.workspace + "'" +
                                          (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
  }
  std::sort(out.begin(), out.end(), [](const FlowSummary& a, const FlowSummary& b) {
    return std::tie(a.group, a.id) < std::tie(b.group, b.id);
  });
  return out;
}

Flow FlowRepository::ReadFlow(std::string_view workspace, const FlowSpec& spec) const {
  impl_->RequireRole(workspace, Role::kViewer);
  std::string where = "workspace '" + std::string(workspace) + "'";
  git_oid commit = impl_->WorkspaceHead(workspace);
  if (spec.version) {
    commit = impl_->VersionCommit(workspace, spec.id, *spec.version);
    where = "version v" + std::to_string(*spec.version);
  } else if (!spec.revision.empty()) {
    commit = impl_->ResolveRevision(workspace, spec.id, spec.revision);
    where = "'" + spec.revision + "'";
  }
  return impl_->FlowAt(commit, spec.id, where);
}

std::vector<RepairAction> FlowRepository::Repair() {
  std::vector<RepairAction> out;
  for (auto& done : RepairWorkTrees(impl_->store)) {
    out.push_back({std::move(done.path), std::move(done.ref), std::move(done.message)});
  }
  return out;
}

// ---- drafts ----------------------------------------------------------------

DraftInfo FlowRepository::StartDraft(std::string_view workspace, std::string_view name) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  RequireDraftName(name);
  git_oid head = impl_->WorkspaceHead(workspace);
  const std::string ref = DraftRef(workspace, name);
  if (impl_->store.ReadRef(ref)) {
    throw Error(ErrorCode::kAlreadyExists, "draft '" + std::string(name) + "' already exists");
  }
  impl_->store.UpdateRef(ref, head, std::nullopt, "flowrepo: draft start");
  return impl_->DescribeDraft(workspace, name, head);
}

std::vector<DraftInfo> FlowRepository::ListDrafts(std::string_view workspace) const {
  impl_->RequireRole(workspace, Role::kViewer);
  const std::string prefix = DraftRefPrefix(workspace);
  std::vector<DraftInfo> out;
  for (const auto& [ref, id] : impl_->store.ListRefs(prefix + "*")) {
    out.push_back(impl_->DescribeDraft(workspace, ref.substr(prefix.size()), id));
  }
  return out;
}

DraftInfo FlowRepository::ShowDraft(std::string_view workspace, std::string_view name) const {
  impl_->RequireRole(workspace, Role::kViewer);
  RequireDraftName(name);
  auto head = impl_->store.ReadRef(DraftRef(workspace, name));
  if (!head) throw Error(ErrorCode::kNotFound, "draft '" + std::string(name) + "' not found");
  return impl_->DescribeDraft(workspace, name, *head);
}

std::string FlowRepository::DropDraft(std::string_view workspace, std::string_view name) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  RequireDraftName(name);
  const std::string ref = DraftRef(workspace, name);
  auto head = impl_->store.ReadRef(ref);
  if (!head) throw Error(ErrorCode::kNotFound, "draft '" + std::string(name) + "' not found");
  if (auto trees = WorkTreesOn(impl_->store, ref); !trees.empty()) {
    throw Error(ErrorCode::kConflict, "draft '" + std::string(name) + "' is checked out in work tree '" +
                                          trees[0].path + "'; switch it to another branch first (git switch " +
                                          std::string(workspace) + ")");
  }
  auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  // Unique even for drops of one draft name within a second.
  const std::string stem =
      "refs/flowrepo/dropped/" + std::string(workspace) + "/" + std::string(name) + "/" + std::to_string(now);
  std::string archive = stem;
  for (int n = 2; impl_->store.ReadRef(archive); ++n) archive = stem + "-" + std::to_string(n);
  impl_->store.UpdateRef(archive, *head, std::nullopt, "flowrepo: draft drop");
  impl_->store.DeleteRef(ref, *head);
  return archive;
}

}  // namespace flowrepo
