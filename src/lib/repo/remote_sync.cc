// Working with the team's server: one server decides (DESIGN.md, 8).
//
// Refs a fetch writes, all in this clone only:
//   refs/remotes/<r>/<branch>            the server's branches (pruned)
//   refs/flowrepo/remote-tags/<r>/<tag>  the server's tags, before they are
//                                        compared with the local ones
// and what pull sets aside rather than lose:
//   refs/flowrepo/unpublished/<ws>/<commit>   a local head the server never got
//   refs/flowrepo/set-aside-tags/<tag>        a local tag the server contradicts
//
// Publishing with an upstream (PublishOnServer):
// 1. Build on the server's head as of the last fetch (no fetch first: the
//    compare-and-swap below finds out when the server moved); a local head
//    the server lacks refuses: pull first.
// 2. Publish as locally, but land the commit on the server first: one
//    atomic push (git push --atomic) of the workspace branch, by
//    compare-and-swap against the head the commit was built on, and of
//    its new version tags, which must not exist yet. Version numbers are
//    in the commit's trailers and the tags go with it or not at all, so
//    each number names one commit everywhere.
// 3. The server moved meanwhile: fetch and build again (a bounded number of
//    times); another publish of the same flow is a conflict (exit 5) that
//    `draft update` resolves.
// 4. Only then do the local refs move and the tags get made locally. Tag
//    objects are the same in every clone (tagger and message come from the
//    publish commit), so the local ones are the ones pushed.

#include <git2.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "flowrepo/error.h"
#include "git/transport.h"
#include "repo/layout.h"
#include "repo/repository_impl.h"
#include "repo/settings_changes.h"
#include "repo/trailers.h"
#include "repo/worktree.h"

