// Versions: which version tags count, and the number of the next one.
//
// A tag refs/tags/<ws>/<flow>/vN is believed only when it is backed: it
// peels to a commit whose trailer block names workspace <ws> and
// "<flow> vN", and that commit is reachable from the workspace head. Tags
// made by hand, pushed at random commits, or pointing at another flow's
// publish are ignored by history, export, revert and diff, and reported by
// `flowrepo check`.
//
// 1. The version index of the workspace (version_index.h) lists what the
//    publish commits on the head's first-parent chain name; a tag whose
//    commit it lists is backed without reading that commit.
// 2. Otherwise the commit itself is read: a publish reached only through a
//    second parent (a workspace moved by plain git) is still backed, and a
//    damaged index file cannot hide a version.
// 3. The next number is one above every backed tag and every version a
//    publish commit names (so a publish whose tags were never made does not
//    have its number reused); an unbacked tag already holding it refuses
//    the publish before anything is written.

#include <algorithm>

#include "flowrepo/error.h"
#include "repo/repository_impl.h"
#include "repo/trailers.h"

namespace flowrepo {

std::optional<git_oid> PeelTagTarget(const Store& store, const git_oid& target) {
  // Peeled by the types tag objects record, without reading the commit: a
  // first publish of a large import is a commit of megabytes.
  git_odb* odb_raw = nullptr;
  if (git_repository_odb(&odb_raw, store.raw()) < 0) return std::nullopt;
  git::OdbPtr odb(odb_raw);
  std::size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  if (git_odb_read_header(&size, &type, odb.get(), &target) < 0) return std::nullopt;
  git_oid current = target;
  for (int depth = 0; depth < 8 && type == GIT_OBJECT_TAG; ++depth) {
    git_tag* raw = nullptr;
    if (git_tag_lookup(&raw, store.raw(), &current) < 0) return std::nullopt;
    git::TagPtr tag(raw);
    current = *git_tag_target_id(tag.get());
    type = git_tag_target_type(tag.get());
  }
  if (type != GIT_OBJECT_COMMIT) return std::nullopt;
  return current;
}

bool FlowRepository::Impl::Backs(std::string_view ws, const git_oid& head, const VersionIndex& index,
                                 std::string_view flow, int number, const git_oid& commit) const {
  if (index.Has(flow, number, commit)) return true;
  git_commit* raw = nullptr;
  if (git_commit_lookup(&raw, store.raw(), &commit) < 0) return false;
  git::CommitPtr found(raw);
  PublishTrailers trailers = ReadPublishTrailers(found.get());
  if (!trailers.IsPublishTo(ws) || !trailers.NamesVersion(flow, number)) return false;
  return store.IsAncestor(commit, head);
}

std::vector<VersionTag> FlowRepository::Impl::VersionTagsOf(std::string_view ws, std::string_view flow) const {
  const git_oid head = WorkspaceHead(ws);
  std::vector<VersionTag> out;
  std::vector<VersionTagRef> refs = VersionTags(store, ws, flow);
  if (refs.empty()) return out;
  const VersionIndex& index = version_index.For(store, ws, head);
  for (auto& ref : refs) {
    VersionTag tag{ref.number, std::move(ref.ref), ref.target, PeelTagTarget(store, ref.target), false};
    tag.backed = tag.commit && Backs(ws, head, index, flow, tag.number, *tag.commit);
    out.push_back(std::move(tag));
  }
  return out;
}

git_oid FlowRepository::Impl::VersionCommit(std::string_view ws, std::string_view flow, int number) const {
  if (number < 1 || number > kMaxVersion) {
    throw Error(ErrorCode::kInvalidArgument, "invalid version " + std::to_string(number) + " (versions are 1 to " +
                                                 std::to_string(kMaxVersion) + ")");
  }
  const git_oid head = WorkspaceHead(ws);
  const std::string ref = TagRef(ws, flow, number);
  const std::string missing = "flow '" + std::string(flow) + "' has no version v" + std::to_string(number) +
                              " in workspace '" + std::string(ws) + "'";
  auto target = store.ReadRef(ref);
  if (!target) throw Error(ErrorCode::kNotFound, missing);
  auto commit = PeelTagTarget(store, *target);
  if (!commit || !Backs(ws, head, version_index.For(store, ws, head), flow, number, *commit)) {
    throw Error(ErrorCode::kNotFound,
                missing + " (tag '" + ShortTag(ref) + "' is not backed by a publish commit; see 'flowrepo check')");
  }
  return *commit;
}

std::vector<std::string> FlowRepository::Impl::UnbackedVersionTags(std::string_view ws) const {
  const git_oid head = WorkspaceHead(ws);
  const std::string prefix = "refs/tags/" + std::string(ws) + "/";
  std::vector<std::string> out;
  for (const auto& [ref, target] : store.ListRefs(prefix + "*")) {
    std::string_view rest = std::string_view(ref).substr(prefix.size());
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) continue;
    auto number = VersionFromTag(rest.substr(slash + 1), "v");
    if (!number) continue;
    auto commit = PeelTagTarget(store, target);
    if (!commit || !Backs(ws, head, version_index.For(store, ws, head), rest.substr(0, slash), *number, *commit)) {
      out.push_back(ref);
    }
  }
  return out;
}

