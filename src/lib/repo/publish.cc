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
#include <sstream>

#include "flowrepo/error.h"
#include "repo/publish_checks.h"
#include "repo/repository_impl.h"
#include "repo/settings_changes.h"
#include "repo/worktree.h"

namespace flowrepo {
namespace {

constexpr std::string_view kVersionTrailer = "Flowrepo-Version: ";
constexpr std::string_view kWorkspaceTrailer = "Flowrepo-Workspace: ";

// True when \a commit is a publish onto \a ws (a workspace created from
// another starts with that one's publish commits, whose versions are not its
// own).
bool PublishedTo(const git_commit* commit, std::string_view ws) {
  std::string trailer = "\n" + std::string(kWorkspaceTrailer) + std::string(ws) + "\n";
  return std::string_view(git_commit_message(commit)).find(trailer) != std::string_view::npos;
}

std::vector<std::pair<std::string, int>> VersionTrailers(const git_commit* commit) {
  std::vector<std::pair<std::string, int>> out;
  std::istringstream lines(git_commit_message(commit));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(kVersionTrailer, 0) != 0) continue;
    std::string rest = line.substr(kVersionTrailer.size());
    auto space = rest.find(" v");
    if (space == std::string::npos) continue;
    if (auto n = VersionFromTag(rest.substr(space + 1), "v")) {
      out.emplace_back(rest.substr(0, space), *n);
    }
  }
  return out;
}

// The workspace commit after \a base that last changed \a path, for naming
// the other side of a conflict.
git_oid LastChange(const Store& store, const git_oid& head, const git_oid& base,
                   const std::string& path) {
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

bool SameEntry(const Store& store, const git_oid& a_commit, const git_oid& b_commit,
               const std::string& path) {
  git::TreePtr a = store.CommitTree(a_commit);
  git::TreePtr b = store.CommitTree(b_commit);
  auto x = store.EntryAt(a.get(), path);
  auto y = store.EntryAt(b.get(), path);
  if (!x || !y) return x.has_value() == y.has_value();
  return git_oid_equal(&x->id, &y->id);
}

// How far back along the workspace a rerun looks for its earlier publish.
constexpr int kRecentPublishes = 20;

std::string DraftTrailer(const git_commit* commit) {
  static constexpr std::string_view kDraftTrailer = "\nFlowrepo-Draft: ";
  std::string_view message = git_commit_message(commit);
  auto at = message.find(kDraftTrailer);
  if (at == std::string_view::npos) return "";
  message.remove_prefix(at + kDraftTrailer.size());
  return std::string(message.substr(0, message.find('\n')));
}

// The first recent publish onto \a ws (walking back from \a ws_head) for
// which \a matches holds.
template <typename Match>
std::optional<git_oid> RecentPublish(const Store& store, const git_oid& ws_head, std::string_view ws,
                                     Match matches) {
  git_oid current = ws_head;
  for (int depth = 0; depth < kRecentPublishes; ++depth) {
    git::CommitPtr commit = store.LookupCommit(current);
    if (PublishedTo(commit.get(), ws) && matches(commit.get())) return current;
    if (git_commit_parentcount(commit.get()) == 0) break;
    current = *git_commit_parent_id(commit.get(), 0);
  }
  return std::nullopt;
}

}  // namespace

// Creates any version tag the head publish commit promises but lacks (a
// publish interrupted after moving the workspace). Returns the versions made.
static std::vector<Version> CompleteTags(FlowRepository::Impl& impl, std::string_view ws,
                                         const git_oid& publish_commit, const std::string& note) {
  std::vector<Version> made;
  git::CommitPtr commit = impl.store.LookupCommit(publish_commit);
  if (!PublishedTo(commit.get(), ws)) return made;
  git::SignaturePtr who = impl.store.Signature(impl.user);
  for (const auto& [flow, number] : VersionTrailers(commit.get())) {
    std::string ref = TagRef(ws, flow, number);
    if (impl.store.ReadRef(ref)) continue;
    try {
      impl.store.CreateTag(ref, publish_commit, who.get(), note);
    } catch (const Error& e) {
      // Another process completing the same publish made it first: fine. A
      // lock left by a killed process is not: report it with its path.
      if (e.code() != ErrorCode::kConflict || !impl.store.ReadRef(ref)) throw;
      continue;
    }
    made.push_back({flow, number, ref, git::OidHex(publish_commit), impl.user, 0, note});
  }
  return made;
}

