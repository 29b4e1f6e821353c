// Check: the invariants of a flow repository that git itself does not know.
//
// 1. Find the workspaces: branches whose head holds .flowrepo/workspace.json
//    (which must parse), and names that have version tags or drafts but
//    whose branch lost its settings. Workspaces the user has no role in are
//    skipped.
// 2. Run every function of kChecks over the readable workspaces and
//    concatenate their problems. A new check (a stale work tree, say) is
//    one more function there.
// 3. The version checks read every publish commit on each workspace's
//    first-parent chain (no cache: check is what would find a damaged one)
//    and every tag under refs/tags/<ws>/. A tag is backed as versions.cc
//    decides; every version a publish commit names has its tag; no version
//    is named twice; a flow's numbers run v1..vN.
// With Repair::kMissingTags, tags that publish commits name but lack are
// created first (Impl::CompleteTags, as a rerun of the publish would), and
// the checks then see the result.

#include "flowrepo/check.h"

#include <algorithm>
#include <map>
#include <set>

#include "flowrepo/error.h"
#include "repo/repository_impl.h"
#include "repo/trailers.h"
#include "repo/worktree.h"

namespace flowrepo {

const char* CheckKindName(CheckKind kind) {
  switch (kind) {
    case CheckKind::kUnbackedTag: return "unbacked-tag";
    case CheckKind::kInvalidTagName: return "invalid-tag-name";
    case CheckKind::kMissingTag: return "missing-tag";
    case CheckKind::kDuplicateVersion: return "duplicate-version";
    case CheckKind::kVersionGap: return "version-gap";
    case CheckKind::kInvalidTrailer: return "invalid-trailer";
    case CheckKind::kMissingSettings: return "missing-settings";
    case CheckKind::kInvalidSettings: return "invalid-settings";
    case CheckKind::kDuplicateFlowId: return "duplicate-flow-id";
    case CheckKind::kStaleWorkTree: return "stale-work-tree";
  }
  return "unknown";
}

std::string CheckProblem::ToString() const { return std::string(CheckKindName(kind)) + " " + ref + ": " + message; }

namespace {

constexpr std::string_view kTagsPrefix = "refs/tags/";

struct Workspace {
  std::string name;
  git_oid head;
};

// What the checks share.
struct CheckContext {
  FlowRepository::Impl& impl;
  std::vector<Workspace> readable;  ///< workspaces whose settings parse and the user may read
  CheckReport& report;              ///< for the counters
};

using CheckFunction = std::vector<CheckProblem> (*)(CheckContext&);

// ---- 1. workspaces ----------------------------------------------------------

// Names that version tags (<name>/<flow>/v<N>) or drafts claim as workspaces.
std::set<std::string> ClaimedWorkspaceNames(const Store& store) {
  std::set<std::string> names;
  for (const auto& [ref, id] : store.ListRefs("refs/tags/*")) {
    std::string_view rest = std::string_view(ref).substr(kTagsPrefix.size());
    auto slash = rest.find('/');
    auto second = slash == std::string_view::npos ? slash : rest.find('/', slash + 1);
    if (second != std::string_view::npos && VersionFromTag(rest.substr(second + 1), "v")) {
      names.insert(std::string(rest.substr(0, slash)));
    }
  }
  const std::string drafts = "refs/heads/drafts/";
  for (const auto& [ref, id] : store.ListRefs(drafts + "*")) {
    std::string rest = ref.substr(drafts.size());
    names.insert(rest.substr(0, rest.find('/')));
  }
  return names;
}

// Settings problems of branch \a name, or std::nullopt and the settings.
std::optional<CheckProblem> ReadSettings(const Store& store, const std::string& name, const git_oid& head, bool claimed,
                                         std::optional<WorkspaceSettings>& settings) {
  const std::string ref = WorkspaceRef(name);
  const std::string path(kSettingsPath);
  git::TreePtr tree = store.CommitTree(head);
  auto entry = store.EntryAt(tree.get(), path);
  if (!entry) {
    if (!claimed) return std::nullopt;  // an ordinary branch
    return CheckProblem{
        CheckKind::kMissingSettings, name, ref, "",
        "workspace '" + name + "' has version tags or drafts but its head " + ShortId(head) + " has no '" + path + "'"};
  }
  if (entry->mode != GIT_FILEMODE_BLOB && entry->mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
    return CheckProblem{CheckKind::kInvalidSettings, name, ref, "",
                        "'" + path + "' at " + ShortId(head) + " is not a file"};
  }
  try {
    settings = WorkspaceSettings::Parse(store.ReadBlob(entry->id));
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidData) throw;
    return CheckProblem{CheckKind::kInvalidSettings, name, ref, "", e.what()};
  }
  return std::nullopt;
}

std::vector<CheckProblem> FindWorkspaces(CheckContext& c) {
  const Store& store = c.impl.store;
  const std::set<std::string> claimed = ClaimedWorkspaceNames(store);
  std::vector<CheckProblem> problems;
  const std::string heads = "refs/heads/";
  for (const auto& [ref, head] : store.ListRefs(heads + "*")) {
    const std::string name = ref.substr(heads.size());
    if (!IsValidId(name)) continue;  // drafts/... and branches no workspace can be
    std::optional<WorkspaceSettings> settings;
    if (auto problem = ReadSettings(store, name, head, claimed.count(name) > 0, settings)) {
      problems.push_back(std::move(*problem));
      continue;
    }
    if (!settings) continue;
    if (!settings->RoleOf(c.impl.user)) {
      c.report.skipped.push_back(name);
      continue;
    }
    c.readable.push_back({name, head});
    c.report.workspaces.push_back(name);
  }
  return problems;
}

// ---- 2. flow ids ------------------------------------------------------------

std::vector<CheckProblem> CheckFlowIds(CheckContext& c) {
  std::vector<CheckProblem> problems;
  for (const auto& ws : c.readable) {
    git::TreePtr tree = c.impl.store.CommitTree(ws.head);
    try {
      IndexFlows(c.impl.store, tree.get());
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kInvalidData) throw;
      problems.push_back({CheckKind::kDuplicateFlowId, ws.name, WorkspaceRef(ws.name), "", e.what()});
    }
  }
  return problems;
}

