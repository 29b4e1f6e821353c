// The pre-receive check: roles, validity, version numbers and version tags
// for pushes into a shared repository.
//
// Local role checks in the CLI protect nothing against someone who can
// write the repository directory; a server hook can (RELIABILITY.md 9).
// Each pushed ref is judged against the repository as it is before the
// push: roles come from the workspace head the push would replace, so a
// push cannot grant itself the role it needs. Pushed objects sit in git's
// quarantine directory until the hook accepts; they are read by adding
// that directory to the object database as an alternate. Validation reuses
// publish's rules on the flows a workspace update changes (tree
// comparison: the cost follows the change) against the pushed tree.
//
// Version numbers are decided by the server (DESIGN.md 8), in two steps:
// 1. A publish commit a push brings onto workspace <ws> must name, for each
//    flow, the number after the highest one <ws> has (publish's own rule):
//    a forged commit can neither take v999999999 (after which no publish of
//    the flow is possible) nor a number that is taken.
// 2. A version tag <ws>/<flow>/vN is accepted only when it is new, points
//    at a publish commit naming "<flow> vN" that is on <ws> as the push
//    leaves it, and vN-1 is a version on the server or made by the same
//    push. git gives a pre-receive hook every ref update of a push at once
//    and accepts all or none, so a tag pushed with its branch
//    (--follow-tags, --atomic) is judged against the branch's new head, in
//    whatever order the lines come. Any tag shaped <id>/<id>/v<digits> is
//    judged so, whether or not its workspace exists: a tag cannot wait for
//    a workspace that does not exist yet (squatting).

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "flowrepo/error.h"
#include "flowrepo/hooks.h"
#include "json/json_io.h"
#include "repo/repository_impl.h"
#include "repo/trailers.h"
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
    // Setting a ref to the value it has changes nothing: a clone pushing a
    // version tag another clone pushed a moment before (tag objects are
    // the same in every clone) must not be refused as moving it.
    if (u.old_id == u.new_id) return;
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

  // What the whole push does, before any ref is judged: git hands the
  // hook every update of a push at once and applies all or none, so a tag
  // is judged against the workspace heads as the push leaves them and
  // against the other tags it makes, whatever the order of the lines.
  void NotePush(const std::vector<RefUpdate>& updates) {
    for (const auto& u : updates) {
      if (u.ref.rfind("refs/tags/", 0) == 0) {
        if (u.old_id == kZeroId && u.new_id != kZeroId) pushed_tags_.insert(u.ref);
        continue;
      }
      if (u.ref.rfind("refs/heads/", 0) != 0) continue;
      std::string name = u.ref.substr(std::string("refs/heads/").size());
      if (!IsValidId(name)) continue;
      std::optional<git_oid> head;
      if (u.new_id != kZeroId) head = git::OidFromHex(u.new_id);
      pushed_heads_[name] = head;
      // Workspace branches this push creates, so tags and drafts pushed
      // along with a new workspace find it.
      if (head && !impl_.store.ReadRef(u.ref) && HasSettings(*head)) pushed_workspaces_[name] = *head;
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

  // The head of workspace \a ws before the push; std::nullopt when the
  // server has no such workspace.
  std::optional<git_oid> ServerHead(const std::string& ws) const {
    if (!IsValidId(ws)) return std::nullopt;
    if (auto head = impl_.store.ReadRef(WorkspaceRef(ws)); head && HasSettings(*head)) return head;
    return std::nullopt;
  }

  // The head of workspace \a ws as the push leaves it; std::nullopt when
  // there is no workspace \a ws after the push.
  std::optional<git_oid> AfterHead(const std::string& ws) const {
    auto it = pushed_heads_.find(ws);
    if (it == pushed_heads_.end()) return ServerHead(ws);
    if (it->second && HasSettings(*it->second)) return it->second;
    return std::nullopt;
  }

  // The commit whose roles govern \a ws: its head before the push, or for a
  // workspace this push creates, the pushed commit.
  std::optional<git_oid> Governing(const std::string& ws) const {
    if (auto head = ServerHead(ws)) return head;
    if (auto it = pushed_workspaces_.find(ws); it != pushed_workspaces_.end()) return it->second;
    return std::nullopt;
  }

  // True when the user may act for the whole server: its owner (git config
  // flowrepo.owner) or an admin of an existing workspace.
  bool AdministersServer() const {
    const std::string owner = impl_.store.ConfigString("flowrepo.owner");
    if (!impl_.user.empty() && impl_.user == owner) return true;
    for (const auto& [ref, head] : impl_.store.ListRefs("refs/heads/*")) {
      std::string name = ref.substr(std::string("refs/heads/").size());
      if (!IsValidId(name) || !HasSettings(head)) continue;
      if (WorkspaceSettings::AtCommit(impl_.store, head).RoleOf(impl_.user) == Role::kAdmin) return true;
    }
    return false;
  }

  bool AnyWorkspace() const {
    for (const auto& [ref, head] : impl_.store.ListRefs("refs/heads/*")) {
      if (IsValidId(ref.substr(std::string("refs/heads/").size())) && HasSettings(head)) return true;
    }
    return false;
  }

  bool Require(const std::string& ws, const git_oid& at, Role role) {
    auto has = WorkspaceSettings::AtCommit(impl_.store, at).RoleOf(impl_.user);
    if (has && *has >= role) return true;
    std::string who = impl_.user.empty() ? std::string("(unknown user)") : "'" + impl_.user + "'";
    std::string hint = impl_.user.empty() ? "; the server authenticated no user (GL_USERNAME, GL_USER and "
                                            "REMOTE_USER are unset; FLOWREPO_USER counts only where git config "
                                            "flowrepo.trustUserEnvironment is true)"
                                          : "";
    Refuse("user " + who + " needs role '" + RoleName(role) + "' in workspace '" + ws + "' (has " + Has(has) + ")" +
           hint);
    return false;
  }

  // ---- version tags ---------------------------------------------------------

  // A tag name read as a version tag "<ws>/<flow>/v<N>".
  struct TagName {
    std::string full;             ///< without refs/tags/
    std::string ws;               ///< the first part
    std::string flow;             ///< the second part, when there are three
    std::optional<int> number;    ///< N, when the name is a valid version tag name
    bool version_shaped = false;  ///< <id>/<id>/v<digits>, whatever the digits
  };

  static TagName ReadTagName(const std::string& ref) {
    TagName name;
    name.full = ref.substr(std::string("refs/tags/").size());
    std::vector<std::string> parts;
    std::stringstream split(name.full);
    for (std::string part; std::getline(split, part, '/');) parts.push_back(part);
    name.ws = parts.empty() ? std::string() : parts[0];
    if (parts.size() != 3) return name;
    name.flow = parts[1];
    const std::string& last = parts[2];
    name.version_shaped = IsValidId(name.ws) && IsValidId(name.flow) && last.size() > 1 && last[0] == 'v' &&
                          last.find_first_not_of("0123456789", 1) == std::string::npos;
    if (name.version_shaped) name.number = VersionFromTag(last, "v");
    return name;
  }

  // Which tags are flowrepo's: every name under refs/tags/<ws>/ of a
  // workspace (before the push or created by it), and every name shaped
  // <id>/<id>/v<digits>, whatever its first part names. Other tags
  // (v1.2.0, release/2024-05, Team/Flow/v2) are not flowrepo's and pass.
  void Tag(const std::string& ref, const std::optional<git_oid>& old_id, const std::optional<git_oid>& new_id) {
    const TagName name = ReadTagName(ref);
    const bool under_workspace = name.full.size() > name.ws.size() && Governing(name.ws);
    if (!under_workspace && !name.version_shaped) return;  // not a flowrepo tag
    if (old_id && new_id) {
      Refuse("version tags are never moved ('" + name.full + "' exists)");
    } else if (old_id) {
      DeleteTag(name, *old_id);
    } else {
      CreateTag(name, *new_id);
    }
  }

  void CreateTag(const TagName& name, const git_oid& target) {
    auto after = AfterHead(name.ws);
    if (!after) {
      Refuse("'" + name.full + "' is named like a version tag of workspace '" + name.ws +
             "', which does not exist and is not created by this push; a version tag is pushed with or after "
             "the publish commit that names it");
      return;
    }
    if (!name.number) {
      Refuse("'" + name.full + "' is not a version tag name (<workspace>/<flow>/v<N>, N from 1 to " +
             std::to_string(kMaxVersion) + "); refs/tags/" + name.ws + "/ is reserved for them");
      return;
    }
    auto governing = Governing(name.ws);
    if (!governing || !Require(name.ws, *governing, Role::kIntegrator)) return;
    if (!RequirePublishCommit(name, target, *after)) return;
    RequirePreviousVersion(name, target);
  }

  // The tag must point at a publish commit whose trailer block names
  // "<flow> vN" for its workspace, on that workspace as the push leaves it
  // (pushed now or there already): what makes a version a version
  // (docs/repository-format.md), decided before the tag exists.
  bool RequirePublishCommit(const TagName& name, const git_oid& target, const git_oid& after) {
    const std::string version = "'" + name.flow + " v" + std::to_string(*name.number) + "'";
    std::string why;
    auto commit = PeelTagTarget(impl_.store, target);
    if (!commit) {
      why = "does not point at a commit";
    } else {
      git::CommitPtr found = impl_.store.LookupCommit(*commit);
      PublishTrailers trailers = ReadPublishTrailers(found.get());
      const std::string at = "points at " + ShortId(*commit);
      if (!trailers.IsPublishTo(name.ws)) {
        why = at + ", which is no publish commit of workspace '" + name.ws + "'";
      } else if (!trailers.NamesVersion(name.flow, *name.number)) {
        why = at + ", a publish that does not name " + version;
      } else if (!impl_.store.IsAncestor(*commit, after)) {
        why = at + ", a publish of " + version + " that workspace '" + name.ws +
              "' does not contain (push the branch with the tag)";
      }
    }
    if (why.empty()) return true;
    Refuse("'" + name.full + "' " + why + "; a version tag must point at the publish commit that names it");
    return false;
  }

  // Numbers go up one at a time: vN needs vN-1 as a version on the server
  // or among the tags of this push (v1 needs nothing). A tag a publish never
  // got (an interrupted publish) can still be completed later.
  // A flow renamed by the publish commit the tag points at goes on from
  // its old id's versions: vN needs vN-1 of either.
  void RequirePreviousVersion(const TagName& name, const git_oid& target) {
    const int previous = *name.number - 1;
    auto has = [&](const std::string& flow) {
      return pushed_tags_.count(TagRef(name.ws, flow, previous)) || ServerHasVersion(name.ws, flow, previous);
    };
    if (previous == 0 || has(name.flow)) return;
    if (auto commit = PeelTagTarget(impl_.store, target)) {
      const std::string from = ReadPublishTrailers(impl_.store.LookupCommit(*commit).get()).RenamedFrom(name.flow);
      if (!from.empty() && has(from)) return;
    }
    Refuse("'" + name.full + "' skips v" + std::to_string(previous) + ": workspace '" + name.ws + "' has no version v" +
           std::to_string(previous) + " of '" + name.flow +
           "' and this push does not tag it; version tags are pushed in order (git push --follow-tags "
           "pushes every tag publish made; flowrepo check --repair makes missing ones)");
  }

  // True when the server has version \a number of \a flow in \a ws: the tag
  // exists and a publish commit on the workspace backs it.
  bool ServerHasVersion(const std::string& ws, const std::string& flow, int number) const {
    auto head = ServerHead(ws);
    if (!head) return false;
    auto target = impl_.store.ReadRef(TagRef(ws, flow, number));
    if (!target) return false;
    auto commit = PeelTagTarget(impl_.store, *target);
    return commit && impl_.Backs(ws, *head, impl_.version_index.For(impl_.store, ws, *head), flow, number, *commit);
  }

  // A backed version is history and stays. A tag no publish commit backs
  // (made by hand, or forged before the server checked tags) only misleads
  // and can hold the number the next publish needs, so it may be removed:
  // by an admin of its workspace, or, when that workspace does not exist,
  // by the server's owner or an admin of any workspace.
  void DeleteTag(const TagName& name, const git_oid& old_target) {
    auto head = ServerHead(name.ws);
    if (!head) {
      if (AdministersServer()) return;
      Refuse("deleting '" + name.full + "', named like a version tag of workspace '" + name.ws +
             "', which does not exist, needs the server's owner or an admin of an existing workspace");
      return;
    }
    auto commit = PeelTagTarget(impl_.store, old_target);
    if (name.number && commit &&
        impl_.Backs(name.ws, *head, impl_.version_index.For(impl_.store, name.ws, *head), name.flow, *name.number,
                    *commit)) {
      Refuse("version tags are never deleted ('" + name.full + "' exists)");
      return;
    }
    Require(name.ws, *head, Role::kAdmin);
  }

  // ---- version numbers of pushed publish commits ---------------------------

  // Every commit the push brings onto workspace \a ws (after \a old_head, or
  // for a new workspace, on no branch of the server), parents first: each
  // one whose trailer block publishes to \a ws must name, for each flow, the
  // number after the highest \a ws has so far, as publish gives them, and
  // no trailer that does not parse (a number beyond kMaxVersion).
  void CheckPublishNumbers(const std::string& ws, const std::optional<git_oid>& old_head, const git_oid& new_head) {
    Store& store = impl_.store;
    git_revwalk* raw = nullptr;
    git::Check(git_revwalk_new(&raw, store.raw()), "walk pushed commits");
    git::RevwalkPtr walk(raw);
    git::Check(git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE), "walk pushed commits");
    git::Check(git_revwalk_push(walk.get(), &new_head), "walk pushed commits");
    if (old_head) {
      git::Check(git_revwalk_hide(walk.get(), &*old_head), "walk pushed commits");
    } else if (!store.ListRefs("refs/heads/*").empty()) {
      git::Check(git_revwalk_hide_glob(walk.get(), "refs/heads/*"), "walk pushed commits");
    }
    std::map<std::string, int> highest;  // flow -> highest number so far
    git_oid id;
    while (git_revwalk_next(&id, walk.get()) == 0) {
      git::CommitPtr commit = store.LookupCommit(id);
      PublishTrailers trailers = ReadPublishTrailers(commit.get());
      if (!trailers.IsPublishTo(ws)) continue;
      for (const auto& line : trailers.malformed) {
        Refuse("commit " + ShortId(id) + ": trailer '" + line +
               "' does not parse (a version is '<flow> v<N>', N "
               "from 1 to " +
               std::to_string(kMaxVersion) + ")");
      }
      // A rename continues the old id's numbers only where the publish
      // retires the old id and versions the new one, as publish writes it.
      for (const auto& rename : trailers.renamed) {
        const std::string& from = rename.first;
        const std::string& to = rename.second;  // a name clang 14 lambdas can capture
        const bool removes =
            std::find(trailers.removed.begin(), trailers.removed.end(), from) != trailers.removed.end();
        const bool versions = std::any_of(trailers.versions.begin(), trailers.versions.end(),
                                          [&](const VersionTrailer& v) { return v.flow == to; });
        if (!removes || !versions) {
          Refuse("commit " + ShortId(id) + " renames '" + from + "' to '" + to + "' but does not " +
                 (removes ? "publish a version of '" + to + "'" : "remove '" + from + "'") +
                 "; only publish records renames");
        }
      }
      auto highest_of = [&](const std::string& flow) -> int& {
        auto [it, fresh] = highest.try_emplace(flow, 0);
        if (fresh && old_head) it->second = impl_.HighestVersion(ws, flow);
        return it->second;
      };
      for (const auto& [flow, number] : trailers.versions) {
        int& so_far = highest_of(flow);
        // A renamed flow goes on from the versions of its old id.
        if (std::string from = trailers.RenamedFrom(flow); !from.empty()) so_far = std::max(so_far, highest_of(from));
        if (number != so_far + 1) {
          Refuse("commit " + ShortId(id) + " names '" + flow + " v" + std::to_string(number) +
                 "', but the next version of '" + flow + "' in workspace '" + ws + "' is v" +
                 std::to_string(so_far + 1) +
                 "; only publish gives version numbers (publish again on "
                 "the server's head)");
        }
        so_far = std::max(so_far, number);
      }
    }
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
      CheckPublishNumbers(ws, std::nullopt, *new_id);
      return;
    }
    if (!Require(ws, *old_id, Role::kIntegrator)) return;
    if (!has) {
      Refuse("'" + ref + "' is a workspace: a push may not remove " + std::string(kSettingsPath) +
             " (that would leave it ungoverned)");
      return;
    }
    if (!impl_.store.IsAncestor(*old_id, *new_id)) {
      Refuse("workspace branches only move forward: '" + ref + "' " + ShortId(*old_id) + " is not an ancestor of " +
             ShortId(*new_id) + " (history is never rewritten)");
      return;
    }
    // Who may do what (roles, and who may export) is an admin's to change.
    const WorkspaceSettings before = WorkspaceSettings::AtCommit(impl_.store, *old_id);
    const WorkspaceSettings after = WorkspaceSettings::AtCommit(impl_.store, *new_id);
    if (before.Roles() != after.Roles() || before.ExportRole() != after.ExportRole()) {
      if (!Require(ws, *old_id, Role::kAdmin)) return;
    }
    Validate(old_id, *new_id);
    CheckPublishNumbers(ws, old_id, *new_id);
  }

  // Who may create workspace \a ws: the server's owner (git config
  // flowrepo.owner), or an admin of an existing workspace; on a server
  // without workspaces and without an owner, a first workspace whose
  // settings make the pusher admin bootstraps it.
  void CreateWorkspace(const std::string& ws, const git_oid& id) {
    if (AdministersServer()) return Validate(std::nullopt, id);
    if (AnyWorkspace()) {
      Refuse("creating workspace '" + ws + "' needs the admin role in an existing workspace");
      return;
    }
    const std::string owner = impl_.store.ConfigString("flowrepo.owner");
    if (!owner.empty()) {
      Refuse("only the server's owner '" + owner +
             "' (git config flowrepo.owner) may create the "
             "first workspace '" +
             ws + "'");
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
    ValidationContext context{InSet(ids), AvailabilityOf(settings ? &*settings : nullptr),
                              CredentialPolicy::kAllowUnbound};
    const std::map<std::string, FlowChange> changes = DiffFlowTrees(store, FlowsTree(old_id), FlowsTree(new_id));
    std::vector<const FlowChange*> changed;
    for (const auto& [id, change] : changes) {
      changed.push_back(&change);
      if (!change.after) continue;
      for (auto& p : ValidateFlow(ReadFlowAt(store, *change.after), context)) problems.push_back(std::move(p));
    }
    for (const auto& clash : ClashesOfChanges(index, changed)) {
      problems.push_back(NameClashProblem(clash));
    }
    // Flows that still use a removed flow are broken by the removal too.
    for (const auto& [id, change] : changes) {
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
  std::map<std::string, std::optional<git_oid>> pushed_heads_;  ///< workspace-named branches: new head or deleted
  std::set<std::string> pushed_tags_;                           ///< tag refs this push creates
  std::set<std::string> scanned_commits_;                       ///< per push: a commit is scanned once
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
    if (!(fields >> u.old_id >> u.new_id >> u.ref) || (fields >> extra) || !IsHexId(u.old_id) || !IsHexId(u.new_id) ||
        u.ref.rfind("refs/", 0) != 0) {
      throw Error(ErrorCode::kInvalidArgument,
                  "malformed ref update line '" + line.substr(0, 200) + "' (expected '<old> <new> <ref>')");
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
  judge.NotePush(updates);
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
