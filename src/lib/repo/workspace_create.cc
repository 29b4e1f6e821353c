// Workspace creation: a new workspace starts with a publish of its own, so
// its flows have versions (history, export --version, revert) from the
// start.
//
// 1. Every flow at the source workspace's head gets a source: the latest
//    version of it there ("<ws>/<flow>/v<N>") when the head still has that
//    version's content, else the head commit ("<ws>/<flow>@<commit>").
// 2. One commit on the source head, with its tree, whose trailer block
//    names the new workspace, the source workspace, and v1 of every flow
//    with its source (docs/repository-format.md).
// 3. The new workspace ref is created by compare-and-swap from absent: the
//    commit point. Then the tags <new>/<flow>/v1 are made from the
//    trailers, as publish makes its tags: a rerun of the same command, or
//    the next publish while the creation commit is the head, completes
//    them after an interruption (Impl::CompleteTags).

#include <algorithm>
#include <map>

#include "flowrepo/error.h"
#include "repo/repository_impl.h"
#include "repo/trailers.h"

namespace flowrepo {
namespace {

// The version tags of workspace \a ws, by flow, ascending by number.
std::map<std::string, std::vector<VersionTagRef>> TagsByFlow(const Store& store, std::string_view ws) {
  const std::string prefix = "refs/tags/" + std::string(ws) + "/";
  std::map<std::string, std::vector<VersionTagRef>> out;
  for (const auto& [ref, target] : store.ListRefs(prefix + "*")) {
    std::string_view rest = std::string_view(ref).substr(prefix.size());
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) continue;
    if (auto n = VersionFromTag(rest.substr(slash + 1), "v")) {
      out[std::string(rest.substr(0, slash))].push_back({*n, ref, target});
    }
  }
  for (auto& [flow, tags] : out) {
    std::sort(tags.begin(), tags.end(),
              [](const VersionTagRef& a, const VersionTagRef& b) { return a.number < b.number; });
  }
  return out;
}

// Finds where each flow of the source workspace comes from.
class SourceFinder {
 public:
  SourceFinder(const FlowRepository::Impl& impl, std::string_view ws, const git_oid& head)
      : impl_(impl),
        ws_(ws),
        head_(head),
        index_(impl.version_index.For(impl.store, ws, head)),
        tags_(TagsByFlow(impl.store, ws)) {}

  // "<ws>/<flow>/v<N>", or "<ws>/<flow>@<head>" when the flow was never
  // published or changed since its latest version.
  std::string SourceOf(const FlowLocation& flow) {
    const std::string name = std::string(ws_) + "/" + flow.id;
    if (auto it = tags_.find(flow.id); it != tags_.end()) {
      for (auto tag = it->second.rbegin(); tag != it->second.rend(); ++tag) {
        auto commit = PeelTagTarget(impl_.store, tag->target);
        if (!commit || !impl_.Backs(ws_, head_, index_, flow.id, tag->number, *commit)) continue;
        if (SameFolder(*commit, flow)) return name + "/v" + std::to_string(tag->number);
        break;
      }
    }
    return name + "@" + git::OidHex(head_);
  }

 private:
  bool SameFolder(const git_oid& commit, const FlowLocation& flow) {
    const std::string key = git::OidHex(commit);
    auto it = roots_.find(key);
    if (it == roots_.end()) it = roots_.emplace(key, impl_.store.CommitTree(commit)).first;
    auto entry = impl_.store.EntryAt(it->second.get(), flow.path);
    return entry && git_oid_equal(&entry->id, &flow.tree);
  }

  const FlowRepository::Impl& impl_;
  std::string_view ws_;
  git_oid head_;
  const VersionIndex& index_;
  std::map<std::string, std::vector<VersionTagRef>> tags_;
  std::map<std::string, git::TreePtr> roots_;  ///< root trees of version commits, by commit
};

// The trailer block of the creation commit of \a name from \a from.
std::string CreationTrailers(const FlowRepository::Impl& impl, std::string_view name, std::string_view from,
                             const git_oid& head, const std::map<std::string, FlowLocation>& flows) {
  SourceFinder sources(impl, from, head);
  std::string trailers = TrailerLine(kWorkspaceTrailer, name) + TrailerLine(kCreatedFromTrailer, from);
  for (const auto& [id, location] : flows) {
    trailers += VersionTrailerLine(id, 1) + TrailerLine(kSourceTrailer, sources.SourceOf(location));
  }
  return trailers;
}

// Version tags under a workspace's name without the workspace (it was
// removed): they would be taken for its versions.
void RequireNoTags(const Store& store, std::string_view name) {
  auto tags = store.ListRefs("refs/tags/" + std::string(name) + "/*");
  if (tags.empty()) return;
  throw Error(ErrorCode::kAlreadyExists, "workspace '" + std::string(name) + "' cannot be created: tag '" +
                                             tags[0].first.substr(std::string_view("refs/tags/").size()) +
                                             "' and others under its name exist already; choose another name");
}

}  // namespace

WorkspaceInfo FlowRepository::CreateWorkspace(std::string_view name, std::string_view from) {
  RequireId(name, "workspace name");
  impl_->RequireRole(from, Role::kAdmin);
  Store& store = impl_->store;
  const git_oid head = impl_->WorkspaceHead(from);
  const std::string ref = WorkspaceRef(name);
  const std::string note = "Create workspace " + std::string(name) + " from " + std::string(from);

  if (auto existing = store.ReadRef(ref)) {
    // A rerun: succeed only when the workspace is still exactly what this
    // command makes, and complete its tags.
    git::CommitPtr commit = store.LookupCommit(*existing);
    PublishTrailers trailers = ReadPublishTrailers(commit.get());
    if (!trailers.IsPublishTo(name) || trailers.created_from != from) {
      throw Error(ErrorCode::kAlreadyExists, "workspace '" + std::string(name) + "' already exists");
    }
    impl_->CompleteTags(name, *existing);
    WorkspaceInfo info{std::string(name), git::OidHex(*existing), static_cast<int>(impl_->FlowsAt(*existing).size())};
    info.completed_earlier_create = true;
    return info;
  }
  RequireNoTags(store, name);

  const std::map<std::string, FlowLocation> flows = impl_->FlowsAt(head);
  const std::string message = note + "\n\n" + CreationTrailers(*impl_, name, from, head, flows);
  git::SignaturePtr who = store.Signature(impl_->user);
  git_oid commit = store.CreateCommit(store.CommitTreeId(head), {head}, message, who.get());
  store.UpdateRef(ref, commit, std::nullopt, "flowrepo: workspace create from " + std::string(from));
  impl_->CompleteTags(name, commit);
  return {std::string(name), git::OidHex(commit), static_cast<int>(flows.size())};
}

}  // namespace flowrepo