// ---- 3. versions --------------------------------------------------------------

using FlowVersion = std::pair<std::string, int>;

// The publish commits of a workspace on its head's first-parent chain.
struct Chain {
  std::vector<git_oid> publishes;                     ///< newest first
  std::map<FlowVersion, std::vector<git_oid>> named;  ///< version -> the commits naming it
  std::map<std::string, std::string> renamed_from;    ///< new id -> old id, as publishes renamed
  std::vector<CheckProblem> problems;                 ///< malformed trailers
};

Chain ReadChain(const Store& store, const Workspace& ws) {
  Chain chain;
  git_oid current = ws.head;
  while (true) {
    git::CommitPtr commit = store.LookupCommit(current);
    PublishTrailers trailers = ReadPublishTrailers(commit.get());
    if (trailers.IsPublishTo(ws.name)) {
      // Role changes name the workspace too, but publish nothing.
      if (!trailers.versions.empty() || !trailers.draft.empty() || !trailers.created_from.empty()) {
        chain.publishes.push_back(current);
      }
      for (const auto& v : trailers.versions) chain.named[{v.flow, v.number}].push_back(current);
      for (const auto& [from, to] : trailers.renamed) chain.renamed_from[to] = from;
      for (const auto& bad : trailers.malformed) {
        chain.problems.push_back({CheckKind::kInvalidTrailer, ws.name, git::OidHex(current), "",
                                  "publish commit " + ShortId(current) + " has a malformed trailer '" + bad + "'"});
      }
      if (!trailers.created_from.empty()) break;  // the workspace began here
    }
    if (git_commit_parentcount(commit.get()) == 0) break;
    current = *git_commit_parent_id(commit.get(), 0);
  }
  return chain;
}

