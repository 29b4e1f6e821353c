// The pre-receive check: roles, validity and immutable version tags for
// pushes into a shared repository.
//
// Local role checks in the CLI protect nothing against someone who can
// write the repository directory; a server hook can (RELIABILITY.md 9).
// Each pushed ref is judged on its own, against the repository as it is
// before the push: roles come from the workspace head the push would
// replace, so a push cannot grant itself the role it needs. Pushed objects
// sit in git's quarantine directory until the hook accepts; they are read
// by adding that directory to the object database as an alternate.
// Validation reuses publish's rules on the flows a workspace update
// changes (tree comparison: the cost follows the change) against the
// pushed tree.

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "flowrepo/error.h"
#include "flowrepo/hooks.h"
#include "repo/repository_impl.h"
#include "json/json_io.h"
#include "validate/flow_validator.h"
#include "validate/secrets.h"

namespace flowrepo {
namespace {

constexpr std::string_view kZeroId = "0000000000000000000000000000000000000000";

void AddQuarantineAlternates(Store& store) {
  git_odb* raw = nullptr;
  git::Check(git_repository_odb(&raw, store.raw()), "open object database");
  git::OdbPtr odb(raw);
  auto add = [&](const std::string& dir) {
    if (!dir.empty()) git::Check(git_odb_add_disk_alternate(odb.get(), dir.c_str()), "read pushed objects");
  };
  if (const char* dir = std::getenv("GIT_OBJECT_DIRECTORY")) add(dir);
  if (const char* dirs = std::getenv("GIT_ALTERNATE_OBJECT_DIRECTORIES")) {
    std::stringstream list(dirs);
    std::string dir;
    while (std::getline(list, dir, ':')) add(dir);
  }
}

std::string Has(const std::optional<Role>& role) {
  return role ? std::string("'") + RoleName(*role) + "'" : std::string("none");
}

class Judge {
 public:
  Judge(Store store, std::string user) : impl_{std::move(store), std::move(user)} {}

  void Decide(const RefUpdate& u, RefVerdict& verdict) {
    verdict_ = &verdict;
    const bool create = u.old_id == kZeroId, remove = u.new_id == kZeroId;
    if (create && remove) return;
    std::optional<git_oid> old_id, new_id;
    if (!create) old_id = git::OidFromHex(u.old_id);
    if (!remove) new_id = git::OidFromHex(u.new_id);
    const std::string& ref = u.ref;
    if (ref.rfind("refs/tags/", 0) == 0) {
      Tag(ref, old_id, new_id);
    } else if (ref.rfind("refs/heads/drafts/", 0) == 0) {
      Draft(ref);
      if (new_id) ScanNewCommits(*new_id);
    } else if (ref.rfind("refs/heads/", 0) == 0) {
      const std::string ws = ref.substr(std::string("refs/heads/").size());
      Branch(ref, ws, old_id, new_id);
      if (new_id && IsValidId(ws) && HasSettings(*new_id)) ScanNewCommits(*new_id);
    }
  }

  // Workspace branches this push creates, so tags and drafts pushed along
  // with a new workspace find it.
  void NoteWorkspaceCreations(const std::vector<RefUpdate>& updates) {
    for (const auto& u : updates) {
      if (u.ref.rfind("refs/heads/", 0) != 0 || u.new_id == kZeroId) continue;
      std::string name = u.ref.substr(std::string("refs/heads/").size());
      if (!IsValidId(name) || impl_.store.ReadRef(u.ref)) continue;
      git_oid id = git::OidFromHex(u.new_id);
      if (HasSettings(id)) pushed_workspaces_[name] = id;
    }
  }

 private:
  void Refuse(const std::string& reason) {
    verdict_->accepted = false;
    verdict_->reasons.push_back(reason);
  }

  bool HasSettings(const git_oid& commit) const {
    try {
      git::TreePtr tree = impl_.store.CommitTree(commit);
      return impl_.store.EntryAt(tree.get(), std::string(kSettingsPath)).has_value();
    } catch (const Error&) {
      return false;  // not a commit
    }
  }

  // The commit whose roles govern \a ws: its head before the push, or for a
  // workspace this push creates, the pushed commit.
  std::optional<git_oid> Governing(const std::string& ws) const {
    if (auto head = impl_.store.ReadRef(WorkspaceRef(ws)); head && HasSettings(*head)) return head;
    if (auto it = pushed_workspaces_.find(ws); it != pushed_workspaces_.end()) return it->second;
    return std::nullopt;
  }