namespace flowrepo {
namespace {

constexpr int kPublishAttempts = 6;
constexpr std::string_view kDefaultRemote = "origin";

// Thrown by LandPublish when the server's head moved; caught by
// PublishOnServer, which builds the publish again. Never leaves this file.
struct ServerMoved {};

std::string Tracking(std::string_view remote, std::string_view branch) {
  return "refs/remotes/" + std::string(remote) + "/" + std::string(branch);
}
std::string StagedTags(std::string_view remote) { return "refs/flowrepo/remote-tags/" + std::string(remote) + "/"; }

std::vector<std::string> FetchSpecs(std::string_view remote) {
  return {"+refs/heads/*:" + Tracking(remote, "*"), "+refs/tags/*:" + StagedTags(remote) + "*"};
}

git::ServerLines Lines(const ServerLineSink& sink) {
  if (!sink) return {};
  return [&sink](std::string_view line) { sink(line); };
}

bool HasSettingsAt(const Store& store, const git_oid& commit) {
  git::TreePtr tree = store.CommitTree(commit);
  return store.EntryAt(tree.get(), std::string(kSettingsPath)).has_value();
}

void SetConfig(Store& store, const std::string& key, const std::string& value) {
  git_config* raw = nullptr;
  git::Check(git_repository_config(&raw, store.raw()), "open git config");
  git::ConfigPtr config(raw);
  git::Check(git_config_set_string(config.get(), key.c_str(), value.c_str()), "set " + key);
}

void SetUpstream(Store& store, std::string_view remote, const std::string& branch) {
  SetConfig(store, "branch." + branch + ".remote", std::string(remote));
  SetConfig(store, "branch." + branch + ".merge", "refs/heads/" + branch);
}

// Sets a ref of this clone's own bookkeeping to \a target, whatever it was.
void SetOwnRef(Store& store, const std::string& ref, const git_oid& target, const std::string& log) {
  store.UpdateRef(ref, target, store.ReadRef(ref), log);
}

// A fetch writes every new ref of the server as a loose file (tags twice:
// staged, then adopted); packing them keeps later ref listings one read.
void Fetch(FlowRepository::Impl& impl, std::string_view remote, const ServerLineSink& lines) {
  git::Fetch(impl.store.raw(), std::string(remote), FetchSpecs(remote), Lines(lines));
  impl.store.PackRefs();
}

// Workspace names on the server: tracking branches that hold settings.
std::vector<std::string> ServerWorkspaces(const Store& store, std::string_view remote) {
  std::vector<std::string> out;
  const std::string prefix = Tracking(remote, "");
  for (const auto& [ref, id] : store.ListRefs(prefix + "*")) {
    std::string name = ref.substr(prefix.size());
    if (IsValidId(name) && HasSettingsAt(store, id)) out.push_back(name);
  }
  return out;
}

// The commits of \a head the server's \a server does not have, newest first.
std::vector<git_oid> OnlyHere(const Store& store, const git_oid& head, const std::optional<git_oid>& server) {
  git_revwalk* raw = nullptr;
  git::Check(git_revwalk_new(&raw, store.raw()), "walk history");
  git::RevwalkPtr walk(raw);
  git::Check(git_revwalk_push(walk.get(), &head), "walk history");
  if (server) git::Check(git_revwalk_hide(walk.get(), &*server), "walk history");
  std::vector<git_oid> out;
  for (git_oid id; git_revwalk_next(&id, walk.get()) == 0;) out.push_back(id);
  return out;
}

// Local version tags that commits the server never got made, moved under
// refs/flowrepo/set-aside-tags/: the server decides those numbers.
void SetAsideTagsOf(FlowRepository::Impl& impl, std::string_view ws, const std::vector<git_oid>& commits,
                    PullReport& report) {
  Store& store = impl.store;
  for (const auto& id : commits) {
    git::CommitPtr commit = store.LookupCommit(id);
    PublishTrailers trailers = ReadPublishTrailers(commit.get());
    if (!trailers.IsPublishTo(ws)) continue;
    for (const auto& [flow, n] : trailers.versions) {
      const std::string ref = TagRef(ws, flow, n);
      auto target = store.ReadRef(ref);
      if (!target) continue;
      auto peeled = PeelTagTarget(store, *target);
      if (!peeled || !git_oid_equal(&*peeled, &id)) continue;
      const std::string name = ref.substr(std::string_view("refs/tags/").size());
      SetOwnRef(store, "refs/flowrepo/set-aside-tags/" + name, *target, "flowrepo: set aside unpublished tag");
      store.DeleteRef(ref, *target);
      report.tags_set_aside.push_back(name);
    }
  }
}

// Drafts started on local commits the server never got carry those
// commits, whose trailers claim version numbers the server did not give:
// published, the server would refuse them. Each such draft becomes one
// commit with its own tree on top of the draft \a kept that now holds
// those changes (its old head kept under refs/flowrepo/unpublished/).
void RebaseDraftsOn(FlowRepository::Impl& impl, std::string_view ws, const git_oid& local, const git_oid& server,
                    const std::string& kept_name, const git_oid& kept, PullReport& report) {
  Store& store = impl.store;
  git::SignaturePtr who = store.Signature(impl.user.empty() ? "flowrepo" : impl.user);
  for (const auto& [ref, head] : store.ListRefs(DraftRefPrefix(ws) + "*")) {
    if (ref == DraftRef(ws, kept_name) || store.IsAncestor(head, kept)) continue;
    auto shared = store.MergeBase(head, local);
    if (!shared || store.IsAncestor(*shared, server)) continue;  // holds nothing only this clone had
    const std::string name = ref.substr(DraftRefPrefix(ws).size());
    SetOwnRef(store, "refs/flowrepo/unpublished/" + std::string(ws) + "/" + git::OidHex(head), head,
              "flowrepo: draft head before pull rebased it");
    git_oid commit = store.CreateCommit(store.CommitTreeId(head), {kept},
                                        "Draft " + name + " on draft " + kept_name + "\n\nIt was " + git::OidHex(head) +
                                            ", started on changes the server never got.\n",
                                        who.get());
    impl.MoveRef(ref, commit, head, "flowrepo: pull (draft on unpublished changes)");
    report.changes.push_back({ref, git::OidHex(head), git::OidHex(commit), "rebased", kept_name});
  }
}

// Local commits on workspace \a ws the server never got become draft
// "unpublished-<commit>" based where the two histories part, holding the
// local tree; the local head is kept under refs/flowrepo/unpublished/.
std::string TurnIntoDraft(FlowRepository::Impl& impl, std::string_view ws, std::string_view remote,
                          const git_oid& local, const git_oid& server, PullReport& report) {
  Store& store = impl.store;
  auto base = store.MergeBase(local, server);
  if (!base) {
    throw Error(ErrorCode::kConflict,
                "workspace '" + std::string(ws) + "' shares no history with '" + std::string(remote) + "'");
  }
  const std::string name = "unpublished-" + ShortId(local);
  const std::string draft_ref = DraftRef(ws, name);
  SetOwnRef(store, "refs/flowrepo/unpublished/" + std::string(ws) + "/" + git::OidHex(local), local,
            "flowrepo: local head the server never got");
  git::SignaturePtr who = store.Signature(impl.user.empty() ? "flowrepo" : impl.user);
  auto kept = store.ReadRef(draft_ref);  // a rerun after a kill made it already
  if (!kept) {
    kept = store.CreateCommit(store.CommitTreeId(local), {*base},
                              "Changes to " + std::string(ws) + " that never reached " + std::string(remote) +
                                  "\n\nThey were " + git::OidHex(local) +
                                  " in this clone; publish this draft to make them versions.\n",
                              who.get());
    store.UpdateRef(draft_ref, *kept, std::nullopt, "flowrepo: pull kept unpublished changes");
  }
  RebaseDraftsOn(impl, ws, local, server, name, *kept, report);
  SetAsideTagsOf(impl, ws, OnlyHere(store, local, server), report);
  return name;
}

// Brings local workspace \a ws to the server's head. \a keep_local_commits:
// turn commits only this clone has into a draft (pull), or refuse (publish).
void AdoptWorkspace(FlowRepository::Impl& impl, std::string_view remote, const std::string& ws, bool keep_local_commits,
                    PullReport& report) {
  Store& store = impl.store;
  auto server = store.ReadRef(Tracking(remote, ws));
  if (!server) return;
  const std::string ref = WorkspaceRef(ws);
  auto local = store.ReadRef(ref);
  PullChange change{ref, local ? git::OidHex(*local) : "", git::OidHex(*server), "", ""};
  // From now on publish lands there (a repository made by init, then
  // given a remote, gets its upstream from its first pull).
  if (!impl.UpstreamOf(ws)) SetUpstream(store, remote, ws);
  if (!local) {
    store.UpdateRef(ref, *server, std::nullopt, "flowrepo: pull");
    change.what = "created";
  } else if (git_oid_equal(&*local, &*server)) {
    change.what = "up-to-date";
  } else if (store.IsAncestor(*local, *server)) {
    impl.MoveRef(ref, *server, *local, "flowrepo: pull (fast-forward)");
    change.what = "fast-forward";
  } else if (!keep_local_commits) {
    throw Error(ErrorCode::kConflict, "workspace '" + ws + "' has commits '" + std::string(remote) +
                                          "' does not have (a publish made offline?); run 'flowrepo pull' "
                                          "first: it keeps them as a draft");
  } else {
    change.detail = TurnIntoDraft(impl, ws, remote, *local, *server, report);
    impl.MoveRef(ref, *server, *local, "flowrepo: pull (local changes kept as a draft)");
    change.what = "unpublished-to-draft";
  }
  report.changes.push_back(std::move(change));
}

// The refs under \a prefix, by their name after it: one listing, so that
// comparing thousands of tags reads packed-refs once, not once a tag.
std::map<std::string, git_oid> RefsUnder(const Store& store, const std::string& prefix) {
  std::map<std::string, git_oid> out;
  for (const auto& [ref, id] : store.ListRefs(prefix + "*")) out.emplace(ref.substr(prefix.size()), id);
  return out;
}

// Server tags become local ones; a local tag the server contradicts is set
// aside, since the server decides. \a only_ws limits it to one workspace.
void AdoptTags(Store& store, std::string_view remote, const std::string& only_ws, PullReport& report) {
  const std::string under = only_ws.empty() ? "" : only_ws + "/";
  const std::map<std::string, git_oid> local = RefsUnder(store, "refs/tags/" + under);
  for (const auto& [rest, target] : RefsUnder(store, StagedTags(remote) + under)) {
    const std::string name = under + rest;
    auto mine = local.find(rest);
    if (mine != local.end() && git_oid_equal(&mine->second, &target)) continue;
    std::optional<git_oid> before;
    if (mine != local.end()) {
      before = mine->second;
      SetOwnRef(store, "refs/flowrepo/set-aside-tags/" + name, *before, "flowrepo: tag the server contradicts");
      report.tags_set_aside.push_back(name);
    }
    store.UpdateRef("refs/tags/" + name, target, before, "flowrepo: tag from " + std::string(remote));
    report.tags_added.push_back(name);
  }
}

// Shared drafts: created or fast-forwarded; a local draft whose server copy
// is gone and whose head the workspace holds was published: removed.
void AdoptDrafts(FlowRepository::Impl& impl, std::string_view remote, const std::set<std::string>& tracked_before,
                 PullReport& report) {
  Store& store = impl.store;
  const std::string prefix = Tracking(remote, "drafts/");
  std::set<std::string> on_server;
  for (const auto& [tracking, server] : store.ListRefs(prefix + "*")) {
    const std::string ref = "refs/heads/drafts/" + tracking.substr(prefix.size());
    on_server.insert(ref);
    auto local = store.ReadRef(ref);
    PullChange change{ref, local ? git::OidHex(*local) : "", git::OidHex(server), "", ""};
    if (!local) {
      store.UpdateRef(ref, server, std::nullopt, "flowrepo: pull shared draft");
      change.what = "created";
    } else if (git_oid_equal(&*local, &server)) {
      continue;
    } else if (store.IsAncestor(*local, server)) {
      impl.MoveRef(ref, server, *local, "flowrepo: pull (fast-forward)");
      change.what = "fast-forward";
    } else {
      change.what = store.IsAncestor(server, *local) ? "local-ahead" : "diverged";
    }
    report.changes.push_back(std::move(change));
  }
  for (const auto& ref : tracked_before) {
    if (on_server.count(ref) || !WorkTreesOn(store, ref).empty()) continue;  // never a checked-out branch
    auto local = store.ReadRef(ref);
    std::string rest = ref.substr(std::string_view("refs/heads/drafts/").size());
    std::string ws = rest.substr(0, rest.find('/'));
    auto head = store.ReadRef(WorkspaceRef(ws));
    if (!local || !head || !store.IsAncestor(*local, *head)) continue;
    store.DeleteRef(ref, *local);
    report.changes.push_back({ref, git::OidHex(*local), "", "removed-published", ""});
  }
}

std::set<std::string> TrackedDrafts(const Store& store, std::string_view remote) {
  std::set<std::string> out;
  const std::string prefix = Tracking(remote, "drafts/");
  for (const auto& [tracking, id] : store.ListRefs(prefix + "*")) {
    out.insert("refs/heads/drafts/" + tracking.substr(prefix.size()));
  }
  return out;
}

std::string RemoteOrDefault(std::string_view remote) {
  return remote.empty() ? std::string(kDefaultRemote) : std::string(remote);
}

// Settles one flow changed on both sides for UpdateDraft.
enum class Side { kUnset, kDraft, kWorkspace };

Side Resolution(const DraftUpdateRequest& r, const std::string& id) {
  bool draft = std::count(r.keep_draft.begin(), r.keep_draft.end(), id) > 0;
  bool ws = std::count(r.take_workspace.begin(), r.take_workspace.end(), id) > 0;
  if (draft && ws) throw Error(ErrorCode::kInvalidArgument, "flow '" + id + "' is named both to keep and to take");
  return draft ? Side::kDraft : ws ? Side::kWorkspace : Side::kUnset;
}

}  // namespace

// ---- Impl -------------------------------------------------------------------

std::optional<std::string> FlowRepository::Impl::UpstreamOf(std::string_view ws) const {
  std::string remote = store.ConfigString(("branch." + std::string(ws) + ".remote").c_str());
  if (remote.empty() || remote == ".") return std::nullopt;
  return remote;
}

void FlowRepository::Impl::LandPublish(std::string_view ws, const git_oid& commit, const git_oid& expected,
                                       const std::string& log) {
  const std::string ref = WorkspaceRef(ws);
  if (!landing_remote.empty()) {
    // A work tree that could not follow must refuse before the server moves.
    WorkTreeSync::Plan(store, ref, expected, commit);
    store.FlushPackedWrites();  // git push reads the objects from disk
    std::vector<git::PushUpdate> updates = {{git::OidHex(commit), ref, expected}};
    for (const auto& [tag, object] : TagObjects(ws, commit))
      updates.push_back({git::OidHex(object), tag, std::nullopt});
    try {
      git::Push(store.raw(), landing_remote, updates, Lines(server_lines));
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kConflict) throw ServerMoved{};
      if (e.code() != ErrorCode::kRemote) throw;
      // Refused: lost a race inside receive-pack, or really refused.
      Fetch(*this, landing_remote, {});
      auto now = store.ReadRef(Tracking(landing_remote, ws));
      if (!now || !git_oid_equal(&*now, &expected)) throw ServerMoved{};
      throw;
    }
    SetOwnRef(store, Tracking(landing_remote, ws), commit, "flowrepo: published");
    for (std::size_t i = 1; i < updates.size(); ++i) {
      const std::string name = updates[i].dst.substr(std::string_view("refs/tags/").size());
      SetOwnRef(store, StagedTags(landing_remote) + name, git::OidFromHex(updates[i].src), "flowrepo: published");
    }
  }
  MoveRef(ref, commit, expected, log);
}