bool ChainNames(const Chain& chain, const FlowVersion& version, const git_oid& commit) {
  auto it = chain.named.find(version);
  if (it == chain.named.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const git_oid& c) { return git_oid_equal(&c, &commit); });
}

// Why the tag of \a version at \a target is not backed; empty when it is.
std::string Unbacked(const Store& store, const Workspace& ws, const Chain& chain, const FlowVersion& version,
                     const git_oid& target) {
  auto commit = PeelTagTarget(store, target);
  if (!commit) return "does not point at a commit";
  if (ChainNames(chain, version, *commit)) return "";
  const std::string at = "points at " + ShortId(*commit);
  const std::string named = "'" + version.first + " v" + std::to_string(version.second) + "'";
  git::CommitPtr found = store.LookupCommit(*commit);
  PublishTrailers trailers = ReadPublishTrailers(found.get());
  if (!trailers.IsPublishTo(ws.name)) return at + ", which is no publish commit of workspace '" + ws.name + "'";
  if (!trailers.NamesVersion(version.first, version.second)) return at + ", a publish that does not name " + named;
  if (!store.IsAncestor(*commit, ws.head)) {
    return at + ", a publish of " + named + " that workspace '" + ws.name + "' does not contain";
  }
  return "";  // reached through a second parent
}

// "v2, v3, v7 and 4 more": the numbers below the highest of \a present
// (all at least 1) that it lacks.
std::string Gaps(const std::set<int>& present) {
  constexpr std::size_t kShown = 5;
  const std::size_t total = static_cast<std::size_t>(*present.rbegin()) - present.size();
  if (total == 0) return "";
  std::string out;
  std::size_t shown = 0;
  int expected = 1;
  for (int n : present) {
    for (; expected < n && shown < kShown; ++expected, ++shown) {
      out += (shown ? ", v" : "v") + std::to_string(expected);
    }
    expected = n + 1;
  }
  if (total > shown) out += " and " + std::to_string(total - shown) + " more";
  return out;
}

std::vector<CheckProblem> CheckWorkspaceVersions(CheckContext& c, const Workspace& ws) {
  const Store& store = c.impl.store;
  // The derived version index is made again from the commits too: a
  // damaged file only slowed lookups down, and no longer does.
  c.impl.version_index.Rebuild(store, ws.name, ws.head);
  Chain chain = ReadChain(store, ws);
  c.report.publish_commits += static_cast<int>(chain.publishes.size());
  std::vector<CheckProblem> problems = std::move(chain.problems);
  std::map<std::string, std::set<int>> numbers;  // flow -> backed or named numbers

  const std::string prefix = std::string(kTagsPrefix) + ws.name + "/";
  for (const auto& [ref, target] : store.ListRefs(prefix + "*")) {
    std::string_view rest = std::string_view(ref).substr(prefix.size());
    auto slash = rest.find('/');
    std::string flow(rest.substr(0, slash));
    auto number = slash == std::string_view::npos ? std::nullopt : VersionFromTag(rest.substr(slash + 1), "v");
    if (!number || !IsValidId(flow)) {
      problems.push_back({CheckKind::kInvalidTagName, ws.name, ref, "",
                          "tag '" + ShortTag(ref) + "' is not named <flow>/v<N> (N from 1 to " +
                              std::to_string(kMaxVersion) + "), yet refs/tags/" + ws.name +
                              "/ holds version tags only"});
      continue;
    }
    ++c.report.version_tags;
    std::string why = Unbacked(store, ws, chain, {flow, *number}, target);
    if (why.empty()) {
      numbers[flow].insert(*number);
      continue;
    }
    problems.push_back({CheckKind::kUnbackedTag, ws.name, ref, flow,
                        "tag '" + ShortTag(ref) + "' " + why + "; history, export and revert ignore it"});
  }

  for (const auto& [version, commits] : chain.named) {
    const auto& [flow, number] = version;
    numbers[flow].insert(number);
    const std::string ref = TagRef(ws.name, flow, number);
    const std::string named = "'" + flow + " v" + std::to_string(number) + "'";
    if (commits.size() > 1) {
      std::string list;
      for (const auto& id : commits) list += (list.empty() ? "" : ", ") + ShortId(id);
      problems.push_back(
          {CheckKind::kDuplicateVersion, ws.name, ref, flow,
           named + " is named by " + std::to_string(commits.size()) + " publish commits (" + list + ")"});
    }
    if (!store.ReadRef(ref)) {
      problems.push_back({CheckKind::kMissingTag, ws.name, ref, flow,
                          "publish commit " + ShortId(commits.back()) + " names " + named + " but tag '" +
                              ShortTag(ref) + "' does not exist; 'flowrepo check --repair' creates it"});
    }
  }

  // A renamed flow's numbers go on from its old id's: those count as its own.
  for (auto& [to, present] : numbers) {
    const int first = *present.begin();
    std::set<std::string> seen;
    for (auto from = chain.renamed_from.find(to); from != chain.renamed_from.end() && seen.insert(from->second).second;
         from = chain.renamed_from.find(from->second)) {
      auto old = numbers.find(from->second);
      if (old == numbers.end()) continue;
      for (int n : old->second) {
        if (n < first) present.insert(n);
      }
    }
  }
  for (const auto& [flow, present] : numbers) {
    std::string gaps = Gaps(present);
    if (gaps.empty()) continue;
    problems.push_back({CheckKind::kVersionGap, ws.name, prefix + flow, flow,
                        "flow '" + flow + "' in workspace '" + ws.name + "' has versions up to v" +
                            std::to_string(*present.rbegin()) + " but no " + gaps});
  }
  return problems;
}