std::map<std::string, std::vector<int>> FlowRepository::Impl::BackedVersionNumbers(std::string_view ws) const {
  // One listing of the workspace's tags and one index lookup per tag,
  // instead of a listing per flow (each of which walks every tag ref).
  const git_oid head = WorkspaceHead(ws);
  const VersionIndex& index = version_index.For(store, ws, head);
  const std::string prefix = "refs/tags/" + std::string(ws) + "/";
  std::map<std::string, std::vector<int>> out;
  for (const auto& [ref, target] : store.ListRefs(prefix + "*")) {
    const std::string_view rest = std::string_view(ref).substr(prefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) continue;
    const std::string_view flow = rest.substr(0, slash);
    const auto number = VersionFromTag(rest.substr(slash + 1), "v");
    if (!number) continue;
    const auto commit = PeelTagTarget(store, target);
    if (commit && Backs(ws, head, index, flow, *number, *commit)) out[std::string(flow)].push_back(*number);
  }
  for (auto& [flow, numbers] : out) std::sort(numbers.begin(), numbers.end());
  return out;
}

int FlowRepository::Impl::HighestVersion(std::string_view ws, std::string_view flow) const {
  const git_oid head = WorkspaceHead(ws);
  std::vector<VersionTag> tags = VersionTagsOf(ws, flow);
  int highest = 0;
  for (const auto& tag : tags) {
    if (tag.backed) highest = std::max(highest, tag.number);
  }
  // The highest number a publish commit names, confirmed by its backed tag
  // or by the commit itself: a damaged index file must not move numbers.
  auto confirmed = [&](const VersionIndex::Entry& e) {
    for (const auto& tag : tags) {
      if (tag.backed && tag.number == e.number && git_oid_equal(&*tag.commit, &e.commit)) return true;
    }
    git_commit* raw = nullptr;
    if (git_commit_lookup(&raw, store.raw(), &e.commit) < 0) return false;
    git::CommitPtr commit(raw);
    PublishTrailers trailers = ReadPublishTrailers(commit.get());
    return trailers.IsPublishTo(ws) && trailers.NamesVersion(flow, e.number);
  };
  std::vector<VersionIndex::Entry> named = version_index.For(store, ws, head).Of(flow);
  if (!named.empty() && !confirmed(named.back())) named = version_index.Rebuild(store, ws, head).Of(flow);
  if (!named.empty()) highest = std::max(highest, named.back().number);
  return highest;
}

int FlowRepository::Impl::NextVersion(std::string_view ws, std::string_view flow, std::string_view continues) const {
  const int highest = std::max(HighestVersion(ws, flow), continues.empty() ? 0 : HighestVersion(ws, continues));
  if (highest >= kMaxVersion) {
    throw Error(ErrorCode::kInvalidData, "publish refused: flow '" + std::string(flow) + "' in workspace '" +
                                             std::string(ws) + "' has reached v" + std::to_string(kMaxVersion) +
                                             ", the highest version number");
  }
  const int next = highest + 1;
  const std::string ref = TagRef(ws, flow, next);
  if (store.ReadRef(ref)) {
    throw Error(ErrorCode::kConflict,
                "publish refused: tag '" + ShortTag(ref) + "' exists but no publish commit backs it, so version v" +
                    std::to_string(next) + " of '" + std::string(flow) + "' cannot be tagged; see 'flowrepo check'");
  }
  return next;
}

namespace {

// What a publish commit's version tags are: its trailers name them, its
// committer is their tagger and its note their message.
struct TagPlan {
  std::vector<VersionTrailer> versions;
  git::CommitPtr commit;
  std::string note;
};

TagPlan PlanTags(const Store& store, std::string_view ws, const git_oid& publish_commit) {
  TagPlan plan{{}, store.LookupCommit(publish_commit), ""};
  PublishTrailers trailers = ReadPublishTrailers(plan.commit.get());
  if (!trailers.IsPublishTo(ws)) return plan;
  plan.versions = std::move(trailers.versions);
  plan.note = NoteOf(git_commit_message(plan.commit.get()));
  return plan;
}

}  // namespace

std::vector<std::pair<std::string, git_oid>> FlowRepository::Impl::TagObjects(std::string_view ws,
                                                                              const git_oid& publish_commit) {
  std::vector<std::pair<std::string, git_oid>> out;
  TagPlan plan = PlanTags(store, ws, publish_commit);
  const git_signature* who = git_commit_committer(plan.commit.get());
  for (const auto& [flow, number] : plan.versions) {
    std::string ref = TagRef(ws, flow, number);
    out.emplace_back(ref, store.WriteTagObject(ref, plan.commit.get(), who, plan.note));
  }
  return out;
}

std::vector<std::string> FlowRepository::Impl::CompleteTags(std::string_view ws, const git_oid& publish_commit) {
  TagPlan plan = PlanTags(store, ws, publish_commit);
  const git_signature* who = git_commit_committer(plan.commit.get());
  // Every tag object first, then the refs: many go into one pack and one
  // rewrite of packed-refs, not a file and its fsyncs each.
  constexpr std::size_t kPackedTags = 16;
  const bool packed = plan.versions.size() >= kPackedTags;
  if (packed) store.EnablePackedWrites();
  std::vector<git::PackedRef> missing;
  for (const auto& v : plan.versions) {
    std::string ref = TagRef(ws, v.flow, v.number);
    if (store.ReadRef(ref)) continue;
    const git_oid tag = store.WriteTagObject(ref, plan.commit.get(), who, plan.note);
    missing.push_back({std::move(ref), tag, publish_commit});
  }
  std::vector<std::string> made;
  if (packed) {
    store.CreatePackedRefs(missing);
    for (auto& ref : missing) made.push_back(std::move(ref.name));
    return made;
  }
  for (auto& ref : missing) {
    try {
      store.UpdateRef(ref.name, ref.target, std::nullopt, "flowrepo: tag " + ShortTag(ref.name));
    } catch (const Error& e) {
      // Another process completing the same publish made it first: fine. A
      // lock left by a killed process is not: report it with its path.
      if (e.code() != ErrorCode::kConflict || !store.ReadRef(ref.name)) throw;
      continue;
    }
    made.push_back(std::move(ref.name));
  }
  return made;
}

}  // namespace flowrepo