// The local version tags of \a ws the server lacks, as of the last fetch.
std::vector<git::PushUpdate> TagsToShare(const Store& store, std::string_view remote, std::string_view ws) {
  const std::string under = std::string(ws) + "/";
  const std::map<std::string, git_oid> on_server = RefsUnder(store, StagedTags(remote) + under);
  std::vector<git::PushUpdate> tags;
  for (const auto& [rest, target] : RefsUnder(store, "refs/tags/" + under)) {
    if (on_server.count(rest)) continue;
    auto slash = rest.rfind('/');
    if (slash == std::string::npos || !VersionFromTag(std::string_view(rest).substr(slash + 1), "v")) continue;
    const std::string ref = "refs/tags/" + under + rest;
    tags.push_back({ref, ref, std::nullopt});
  }
  return tags;
}

std::vector<std::string> FlowRepository::Impl::ShareLanded(std::string_view ws, std::string_view draft) {
  std::vector<std::string> problems;
  const std::string remote = landing_remote;
  // Another clone that fetched the publish commit may push the same tags
  // (CompleteTags makes identical objects) just before: the server then
  // refuses ours as a move. Fetch and push what it still lacks.
  for (int attempt = 1;; ++attempt) {
    std::vector<git::PushUpdate> tags = TagsToShare(store, remote, ws);
    if (tags.empty()) break;
    try {
      git::Push(store.raw(), remote, tags, Lines(server_lines));
      for (const auto& t : tags) {
        SetOwnRef(store, StagedTags(remote) + t.dst.substr(std::string_view("refs/tags/").size()),
                  *store.ReadRef(t.dst), "flowrepo: shared");
      }
      break;
    } catch (const Error& e) {
      if ((e.code() == ErrorCode::kConflict || e.code() == ErrorCode::kRemote) && attempt < 3) {
        Fetch(*this, remote, {});
        continue;
      }
      problems.push_back(std::string("the version tags did not reach the server (") + e.what() +
                         "); the next publish shares them");
      break;
    }
  }
  const std::string draft_branch = "drafts/" + std::string(ws) + "/" + std::string(draft);
  if (auto shared = store.ReadRef(Tracking(remote, draft_branch))) {
    try {
      git::Push(store.raw(), remote, {{"", "refs/heads/" + draft_branch, *shared}}, Lines(server_lines));
      // git push removes it itself when the remote is a configured one.
      auto left = store.ReadRef(Tracking(remote, draft_branch));
      if (left && git_oid_equal(&*left, &*shared)) store.DeleteRef(Tracking(remote, draft_branch), *shared);
    } catch (const Error& e) {
      problems.push_back("the server's copy of draft '" + std::string(draft) + "' was not removed (" + e.what() + ")");
    }
  }
  return problems;
}

