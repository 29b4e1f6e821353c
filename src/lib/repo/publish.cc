// Publish: merge a draft onto its workspace flow by flow.
//
// 1. Read both heads once; find their merge base.
// 2. The draft's changes are the flow folders that differ between base and
//    draft head (unchanged sub-trees are skipped).
// 3. A flow whose folder also changed on the workspace since the base is a
//    conflict: refused, naming the workspace commit and the draft commit.
// 4. The merged tree is the workspace tree with the draft's flow folders
//    and changed .flowrepo/ files put in; the workspace it makes is
//    validated (publish_checks.cc: changed flows in full, the settings, and
//    unchanged flows that use what the draft removes) and all problems are
//    reported at once. Settings changes are described for the result.
// 5. One merge commit (parents: workspace head, draft head) records the new
//    versions as "Flowrepo-Version: <flow> v<N>" trailers; the workspace ref
//    moves by compare-and-swap, then the version tags are created and the
//    draft ref removed. Tags and the draft removal are idempotent
//    follow-ups: a later publish (or a rerun) completes them from the
//    trailers, so an interrupted publish never loses or reuses a version.

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "flowrepo/error.h"
#include "repo/publish_checks.h"
#include "repo/repository_impl.h"
#include "repo/settings_changes.h"
#include "repo/trailers.h"
#include "repo/worktree.h"
#include "validate/flow_validator.h"

namespace flowrepo {
namespace {

// The workspace commit after \a base that last changed \a path, for naming
// the other side of a conflict.
git_oid LastChange(const Store& store, const git_oid& head, const git_oid& base, const std::string& path) {
  git_oid current = head;
  while (!git_oid_equal(&current, &base)) {
    git::CommitPtr commit = store.LookupCommit(current);
    if (git_commit_parentcount(commit.get()) == 0) break;
    git_oid parent = *git_commit_parent_id(commit.get(), 0);
    git::TreePtr a = store.CommitTree(current);
    git::TreePtr b = store.CommitTree(parent);
    auto x = store.EntryAt(a.get(), path);
    auto y = store.EntryAt(b.get(), path);
    bool same = x && y ? git_oid_equal(&x->id, &y->id) : x.has_value() == y.has_value();
    if (!same) return current;
    current = parent;
  }
  return head;
}

bool SameEntry(const Store& store, const git_oid& a_commit, const git_oid& b_commit, const std::string& path) {
  git::TreePtr a = store.CommitTree(a_commit);
  git::TreePtr b = store.CommitTree(b_commit);
  auto x = store.EntryAt(a.get(), path);
  auto y = store.EntryAt(b.get(), path);
  if (!x || !y) return x.has_value() == y.has_value();
  return git_oid_equal(&x->id, &y->id);
}

}  // namespace

bool AlreadyOnWorkspace(const Store& store, const git_oid& ws_head, const git_oid& draft_head,
                        const FlowChange& change) {
  if (change.after) {
    if (!SameEntry(store, ws_head, draft_head, change.after->path)) return false;
    if (!change.before || change.before->path == change.after->path) return true;
  }
  git::TreePtr ws = store.CommitTree(ws_head);
  return !store.EntryAt(ws.get(), change.before->path);  // removed (or moved away) there too
}

namespace {

// How far back along the workspace a rerun looks for its earlier publish.
constexpr int kRecentPublishes = 20;

// The first recent publish onto \a ws (walking back from \a ws_head) for
// which \a matches holds.
template <typename Match>
std::optional<git_oid> RecentPublish(const Store& store, const git_oid& ws_head, std::string_view ws, Match matches) {
  git_oid current = ws_head;
  for (int depth = 0; depth < kRecentPublishes; ++depth) {
    git::CommitPtr commit = store.LookupCommit(current);
    PublishTrailers trailers = ReadPublishTrailers(commit.get());
    if (trailers.IsPublishTo(ws) && matches(commit.get(), trailers)) return current;
    if (git_commit_parentcount(commit.get()) == 0) break;
    current = *git_commit_parent_id(commit.get(), 0);
  }
  return std::nullopt;
}

}  // namespace

// After a publish the draft goes away, unless it is checked out in a work
// tree: git must never lose a checked-out branch. Then it stays, moved to
// the publish commit (a fast-forward: the draft head is its second parent),
// so the work tree shows what was published and the user can go on
// committing there. Someone committing to the draft meanwhile keeps it too.
static void RetireDraft(FlowRepository::Impl& impl, const std::string& draft_ref, const git_oid& draft_head,
                        const git_oid& publish_commit, PublishResult& result) {
  std::vector<WorkTree> trees = WorkTreesOn(impl.store, draft_ref);
  if (trees.empty()) {
    try {
      impl.store.DeleteRef(draft_ref, draft_head);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kConflict) throw;  // moved meanwhile: keep that work
    }
    return;
  }
  auto now = impl.store.ReadRef(draft_ref);
  if (!now || !git_oid_equal(&*now, &draft_head)) return;  // moved meanwhile: keep that work
  impl.MoveRef(draft_ref, publish_commit, draft_head, "flowrepo: published, kept checked out");
  for (const auto& tree : trees) result.draft_kept_in.push_back(tree.path);
}