std::vector<CheckProblem> CheckVersions(CheckContext& c) {
  std::vector<CheckProblem> problems;
  for (const auto& ws : c.readable) {
    auto found = CheckWorkspaceVersions(c, ws);
    problems.insert(problems.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
  }
  return problems;
}

// Every check over the readable workspaces, in report order. To add one
// (a stale work tree, say): a function returning its problems, a CheckKind
// with its name in CheckKindName, and an entry here.
// Work trees an interrupted update left behind (repo/worktree.h).
std::vector<CheckProblem> CheckWorkTrees(CheckContext& c) {
  std::vector<CheckProblem> problems;
  for (auto& [path, ref, message] : StaleWorkTrees(c.impl.store)) {
    problems.push_back({CheckKind::kStaleWorkTree, "", ref, "", "work tree '" + path + "': " + message});
  }
  return problems;
}

constexpr CheckFunction kChecks[] = {CheckFlowIds, CheckVersions, CheckWorkTrees};

// ---- repair -------------------------------------------------------------------

void RepairMissingTags(CheckContext& c) {
  Store& store = c.impl.store;
  for (const auto& ws : c.readable) {
    Chain chain = ReadChain(store, ws);
    for (const auto& commit : chain.publishes) {
      git::CommitPtr found = store.LookupCommit(commit);
      PublishTrailers trailers = ReadPublishTrailers(found.get());
      bool missing = std::any_of(trailers.versions.begin(), trailers.versions.end(), [&](const VersionTrailer& v) {
        return !store.ReadRef(TagRef(ws.name, v.flow, v.number));
      });
      if (!missing) continue;
      c.impl.RequireRole(ws.name, Role::kIntegrator);
      for (std::string& tag : c.impl.CompleteTags(ws.name, commit)) c.report.repaired.push_back(std::move(tag));
    }
  }
}

}  // namespace

CheckReport FlowRepository::Check(const CheckOptions& options) {
  CheckReport report;
  CheckContext context{*impl_, {}, report};
  std::vector<CheckProblem> problems = FindWorkspaces(context);
  if (options.repair == CheckOptions::Repair::kMissingTags) RepairMissingTags(context);
  for (CheckFunction check : kChecks) {
    auto found = check(context);
    problems.insert(problems.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
  }
  report.problems = std::move(problems);
  return report;
}

}  // namespace flowrepo