// ---- FlowRepository -----------------------------------------------------------

PublishResult FlowRepository::PublishOnServer(const std::string& remote, std::string_view workspace,
                                              std::string_view draft, std::string_view note) {
  struct Landing {
    Impl& impl;
    ~Landing() { impl.landing_remote.clear(); }
  } landing{*impl_};
  for (int attempt = 1; attempt <= kPublishAttempts; ++attempt) {
    // The first attempt trusts the last fetch: landing checks the head.
    const bool fetch = attempt > 1 || !impl_->store.ReadRef(Tracking(remote, workspace));
    if (fetch) Fetch(*impl_, remote, impl_->server_lines);
    PullReport ignored;
    AdoptWorkspace(*impl_, remote, std::string(workspace), /*keep_local_commits=*/false, ignored);
    if (fetch) AdoptTags(impl_->store, remote, std::string(workspace), ignored);
    impl_->landing_remote = remote;
    try {
      PublishResult result = Publish(workspace, draft, note);
      result.remote = remote;
      result.attempts = attempt;
      std::vector<std::string> problems = impl_->ShareLanded(workspace, draft);
      result.warnings.insert(result.warnings.end(), problems.begin(), problems.end());
      return result;
    } catch (const ServerMoved&) {
      impl_->landing_remote.clear();
    }
  }
  throw Error(ErrorCode::kConflict, "the workspace '" + std::string(workspace) + "' on '" + remote + "' moved " +
                                        std::to_string(kPublishAttempts) +
                                        " times while publishing; nothing was published, try again");
}