  bool Require(const std::string& ws, const git_oid& at, Role role) {
    auto has = WorkspaceSettings::AtCommit(impl_.store, at).RoleOf(impl_.user);
    if (has && *has >= role) return true;
    std::string who = impl_.user.empty() ? std::string("(unknown user)") : "'" + impl_.user + "'";
    std::string hint = impl_.user.empty()
                           ? "; the server authenticated no user (GL_USERNAME, GL_USER and "
                             "REMOTE_USER are unset; FLOWREPO_USER counts only where git config "
                             "flowrepo.trustUserEnvironment is true)"
                           : "";
    Refuse("user " + who + " needs role '" + RoleName(role) + "' in workspace '" + ws + "' (has " +
           Has(has) + ")" + hint);
    return false;
  }

  void Tag(const std::string& ref, const std::optional<git_oid>& old_id,
           const std::optional<git_oid>& new_id) {
    std::string rest = ref.substr(std::string("refs/tags/").size());
    std::string ws = rest.substr(0, rest.find('/'));
    auto governing = Governing(ws);
    if (!governing || rest.find('/') == std::string::npos) return;  // not a flowrepo tag
    if (old_id) {
      Refuse(std::string("version tags are never ") + (new_id ? "moved" : "deleted") + " ('" + rest +
             "' exists)");
      return;
    }
    std::string tail = rest.substr(ws.size() + 1);
    auto slash = tail.find('/');
    std::string flow = tail.substr(0, slash);
    if (slash == std::string::npos || !IsValidId(flow) ||
        !VersionFromTag(tail.substr(slash + 1), "v")) {
      Refuse("'" + rest + "' is not a version tag name (<workspace>/<flow>/v<N>); refs/tags/" + ws +
             "/ is reserved for them");
      return;
    }
    Require(ws, *governing, Role::kIntegrator);
  }

  void Draft(const std::string& ref) {
    std::string rest = ref.substr(std::string("refs/heads/drafts/").size());
    std::string ws = rest.substr(0, rest.find('/'));
    if (auto governing = Governing(ws)) Require(ws, *governing, Role::kIntegrator);
  }

  void Branch(const std::string& ref, const std::string& ws, const std::optional<git_oid>& old_id,
              const std::optional<git_oid>& new_id) {
    if (!IsValidId(ws)) return;
    const bool had = old_id && HasSettings(*old_id);
    const bool has = new_id && HasSettings(*new_id);
    if (!had && !has) return;  // an ordinary branch
    if (!new_id) {
      Require(ws, *old_id, Role::kAdmin);
      return;
    }
    if (!had) {
      // A branch gaining settings becomes a workspace: that is creating
      // one, whatever the branch held before (its old commit has no roles
      // to govern it).
      CreateWorkspace(ws, *new_id);
      return;
    }
    if (!Require(ws, *old_id, Role::kIntegrator)) return;
    if (!has) {
      Refuse("'" + ref + "' is a workspace: a push may not remove " + std::string(kSettingsPath) +
             " (that would leave it ungoverned)");
      return;
    }
    if (!impl_.store.IsAncestor(*old_id, *new_id)) {
      Refuse("workspace branches only move forward: '" + ref + "' " + ShortId(*old_id) +
             " is not an ancestor of " + ShortId(*new_id) + " (history is never rewritten)");
      return;
    }
    if (WorkspaceSettings::AtCommit(impl_.store, *old_id).Roles() !=
        WorkspaceSettings::AtCommit(impl_.store, *new_id).Roles()) {
      if (!Require(ws, *old_id, Role::kAdmin)) return;
    }
    Validate(old_id, *new_id);
  }

