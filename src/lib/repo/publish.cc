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

#include <set>

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

PublishResult FlowRepository::Publish(std::string_view workspace, std::string_view draft, std::string_view note_view) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  RequireDraftName(draft);
  if (impl_->landing_remote.empty() && !impl_->offline) {
    if (auto remote = impl_->UpstreamOf(workspace)) return PublishOnServer(*remote, workspace, draft, note_view);
  }
  Store& store = impl_->store;
  RepairWorkTrees(store);  // a killed publish may have left a work tree behind
  const std::string draft_ref = DraftRef(workspace, draft);
  auto draft_head = store.ReadRef(draft_ref);
  const git_oid ws_head = impl_->WorkspaceHead(workspace);
  RequirePlainNote(note_view);  // before anything is written
  std::string note(note_view);
  if (note.empty()) note = "Publish draft " + std::string(draft);

  PublishResult result;
  result.workspace = std::string(workspace);
  result.draft = std::string(draft);

  // An earlier publish already merged what is asked for: report it, write
  // only what it left undone.
  auto report_earlier = [&](const git_oid& earlier) {
    impl_->CompleteTags(workspace, earlier);
    git::CommitPtr commit = store.LookupCommit(earlier);
    PublishTrailers trailers = ReadPublishTrailers(commit.get());
    result.commit = git::OidHex(earlier);
    for (const auto& [flow, n] : trailers.versions) {
      result.versions.push_back({flow, n, TagRef(workspace, flow, n), result.commit, impl_->user, 0, note});
    }
    if (git_commit_parentcount(commit.get()) > 0) {
      result.settings_changes = DescribeSettingsChanges(store, *git_commit_parent_id(commit.get(), 0), earlier);
    }
    const std::string& merged_from = trailers.draft;
    if (merged_from == draft) {
      result.completed_earlier_publish = true;
    } else {
      result.published_with_draft = merged_from;
    }
    return result;
  };

  if (!draft_head) {
    // Rerunning a publish that completed (perhaps killed just before it
    // could report) succeeds without writing anything.
    auto earlier = RecentPublish(store, ws_head, workspace,
                                 [&](const git_commit*, const PublishTrailers& t) { return t.draft == draft; });
    if (!earlier) throw Error(ErrorCode::kNotFound, "draft '" + std::string(draft) + "' not found");
    return report_earlier(*earlier);
  }

  // Finish what an interrupted publish of the head commit left undone.
  impl_->CompleteTags(workspace, ws_head);

  if (store.IsAncestor(*draft_head, ws_head)) {
    // An interrupted run already merged this draft, or another draft whose
    // head is the same commit was published (identical imports made at the
    // same second are one commit), or the draft is empty.
    auto earlier = RecentPublish(store, ws_head, workspace, [&](const git_commit* commit, const PublishTrailers&) {
      return git_commit_parentcount(commit) == 2 && git_oid_equal(git_commit_parent_id(commit, 1), &*draft_head);
    });
    if (earlier) {
      RetireDraft(*impl_, draft_ref, *draft_head, *earlier, result);
      return report_earlier(*earlier);
    }
    // A draft kept checked out after its publish sits on that publish
    // commit: rerunning (perhaps after a kill) has nothing left to do.
    auto kept = RecentPublish(store, ws_head, workspace, [&](const git_commit* commit, const PublishTrailers& t) {
      return git_oid_equal(git_commit_id(commit), &*draft_head) && t.draft == draft;
    });
    if (!kept) {
      throw Error(ErrorCode::kInvalidArgument, "draft '" + std::string(draft) + "' has no changes to publish");
    }
    return report_earlier(*kept);
  }

  auto base = store.MergeBase(*draft_head, ws_head);
  if (!base) {
    throw Error(ErrorCode::kConflict,
                "draft '" + std::string(draft) + "' shares no history with workspace '" + std::string(workspace) + "'");
  }
  std::vector<FlowChange> changes = impl_->ChangedFlows(*base, *draft_head);
  // The same change made on both sides (a draft made from an offline
  // publish that landed since, say) is nothing to publish or conflict on.
  const std::size_t made = changes.size();
  // (Nothing can be when the workspace has not moved since the base.)
  if (!git_oid_equal(&*base, &ws_head)) {
    std::erase_if(changes, [&](const FlowChange& c) { return AlreadyOnWorkspace(store, ws_head, *draft_head, c); });
  }
  const bool all_landed_elsewhere = made > 0 && changes.empty();
  const std::vector<std::string> settings_paths = ChangedSettingsPaths(store, *base, *draft_head);
  bool settings_changed = !settings_paths.empty();
  result.settings_changes = DescribeSettingsChanges(store, *base, *draft_head);
  // Roles are access control: changing them through a draft needs admin.
  if (settings_changed &&
      (NeedsAdmin(result.settings_changes) || WorkspaceSettings::AtCommit(store, ws_head).Roles() !=
                                                  WorkspaceSettings::AtCommit(store, *draft_head).Roles())) {
    impl_->RequireRole(workspace, Role::kAdmin);
  }
  if (all_landed_elsewhere && !settings_changed) {
    throw Error(ErrorCode::kAlreadyExists, "publish refused: workspace '" + std::string(workspace) +
                                               "' already holds every change of draft '" + std::string(draft) +
                                               "' (the same content was published since its base); drop the draft");
  }
  if (changes.empty() && !settings_changed) {
    throw Error(ErrorCode::kInvalidArgument, "draft '" + std::string(draft) + "' has no changes to publish");
  }

  // Conflicts: the same folder changed on both sides since the base.
  std::vector<std::string> conflicts;
  auto check_path = [&](const std::string& id, const std::string& path) {
    if (SameEntry(store, *base, ws_head, path)) return;
    git_oid theirs = LastChange(store, ws_head, *base, path);
    conflicts.push_back("flow '" + id + "' (" + path + ") changed in workspace '" + std::string(workspace) +
                        "' commit " + ShortId(theirs) + " and in draft '" + std::string(draft) + "' commit " +
                        ShortId(*draft_head) + " since their base " + ShortId(*base));
  };
  TreeEdits edits;
  for (const auto& change : changes) {
    if (change.before) {
      check_path(change.id, change.before->path);
      edits[change.before->path] = std::nullopt;
    }
    if (change.after) {
      if (!change.before || change.before->path != change.after->path) {
        check_path(change.id, change.after->path);
      }
      edits[change.after->path] = TreeEntry{change.after->tree, GIT_FILEMODE_TREE};
    }
  }
  git::TreePtr draft_tree = store.CommitTree(*draft_head);
  for (const auto& path : settings_paths) {
    if (!SameEntry(store, *base, ws_head, path)) {
      std::string what = path == kSettingsPath ? "workspace settings" : "settings file '" + path + "'";
      conflicts.push_back(what + " changed in workspace '" + std::string(workspace) + "' commit " +
                          ShortId(LastChange(store, ws_head, *base, path)) + " and in draft '" + std::string(draft) +
                          "' commit " + ShortId(*draft_head));
    }
    edits[path] = store.EntryAt(draft_tree.get(), path);
  }
  if (!conflicts.empty()) {
    throw Error(ErrorCode::kConflict,
                "publish refused: " + std::to_string(conflicts.size()) + " conflict(s) with workspace '" +
                    std::string(workspace) + "'; settle each with 'flowrepo draft update " + std::string(draft) +
                    " --keep-draft FLOW' or '--take-workspace FLOW'",
                conflicts);
  }

  git_oid merged_tree = store.EditTree(store.CommitTreeId(ws_head), edits);
  TreeEdits().swap(edits);

  // Validate the workspace as the merge leaves it.
  CheckMergedWorkspace(store, impl_->index_cache,
                       {std::string(workspace), std::string(draft), ws_head, merged_tree, &changes, settings_changed});
  for (const auto& change : changes) {
    if (!change.after) result.removed.push_back(change.id);
  }

  // Versions and the publish commit.
  std::string message = "Publish";
  std::string trailers;
  for (const auto& change : changes) {
    if (!change.after) continue;
    int next = impl_->NextVersion(workspace, change.id);
    result.versions.push_back({change.id, next, TagRef(workspace, change.id, next), "", impl_->user, 0, note});
    trailers += VersionTrailerLine(change.id, next);
  }
  if (result.versions.size() == 1) {
    message += " " + result.versions[0].flow + " v" + std::to_string(result.versions[0].number);
  } else if (!result.versions.empty()) {
    message += " " + std::to_string(result.versions.size()) + " flows";
  }
  if (!result.removed.empty()) message += ", remove " + std::to_string(result.removed.size());
  if (changes.empty()) message += " workspace settings";
  // The trailer block is the last paragraph: RequirePlainNote made sure
  // nothing in the note can end the message early or join it.
  message += " from draft " + std::string(draft) + "\n\n" + note + "\n\n" + TrailerLine(kDraftTrailer, draft) +
             TrailerLine(kWorkspaceTrailer, workspace) + trailers;
  for (const auto& id : result.removed) message += TrailerLine(kRemovedTrailer, id);
  std::vector<FlowChange>().swap(changes);  // in the message now: not held while the tags are made
  std::string().swap(trailers);

  git::SignaturePtr who = store.Signature(impl_->user);
  git_oid commit = store.CreateCommit(merged_tree, {ws_head, *draft_head}, message, who.get());
  // A work tree with the draft checked out must be able to follow it to the
  // publish commit: find out before the workspace moves.
  WorkTreeSync::Plan(store, draft_ref, *draft_head, commit);
  impl_->LandPublish(workspace, commit, ws_head, "flowrepo: publish " + std::string(draft));
  result.commit = git::OidHex(commit);

  impl_->CompleteTags(workspace, commit);
  for (auto& v : result.versions) {
    v.commit = result.commit;
    v.time = who->when.time;
  }
  RetireDraft(*impl_, draft_ref, *draft_head, commit, result);
  return result;
}

}  // namespace flowrepo