void FlowRepository::PublishOffline(bool offline) { impl_->offline = offline; }
void FlowRepository::OnServerLines(ServerLineSink lines) { impl_->server_lines = std::move(lines); }

FlowRepository FlowRepository::Clone(const std::string& url, const std::string& dir, const std::string& user,
                                     const ServerLineSink& lines) {
  git::RequireNoPasswordInUrl(url);
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool existed = fs::exists(dir, ec);
  if (existed && !fs::is_empty(dir, ec)) {
    throw Error(ErrorCode::kAlreadyExists, "'" + dir + "' exists and is not empty");
  }
  try {
    Store store = Store::Init(dir, /*bare=*/false);
    const std::string remote(kDefaultRemote);
    git_remote* raw = nullptr;
    git::Check(git_remote_create(&raw, store.raw(), remote.c_str(), git::UrlToRecord(url).c_str()),
               "add remote '" + remote + "'");
    git_remote_free(raw);
    auto impl = std::make_unique<Impl>(Impl{std::move(store), user});
    Fetch(*impl, remote, lines);
    std::vector<std::string> workspaces = ServerWorkspaces(impl->store, remote);
    if (workspaces.empty()) {
      throw Error(ErrorCode::kNotFound, "'" + url + "' has no flowrepo workspace");
    }
    PullReport report;
    for (const auto& ws : workspaces) AdoptWorkspace(*impl, remote, ws, false, report);
    AdoptTags(impl->store, remote, "", report);
    AdoptDrafts(*impl, remote, {}, report);
    const std::string head = std::count(workspaces.begin(), workspaces.end(), "main") ? "main" : workspaces.front();
    CheckOutNewWorkspace(impl->store, WorkspaceRef(head));
    return FlowRepository(std::move(impl));
  } catch (...) {
    // Nothing half-made stays behind: the clone is all or nothing.
    if (existed) {
      for (const auto& entry : fs::directory_iterator(dir, ec)) fs::remove_all(entry.path(), ec);
    } else {
      fs::remove_all(dir, ec);
    }
    throw;
  }
}