// Writes the tags of \a commit, a publish that has landed: the publish is
// done, so losing the race for the lock tags are written under (other
// publishes write theirs at the same moment) must not report it as failed.
// Waits for the lock longer than a ref update does; past that, says the
// publish landed and how its tags get written.
static void CompleteLandedTags(FlowRepository::Impl& impl, std::string_view workspace, const git_oid& commit) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    try {
      impl.CompleteTags(workspace, commit);
      return;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kConflict) throw;
      if (std::chrono::steady_clock::now() >= deadline) {
        throw Error(ErrorCode::kConflict, "published as " + git::OidHex(commit) +
                                              ", but its version tags are not written yet (" + e.what() +
                                              "); 'flowrepo check --repair' or the next publish writes them");
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

namespace {

// The one publish being run: its names, the two heads, and what it reports.
struct PublishRun {
  FlowRepository::Impl& impl;
  std::string_view workspace;
  std::string_view draft;
  std::string note;
  std::string draft_ref;
  std::optional<git_oid> draft_head;
  git_oid ws_head;
  PublishResult result;
};

// The result of an earlier publish that already merged what is asked for;
// writes only what it left undone (its tags).
PublishResult ReportEarlier(PublishRun& run, const git_oid& earlier) {
  Store& store = run.impl.store;
  PublishResult& result = run.result;
  run.impl.CompleteTags(run.workspace, earlier);
  git::CommitPtr commit = store.LookupCommit(earlier);
  PublishTrailers trailers = ReadPublishTrailers(commit.get());
  result.commit = git::OidHex(earlier);
  for (const auto& [flow, n] : trailers.versions) {
    result.versions.push_back({flow, n, TagRef(run.workspace, flow, n), result.commit, run.impl.user, 0, run.note});
  }
  if (git_commit_parentcount(commit.get()) > 0) {
    result.settings_changes = DescribeSettingsChanges(store, *git_commit_parent_id(commit.get(), 0), earlier);
  }
  if (trailers.draft == run.draft) {
    result.completed_earlier_publish = true;
  } else {
    result.published_with_draft = trailers.draft;
  }
  return result;
}

// A rerun of a publish that was done (perhaps killed before it could
// report), or a draft with nothing to publish; none when there is work.
std::optional<PublishResult> EarlierPublish(PublishRun& run) {
  Store& store = run.impl.store;
  if (!run.draft_head) {
    auto earlier = RecentPublish(store, run.ws_head, run.workspace,
                                 [&](const git_commit*, const PublishTrailers& t) { return t.draft == run.draft; });
    if (!earlier) throw Error(ErrorCode::kNotFound, "draft '" + std::string(run.draft) + "' not found");
    return ReportEarlier(run, *earlier);
  }
  // Finish what an interrupted publish of the head commit left undone.
  run.impl.CompleteTags(run.workspace, run.ws_head);
  if (!store.IsAncestor(*run.draft_head, run.ws_head)) return std::nullopt;
  // An interrupted run already merged this draft, or another draft whose
  // head is the same commit was published (identical imports made at the
  // same second are one commit), or the draft is empty.
  const git_oid draft_head = *run.draft_head;
  auto earlier =
      RecentPublish(store, run.ws_head, run.workspace, [&](const git_commit* commit, const PublishTrailers&) {
        return git_commit_parentcount(commit) == 2 && git_oid_equal(git_commit_parent_id(commit, 1), &draft_head);
      });
  if (earlier) {
    RetireDraft(run.impl, run.draft_ref, draft_head, *earlier, run.result);
    return ReportEarlier(run, *earlier);
  }
  // A draft kept checked out after its publish sits on that publish
  // commit: rerunning (perhaps after a kill) has nothing left to do.
  auto kept = RecentPublish(store, run.ws_head, run.workspace, [&](const git_commit* commit, const PublishTrailers& t) {
    return git_oid_equal(git_commit_id(commit), &draft_head) && t.draft == run.draft;
  });
  if (!kept) {
    throw Error(ErrorCode::kInvalidArgument, "draft '" + std::string(run.draft) + "' has no changes to publish");
  }
  return ReportEarlier(run, *kept);
}

// What the draft changes since its base that the workspace does not hold
// yet: flows and settings files. Refuses a publish with nothing to do, and
// one changing roles by a user who is not admin.
struct DraftChanges {
  git_oid base;
  std::vector<FlowChange> flows;
  std::vector<std::string> settings_paths;
  std::map<std::string, std::string> renamed_from;  ///< new id -> old id (DraftRenames)
};

// The renames \a changes carry out (FlowRepository::Impl::RenamesOnDraft).
std::map<std::string, std::string> DraftRenames(const FlowRepository::Impl& impl, const git_oid& base,
                                                const git_oid& head, const std::vector<FlowChange>& changes) {
  std::set<std::string> removed, added;
  for (const auto& c : changes) {
    if (c.before && !c.after) removed.insert(c.id);
    if (!c.before && c.after) added.insert(c.id);
  }
  return impl.RenamesOnDraft(base, head, removed, added);
}

DraftChanges ChangesToPublish(PublishRun& run) {
  Store& store = run.impl.store;
  const git_oid& draft_head = *run.draft_head;
  auto base = store.MergeBase(draft_head, run.ws_head);
  if (!base) {
    throw Error(ErrorCode::kConflict, "draft '" + std::string(run.draft) + "' shares no history with workspace '" +
                                          std::string(run.workspace) + "'");
  }
  DraftChanges changes{
      *base, run.impl.ChangedFlows(*base, draft_head), ChangedSettingsPaths(store, *base, draft_head), {}};
  // The same change made on both sides (a draft made from an offline
  // publish that landed since, say) is nothing to publish or conflict on.
  // (Nothing can be when the workspace has not moved since the base.)
  const std::size_t made = changes.flows.size();
  if (!git_oid_equal(&*base, &run.ws_head)) {
    std::erase_if(changes.flows,
                  [&](const FlowChange& c) { return AlreadyOnWorkspace(store, run.ws_head, draft_head, c); });
  }
  const bool settings_changed = !changes.settings_paths.empty();
  run.result.settings_changes = DescribeSettingsChanges(store, *base, draft_head);
  // Roles are access control: changing them through a draft needs admin.
  if (settings_changed &&
      (NeedsAdmin(run.result.settings_changes) || WorkspaceSettings::AtCommit(store, run.ws_head).Roles() !=
                                                      WorkspaceSettings::AtCommit(store, draft_head).Roles())) {
    run.impl.RequireRole(run.workspace, Role::kAdmin);
  }
  if (made > 0 && changes.flows.empty() && !settings_changed) {
    throw Error(ErrorCode::kAlreadyExists, "publish refused: workspace '" + std::string(run.workspace) +
                                               "' already holds every change of draft '" + std::string(run.draft) +
                                               "' (the same content was published since its base); drop the draft");
  }
  if (changes.flows.empty() && !settings_changed) {
    throw Error(ErrorCode::kInvalidArgument, "draft '" + std::string(run.draft) + "' has no changes to publish");
  }
  changes.renamed_from = DraftRenames(run.impl, *base, draft_head, changes.flows);
  return changes;
}

// The edits that bring the draft's changes onto the workspace's tree.
// Refuses, naming each, the folders and settings files changed on both
// sides since the base.
TreeEdits MergeEdits(const PublishRun& run, const DraftChanges& changes) {
  Store& store = run.impl.store;
  const git_oid& base = changes.base;
  const git_oid& draft_head = *run.draft_head;
  std::vector<std::string> conflicts;
  auto check_path = [&](const std::string& id, const std::string& path) {
    if (SameEntry(store, base, run.ws_head, path)) return;
    git_oid theirs = LastChange(store, run.ws_head, base, path);
    conflicts.push_back("flow '" + id + "' (" + path + ") changed in workspace '" + std::string(run.workspace) +
                        "' commit " + ShortId(theirs) + " and in draft '" + std::string(run.draft) + "' commit " +
                        ShortId(draft_head) + " since their base " + ShortId(base));
  };
  TreeEdits edits;
  for (const auto& change : changes.flows) {
    if (change.before) {
      check_path(change.id, change.before->path);
      edits[change.before->path] = std::nullopt;
    }
    if (change.after) {
      if (!change.before || change.before->path != change.after->path) check_path(change.id, change.after->path);
      edits[change.after->path] = TreeEntry{change.after->tree, GIT_FILEMODE_TREE};
    }
  }
  git::TreePtr draft_tree = store.CommitTree(draft_head);
  for (const auto& path : changes.settings_paths) {
    if (!SameEntry(store, base, run.ws_head, path)) {
      std::string what = path == kSettingsPath ? "workspace settings" : "settings file '" + path + "'";
      conflicts.push_back(what + " changed in workspace '" + std::string(run.workspace) + "' commit " +
                          ShortId(LastChange(store, run.ws_head, base, path)) + " and in draft '" +
                          std::string(run.draft) + "' commit " + ShortId(draft_head));
    }
    edits[path] = store.EntryAt(draft_tree.get(), path);
  }
  if (!conflicts.empty()) {
    throw Error(ErrorCode::kConflict,
                "publish refused: " + std::to_string(conflicts.size()) + " conflict(s) with workspace '" +
                    std::string(run.workspace) + "'; settle each with 'flowrepo draft update " +
                    std::string(run.draft) + " --keep-draft FLOW' or '--take-workspace FLOW'",
                conflicts);
  }
  return edits;
}

// Gives each written flow its next version (into the result) and returns
// the publish commit's message: a subject, the note, then the trailers.
std::string VersionAndDescribe(PublishRun& run, const DraftChanges& draft) {
  const std::vector<FlowChange>& changes = draft.flows;
  PublishResult& result = run.result;
  std::string trailers;
  for (const auto& change : changes) {
    if (!change.after) {
      result.removed.push_back(change.id);
      continue;
    }
    auto renamed = draft.renamed_from.find(change.id);
    const std::string continues = renamed == draft.renamed_from.end() ? "" : renamed->second;
    if (!continues.empty()) {
      result.renamed.emplace_back(continues, change.id);
      trailers += RenamedTrailerLine(continues, change.id);
    }
    int next = run.impl.NextVersion(run.workspace, change.id, continues);
    result.versions.push_back(
        {change.id, next, TagRef(run.workspace, change.id, next), "", run.impl.user, 0, run.note});
    trailers += VersionTrailerLine(change.id, next);
  }
  std::string message = "Publish";
  if (result.versions.size() == 1) {
    message += " " + result.versions[0].flow + " v" + std::to_string(result.versions[0].number);
  } else if (!result.versions.empty()) {
    message += " " + std::to_string(result.versions.size()) + " flows";
  }
  if (!result.removed.empty()) message += ", remove " + std::to_string(result.removed.size());
  if (changes.empty()) message += " workspace settings";
  // The trailer block is the last paragraph: RequirePlainNote made sure
  // nothing in the note can end the message early or join it.
  message += " from draft " + std::string(run.draft) + "\n\n" + run.note + "\n\n" +
             TrailerLine(kDraftTrailer, run.draft) + TrailerLine(kWorkspaceTrailer, run.workspace) + trailers;
  for (const auto& id : result.removed) message += TrailerLine(kRemovedTrailer, id);
  return message;
}

}  // namespace

PublishResult FlowRepository::Publish(std::string_view workspace, std::string_view draft, std::string_view note_view) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  RequireDraftName(draft);
  if (impl_->landing_remote.empty() && !impl_->offline) {
    if (auto remote = impl_->UpstreamOf(workspace)) return PublishOnServer(*remote, workspace, draft, note_view);
  }
  Store& store = impl_->store;
  RepairWorkTrees(store);  // a killed publish may have left a work tree behind
  PublishRun run{*impl_, workspace, draft};
  run.draft_ref = DraftRef(workspace, draft);
  run.draft_head = store.ReadRef(run.draft_ref);
  run.ws_head = impl_->WorkspaceHead(workspace);
  RequirePlainNote(note_view);  // before anything is written
  run.note = note_view.empty() ? "Publish draft " + std::string(draft) : std::string(note_view);
  run.result.workspace = std::string(workspace);
  run.result.draft = std::string(draft);
  if (auto earlier = EarlierPublish(run)) return std::move(*earlier);

  DraftChanges changes = ChangesToPublish(run);
  git_oid merged_tree = store.EditTree(store.CommitTreeId(run.ws_head), MergeEdits(run, changes));
  CheckMergedWorkspace(store, impl_->index_cache,
                       {std::string(workspace), std::string(draft), run.ws_head, merged_tree, &changes.flows,
                        !changes.settings_paths.empty()});
  const std::string message = VersionAndDescribe(run, changes);
  std::vector<FlowChange>().swap(changes.flows);  // in the message now: not held while the tags are made

  const git_oid draft_head = *run.draft_head;
  git::SignaturePtr who = store.Signature(impl_->user);
  git_oid commit = store.CreateCommit(merged_tree, {run.ws_head, draft_head}, message, who.get());
  // A work tree with the draft checked out must be able to follow it to the
  // publish commit: find out before the workspace moves.
  WorkTreeSync::Plan(store, run.draft_ref, draft_head, commit);
  impl_->LandPublish(workspace, commit, run.ws_head, "flowrepo: publish " + std::string(draft));
  run.result.commit = git::OidHex(commit);

  CompleteLandedTags(*impl_, workspace, commit);
  for (auto& v : run.result.versions) {
    v.commit = run.result.commit;
    v.time = who->when.time;
  }
  RetireDraft(*impl_, run.draft_ref, draft_head, commit, run.result);
  return std::move(run.result);
}