  // Who may create workspace \a ws: the server's owner (git config
  // flowrepo.owner), or an admin of an existing workspace; on a server
  // without workspaces and without an owner, a first workspace whose
  // settings make the pusher admin bootstraps it.
  void CreateWorkspace(const std::string& ws, const git_oid& id) {
    const std::string owner = impl_.store.ConfigString("flowrepo.owner");
    if (!impl_.user.empty() && impl_.user == owner) return Validate(std::nullopt, id);
    bool any = false;
    for (const auto& [ref, head] : impl_.store.ListRefs("refs/heads/*")) {
      std::string name = ref.substr(std::string("refs/heads/").size());
      if (!IsValidId(name) || !HasSettings(head)) continue;
      any = true;
      auto role = WorkspaceSettings::AtCommit(impl_.store, head).RoleOf(impl_.user);
      if (role == Role::kAdmin) return Validate(std::nullopt, id);
    }
    if (any) {
      Refuse("creating workspace '" + ws + "' needs the admin role in an existing workspace");
      return;
    }
    if (!owner.empty()) {
      Refuse("only the server's owner '" + owner + "' (git config flowrepo.owner) may create the "
             "first workspace '" + ws + "'");
      return;
    }
    auto role = WorkspaceSettings::AtCommit(impl_.store, id).RoleOf(impl_.user);
    if (impl_.user.empty() || role != Role::kAdmin) {
      Refuse("the first workspace '" + ws + "' must make the pushing user an admin");
      return;
    }
    Validate(std::nullopt, id);
  }

  // Every commit the push brings (reachable from \a tip, from no branch the
  // server has): a secret committed once and removed in the next commit
  // would otherwise stay in history for good, since history is never
  // rewritten. Each file a new commit adds or changes is scanned, flow
  // document or not; the cost follows what the push adds.
  void ScanNewCommits(const git_oid& tip) {
    Store& store = impl_.store;
    git_revwalk* raw = nullptr;
    git::Check(git_revwalk_new(&raw, store.raw()), "walk pushed commits");
    git::RevwalkPtr walk(raw);
    git::Check(git_revwalk_push(walk.get(), &tip), "walk pushed commits");
    if (!store.ListRefs("refs/heads/*").empty()) {
      git::Check(git_revwalk_hide_glob(walk.get(), "refs/heads/*"), "walk pushed commits");
    }
    git_oid id;
    while (git_revwalk_next(&id, walk.get()) == 0) {
      if (scanned_commits_.insert(git::OidHex(id)).second) ScanCommit(id);
    }
  }

  void ScanCommit(const git_oid& id) {
    Store& store = impl_.store;
    git::CommitPtr commit = store.LookupCommit(id);
    git::TreePtr tree = store.CommitTree(id);
    unsigned parents = git_commit_parentcount(commit.get());
    for (unsigned i = 0; i < std::max(parents, 1u); ++i) {
      git::TreePtr parent_tree;
      if (parents > 0) parent_tree = store.CommitTree(*git_commit_parent_id(commit.get(), i));
      git_diff* raw = nullptr;
      git::Check(git_diff_tree_to_tree(&raw, store.raw(), parent_tree.get(), tree.get(), nullptr),
                 "compare pushed commit");
      git::DiffPtr diff(raw);
      for (size_t d = 0; d < git_diff_num_deltas(diff.get()); ++d) {
        const git_diff_delta* delta = git_diff_get_delta(diff.get(), d);
        if (delta->status == GIT_DELTA_DELETED) continue;
        if (!scanned_blobs_.insert(git::OidHex(delta->new_file.id)).second) continue;
        ScanBlob(id, delta->new_file.path, delta->new_file.id);
      }
    }
  }

  void ScanBlob(const git_oid& commit, const std::string& path, const git_oid& blob) {
    std::string text = impl_.store.ReadBlob(blob);
    std::vector<Problem> problems;
    bool json = path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0;
    bool scanned = false;
    if (json) {
      try {
        ScanSecrets(ParseJson(text, path), path, problems);
        scanned = true;
      } catch (const Error&) {
        // Not JSON after all: scanned as text below.
      }
    }
    if (!scanned) {
      std::string rule = DetectSecretInText(text);
      if (!rule.empty()) {
        problems.push_back({path, "", "secret/" + rule, "plain-text secret in a file"});
      }
    }
    for (const auto& p : problems) {
      Refuse("commit " + ShortId(commit) + ": " + p.ToString() +
             "; a pushed secret stays in history: remove it from that commit and push again");
    }
  }

  std::optional<git_oid> FlowsTree(const std::optional<git_oid>& commit) const {
    if (!commit) return std::nullopt;
    git::TreePtr tree = impl_.store.CommitTree(*commit);
    auto entry = impl_.store.EntryAt(tree.get(), std::string(kFlowsDir));
    if (!entry || entry->mode != GIT_FILEMODE_TREE) return std::nullopt;
    return entry->id;
  }