PullReport FlowRepository::Pull(std::string_view remote_name, const ServerLineSink& lines) {
  const std::string remote = RemoteOrDefault(remote_name);
  Store& store = impl_->store;
  RepairWorkTrees(store);
  PullReport report;
  report.remote = remote;
  const std::set<std::string> tracked_before = TrackedDrafts(store, remote);
  Fetch(*impl_, remote, lines);
  for (const auto& ws : ServerWorkspaces(store, remote)) {
    AdoptWorkspace(*impl_, remote, ws, /*keep_local_commits=*/true, report);
  }
  AdoptTags(store, remote, "", report);
  AdoptDrafts(*impl_, remote, tracked_before, report);
  return report;
}

std::string FlowRepository::PushDraft(std::string_view workspace, std::string_view draft, const ServerLineSink& lines) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  RequireDraftName(draft);
  Store& store = impl_->store;
  const std::string remote = impl_->UpstreamOf(workspace).value_or(std::string(kDefaultRemote));
  const std::string ref = DraftRef(workspace, draft);
  auto local = store.ReadRef(ref);
  if (!local) throw Error(ErrorCode::kNotFound, "draft '" + std::string(draft) + "' not found");
  Fetch(*impl_, remote, lines);
  const std::string branch = ref.substr(std::string_view("refs/heads/").size());
  auto server = store.ReadRef(Tracking(remote, branch));
  if (server && !store.IsAncestor(*server, *local)) {
    throw Error(ErrorCode::kConflict, "the server's draft '" + std::string(draft) +
                                          "' has commits yours lacks; run 'flowrepo pull' and try again");
  }
  if (!server || !git_oid_equal(&*server, &*local)) {
    git::Push(store.raw(), remote, {{ref, ref, server}}, Lines(lines));
    SetOwnRef(store, Tracking(remote, branch), *local, "flowrepo: pushed draft");
  }
  SetUpstream(store, remote, branch);
  return remote;
}