std::map<std::string, std::string> FlowRepository::Impl::RenamesOnDraft(const git_oid& base, const git_oid& head,
                                                                        const std::set<std::string>& removed,
                                                                        const std::set<std::string>& added) const {
  std::map<std::string, std::string> out;
  if (removed.empty() || added.empty()) return out;
  std::map<std::string, std::string> from;  // as the commits say: new -> old
  git_revwalk* raw = nullptr;
  git::Check(git_revwalk_new(&raw, store.raw()), "walk the draft");
  git::RevwalkPtr walk(raw);
  git::Check(git_revwalk_push(walk.get(), &head), "walk the draft");
  git::Check(git_revwalk_hide(walk.get(), &base), "walk the draft");
  git::Check(git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE), "walk the draft");
  git_oid id;
  while (git_revwalk_next(&id, walk.get()) == 0) {
    PublishTrailers trailers = ReadPublishTrailers(store.LookupCommit(id).get());
    if (!trailers.workspace.empty()) continue;  // a publish merged in, not the draft's own
    for (const auto& [old_id, new_id] : trailers.renamed) from[new_id] = old_id;
  }
  for (const auto& id_now : added) {
    std::string at = id_now;
    for (std::size_t steps = 0; steps <= from.size() && from.count(at); ++steps) {
      at = from[at];
      if (removed.count(at)) {
        out[id_now] = at;
        break;
      }
    }
  }
  return out;
}

}  // namespace flowrepo