// After a publish the draft goes away, unless it is checked out in a work
// tree: git must never lose a checked-out branch. Then it stays, moved to
// the publish commit (a fast-forward: the draft head is its second parent),
// so the work tree shows what was published and the user can go on
// committing there. Someone committing to the draft meanwhile keeps it too.
static void RetireDraft(FlowRepository::Impl& impl, const std::string& draft_ref,
                        const git_oid& draft_head, const git_oid& publish_commit,
                        PublishResult& result) {
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

PublishResult FlowRepository::Publish(std::string_view workspace, std::string_view draft,
                                      std::string_view note_view) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  RequireDraftName(draft);
  Store& store = impl_->store;
  RepairWorkTrees(store);  // a killed publish may have left a work tree behind
  const std::string draft_ref = DraftRef(workspace, draft);
  auto draft_head = store.ReadRef(draft_ref);
  const git_oid ws_head = impl_->WorkspaceHead(workspace);
  const std::string ws_ref = WorkspaceRef(workspace);
  std::string note(note_view);
  if (note.empty()) note = "Publish draft " + std::string(draft);

  PublishResult result;
  result.workspace = std::string(workspace);
  result.draft = std::string(draft);

  // An earlier publish already merged what is asked for: report it, write
  // only what it left undone.
  auto report_earlier = [&](const git_oid& earlier) {
    CompleteTags(*impl_, workspace, earlier, note);
    git::CommitPtr commit = store.LookupCommit(earlier);
    result.commit = git::OidHex(earlier);
    for (const auto& [flow, n] : VersionTrailers(commit.get())) {
      result.versions.push_back({flow, n, TagRef(workspace, flow, n), result.commit, impl_->user, 0, note});
    }
    if (git_commit_parentcount(commit.get()) > 0) {
      result.settings_changes = DescribeSettingsChanges(store, *git_commit_parent_id(commit.get(), 0), earlier);
    }
    std::string merged_from = DraftTrailer(commit.get());
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
    auto earlier = RecentPublish(store, ws_head, workspace, [&](const git_commit* commit) {
      return DraftTrailer(commit) == draft;
    });
    if (!earlier) throw Error(ErrorCode::kNotFound, "draft '" + std::string(draft) + "' not found");
    return report_earlier(*earlier);
  }

  // Finish what an interrupted publish of the head commit left undone.
  CompleteTags(*impl_, workspace, ws_head, note);

  if (store.IsAncestor(*draft_head, ws_head)) {
    // An interrupted run already merged this draft, or another draft whose
    // head is the same commit was published (identical imports made at the
    // same second are one commit), or the draft is empty.
    auto earlier = RecentPublish(store, ws_head, workspace, [&](const git_commit* commit) {
      return git_commit_parentcount(commit) == 2 &&
             git_oid_equal(git_commit_parent_id(commit, 1), &*draft_head);
    });
    if (earlier) {
      RetireDraft(*impl_, draft_ref, *draft_head, *earlier, result);
      return report_earlier(*earlier);
    }
    // A draft kept checked out after its publish sits on that publish
    // commit: rerunning (perhaps after a kill) has nothing left to do.
    auto kept = RecentPublish(store, ws_head, workspace, [&](const git_commit* commit) {
      return git_oid_equal(git_commit_id(commit), &*draft_head) && DraftTrailer(commit) == draft;
    });
    if (!kept) {
      throw Error(ErrorCode::kInvalidArgument,
                  "draft '" + std::string(draft) + "' has no changes to publish");
    }
    return report_earlier(*kept);
  }

  auto base = store.MergeBase(*draft_head, ws_head);
  if (!base) {
    throw Error(ErrorCode::kConflict, "draft '" + std::string(draft) +
                                          "' shares no history with workspace '" +
                                          std::string(workspace) + "'");
  }
  std::vector<FlowChange> changes = impl_->ChangedFlows(*base, *draft_head);
  const std::vector<std::string> settings_paths = ChangedSettingsPaths(store, *base, *draft_head);
  bool settings_changed = !settings_paths.empty();
  result.settings_changes = DescribeSettingsChanges(store, *base, *draft_head);
  // Roles are access control: changing them through a draft needs admin.
  if (settings_changed && (NeedsAdmin(result.settings_changes) ||
                           WorkspaceSettings::AtCommit(store, ws_head).Roles() !=
                               WorkspaceSettings::AtCommit(store, *draft_head).Roles())) {
    impl_->RequireRole(workspace, Role::kAdmin);
  }
  if (changes.empty() && !settings_changed) {
    throw Error(ErrorCode::kInvalidArgument,
                "draft '" + std::string(draft) + "' has no changes to publish");
  }

  // Conflicts: the same folder changed on both sides since the base.
  std::vector<std::string> conflicts;
  auto check_path = [&](const std::string& id, const std::string& path) {
    if (SameEntry(store, *base, ws_head, path)) return;
    git_oid theirs = LastChange(store, ws_head, *base, path);
    conflicts.push_back("flow '" + id + "' (" + path + ") changed in workspace '" +
                        std::string(workspace) + "' commit " + ShortId(theirs) + " and in draft '" +
                        std::string(draft) + "' commit " + ShortId(*draft_head) +
                        " since their base " + ShortId(*base));
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
                          ShortId(LastChange(store, ws_head, *base, path)) + " and in draft '" +
                          std::string(draft) + "' commit " + ShortId(*draft_head));
    }
    edits[path] = store.EntryAt(draft_tree.get(), path);
  }
  if (!conflicts.empty()) {
    throw Error(ErrorCode::kConflict,
                "publish refused: " + std::to_string(conflicts.size()) +
                    " conflict(s) with workspace '" + std::string(workspace) +
                    "'; rebase the draft or revert one side",
                conflicts);
  }

  git_oid merged_tree = store.EditTree(store.CommitTreeId(ws_head), edits);

  // Validate the workspace as the merge leaves it.
  CheckMergedWorkspace(store, impl_->index_cache,
                       {std::string(workspace), std::string(draft), ws_head, merged_tree, &changes,
                        settings_changed});
  for (const auto& change : changes) {
    if (!change.after) result.removed.push_back(change.id);
  }

  // Versions and the publish commit.
  std::string message = "Publish";
  std::string trailers;
  for (const auto& change : changes) {
    if (!change.after) continue;
    auto tags = VersionTags(store, workspace, change.id);
    int next = tags.empty() ? 1 : tags.back().first + 1;
    result.versions.push_back({change.id, next, TagRef(workspace, change.id, next), "",
                               impl_->user, 0, note});
    trailers += std::string(kVersionTrailer) + change.id + " v" + std::to_string(next) + "\n";
  }
  if (result.versions.size() == 1) {
    message += " " + result.versions[0].flow + " v" + std::to_string(result.versions[0].number);
  } else if (!result.versions.empty()) {
    message += " " + std::to_string(result.versions.size()) + " flows";
  }
  if (!result.removed.empty()) message += ", remove " + std::to_string(result.removed.size());
  if (changes.empty()) message += " workspace settings";
  message += " from draft " + std::string(draft) + "\n\n" + note + "\n\nFlowrepo-Draft: " +
             std::string(draft) + "\n" + std::string(kWorkspaceTrailer) +
             std::string(workspace) + "\n" + trailers;
  for (const auto& id : result.removed) message += "Flowrepo-Removed: " + id + "\n";

  git::SignaturePtr who = store.Signature(impl_->user);
  git_oid commit = store.CreateCommit(merged_tree, {ws_head, *draft_head}, message, who.get());
  // A work tree with the draft checked out must be able to follow it to the
  // publish commit: find out before the workspace moves.
  WorkTreeSync::Plan(store, draft_ref, *draft_head, commit);
  impl_->MoveRef(ws_ref, commit, ws_head, "flowrepo: publish " + std::string(draft));
  result.commit = git::OidHex(commit);

  CompleteTags(*impl_, workspace, commit, note);
  for (auto& v : result.versions) {
    v.commit = result.commit;
    v.time = who->when.time;
  }
  RetireDraft(*impl_, draft_ref, *draft_head, commit, result);
  return result;
}

}  // namespace flowrepo