SyncStatus FlowRepository::Status(bool fetch, const ServerLineSink& lines) {
  Store& store = impl_->store;
  SyncStatus status;
  std::string remote;
  for (const auto& ws : ListWorkspaces()) {
    if (auto up = impl_->UpstreamOf(ws.name)) remote = *up;
  }
  if (remote.empty() && store.ConfigString("remote.origin.url").empty()) return status;
  if (remote.empty()) remote = kDefaultRemote;
  status.remote = remote;
  if (fetch) Fetch(*impl_, remote, lines);
  auto ahead_behind = [&](BranchStatus& b, const git_oid& local, const std::optional<git_oid>& server) {
    b.on_server = server.has_value();
    if (!server) return;
    std::size_t ahead = 0, behind = 0;
    git::Check(git_graph_ahead_behind(&ahead, &behind, store.raw(), &local, &*server), "count commits");
    b.ahead = static_cast<int>(ahead);
    b.behind = static_cast<int>(behind);
  };
  for (const auto& ws : ListWorkspaces()) {
    BranchStatus b;
    b.name = b.workspace = ws.name;
    const git_oid head = git::OidFromHex(ws.commit);
    ahead_behind(b, head, store.ReadRef(Tracking(remote, ws.name)));
    status.branches.push_back(b);
    for (const auto& [ref, draft_head] : store.ListRefs(DraftRefPrefix(ws.name) + "*")) {
      BranchStatus d;
      d.is_draft = true;
      d.workspace = ws.name;
      d.name = ref.substr(DraftRefPrefix(ws.name).size());
      ahead_behind(d, draft_head, store.ReadRef(Tracking(remote, ref.substr(std::string_view("refs/heads/").size()))));
      auto base = store.MergeBase(draft_head, head);
      if (base) {
        std::size_t ahead = 0, behind = 0;
        git::Check(git_graph_ahead_behind(&ahead, &behind, store.raw(), &draft_head, &head), "count commits");
        d.behind_workspace = static_cast<int>(behind);
        std::set<std::string> theirs;
        for (const auto& c : impl_->ChangedFlows(*base, head)) theirs.insert(c.id);
        for (const auto& c : impl_->ChangedFlows(*base, draft_head)) {
          if (theirs.count(c.id)) d.conflicts.push_back(c.id);
        }
      }
      status.branches.push_back(std::move(d));
    }
  }
  return status;
}