  void Validate(const std::optional<git_oid>& old_id, const git_oid& new_id) {
    Store& store = impl_.store;
    git::TreePtr tree = store.CommitTree(new_id);
    std::vector<Problem> problems;
    std::optional<WorkspaceSettings> settings;
    if (auto entry = store.EntryAt(tree.get(), std::string(kSettingsPath))) {
      std::string text = store.ReadBlob(entry->id);
      ValidateSettingsDocument(text, std::string(kSettingsPath), problems);
      try {
        settings = WorkspaceSettings::Parse(text);
      } catch (const Error&) {
      }
    }
    std::map<std::string, FlowLocation> index;
    try {
      index = IndexFlows(store, tree.get());
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kInvalidData) throw;
      problems.push_back({std::string(kFlowsDir), "", "duplicate-flow-id", e.what()});
    }
    std::set<std::string> ids;
    for (const auto& [id, loc] : index) ids.insert(id);
    ValidationContext context{InSet(ids), settings ? &*settings : nullptr, CredentialPolicy::kAllowUnbound};
    for (const auto& [id, change] : DiffFlowTrees(store, FlowsTree(old_id), FlowsTree(new_id))) {
      if (!change.after) continue;
      for (auto& p : ValidateFlow(ReadFlowAt(store, *change.after), context)) problems.push_back(std::move(p));
    }
    // Flows that still use a removed flow are broken by the removal too.
    for (const auto& [id, change] : DiffFlowTrees(store, FlowsTree(old_id), FlowsTree(new_id))) {
      if (change.after || !change.before) continue;
      for (const auto& [other, loc] : index) {
        Flow flow = ReadFlowAt(store, loc);
        if (flow.flow_definition.find("\"" + id + "\"") == std::string::npos) continue;
        for (auto& p : ValidateFlow(flow, context)) {
          if (p.rule == "missing-subflow") problems.push_back(std::move(p));
        }
      }
    }
    for (const auto& p : problems) Refuse(p.ToString());
  }

  FlowRepository::Impl impl_;
  RefVerdict* verdict_ = nullptr;
  std::map<std::string, git_oid> pushed_workspaces_;
  std::set<std::string> scanned_commits_;  ///< per push: a commit is scanned once
  std::set<std::string> scanned_blobs_;
};

bool IsHexId(std::string_view s) {
  return s.size() == 40 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::vector<RefUpdate> ParseRefUpdates(std::string_view text) {
  std::vector<RefUpdate> out;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::istringstream fields(line);
    RefUpdate u;
    std::string extra;
    if (!(fields >> u.old_id >> u.new_id >> u.ref) || (fields >> extra) || !IsHexId(u.old_id) ||
        !IsHexId(u.new_id) || u.ref.rfind("refs/", 0) != 0) {
      throw Error(ErrorCode::kInvalidArgument, "malformed ref update line '" + line.substr(0, 200) +
                                                   "' (expected '<old> <new> <ref>')");
    }
    out.push_back(std::move(u));
  }
  return out;
}

std::string PushingUser(const std::string& repository, const std::string& claimed) {
  for (const char* name : {"GL_USERNAME", "GL_USER", "REMOTE_USER"}) {
    const char* value = std::getenv(name);
    if (value && *value) return value;
  }
  if (claimed.empty()) return {};
  Store store = Store::Open(repository);
  int trusted = 0;
  git_config* raw = nullptr;
  if (git_repository_config_snapshot(&raw, store.raw()) == 0) {
    git::ConfigPtr config(raw);
    if (git_config_get_bool(&trusted, config.get(), "flowrepo.trustUserEnvironment") < 0) trusted = 0;
  }
  return trusted ? claimed : std::string();
}

ReceiveReport CheckReceive(const std::string& repository, const std::string& user,
                           const std::vector<RefUpdate>& updates) {
  Store store = Store::Open(repository);
  AddQuarantineAlternates(store);
  Judge judge(std::move(store), user);
  judge.NoteWorkspaceCreations(updates);
  ReceiveReport report;
  report.user = user;
  for (const auto& u : updates) {
    RefVerdict verdict;
    verdict.ref = u.ref;
    judge.Decide(u, verdict);
    report.refs.push_back(std::move(verdict));
  }
  return report;
}

}  // namespace flowrepo