DraftUpdateResult FlowRepository::UpdateDraft(std::string_view workspace, std::string_view draft,
                                              const DraftUpdateRequest& request) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  RequireDraftName(draft);
  Store& store = impl_->store;
  const std::string ref = DraftRef(workspace, draft);
  auto draft_head = store.ReadRef(ref);
  if (!draft_head) throw Error(ErrorCode::kNotFound, "draft '" + std::string(draft) + "' not found");
  if (auto remote = impl_->UpstreamOf(workspace); remote && !impl_->offline) {
    // Onto the head publish will land on: the server's.
    Fetch(*impl_, *remote, impl_->server_lines);
    PullReport ignored;
    AdoptWorkspace(*impl_, *remote, std::string(workspace), /*keep_local_commits=*/false, ignored);
    AdoptTags(store, *remote, std::string(workspace), ignored);
  }
  const git_oid ws_head = impl_->WorkspaceHead(workspace);
  DraftUpdateResult result{std::string(draft), git::OidHex(*draft_head), git::OidHex(*draft_head), {}, {}};
  if (store.IsAncestor(ws_head, *draft_head)) return result;  // up to date
  auto base = store.MergeBase(*draft_head, ws_head);
  if (!base)
    throw Error(ErrorCode::kConflict, "draft '" + std::string(draft) + "' shares no history with its workspace");

  std::map<std::string, FlowChange> theirs;
  for (auto& c : impl_->ChangedFlows(*base, ws_head)) theirs.emplace(c.id, std::move(c));
  TreeEdits edits;
  std::vector<std::string> conflicts;
  for (const auto& mine : impl_->ChangedFlows(*base, *draft_head)) {
    if (AlreadyOnWorkspace(store, ws_head, *draft_head, mine)) continue;  // the same change on both sides
    auto other = theirs.find(mine.id);
    if (other != theirs.end()) {
      Side side = Resolution(request, mine.id);
      if (side == Side::kUnset) {
        conflicts.push_back("flow '" + mine.id + "' changed in draft '" + std::string(draft) + "' and in workspace '" +
                            std::string(workspace) + "' since " + ShortId(*base));
        continue;
      }
      if (side == Side::kWorkspace) {
        result.took_workspace.push_back(mine.id);
        continue;
      }
      result.kept_draft.push_back(mine.id);
      if (other->second.after) edits[other->second.after->path] = std::nullopt;
    }
    if (mine.before) edits[mine.before->path] = std::nullopt;
    if (mine.after) edits[mine.after->path] = TreeEntry{mine.after->tree, GIT_FILEMODE_TREE};
  }
  git::TreePtr draft_tree = store.CommitTree(*draft_head);
  for (const auto& path : ChangedSettingsPaths(store, *base, *draft_head)) {
    git::TreePtr base_tree = store.CommitTree(*base);
    git::TreePtr ws_tree = store.CommitTree(ws_head);
    auto at_base = store.EntryAt(base_tree.get(), path);
    auto at_ws = store.EntryAt(ws_tree.get(), path);
    bool ws_changed = at_base.has_value() != at_ws.has_value() || (at_base && !git_oid_equal(&at_base->id, &at_ws->id));
    if (ws_changed) {
      conflicts.push_back("settings file '" + path + "' changed in the draft and in workspace '" +
                          std::string(workspace) + "'; settle it by hand on the draft");
      continue;
    }
    edits[path] = store.EntryAt(draft_tree.get(), path);
  }
  if (!conflicts.empty()) {
    throw Error(ErrorCode::kConflict,
                "draft update refused: " + std::to_string(conflicts.size()) +
                    " flow(s) changed on both sides; name each with --keep-draft or --take-workspace",
                conflicts);
  }
  git_oid tree = store.EditTree(store.CommitTreeId(ws_head), edits);
  git::SignaturePtr who = store.Signature(impl_->user);
  git_oid commit = store.CreateCommit(
      tree, {*draft_head, ws_head},
      "Update draft " + std::string(draft) + " onto " + std::string(workspace) + " " + ShortId(ws_head) + "\n",
      who.get());
  impl_->MoveRef(ref, commit, *draft_head, "flowrepo: draft update");
  result.after = git::OidHex(commit);
  return result;
}

}  // namespace flowrepo
