// Writes of flows onto drafts: new, put, copy, remove, move, rename.

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include "flow/format.h"
#include "flowrepo/cancel.h"
#include "flowrepo/error.h"
#include "json/json_io.h"
#include "parallel.h"
#include "repo/repository_impl.h"
#include "repo/trailers.h"

namespace flowrepo {
namespace {

constexpr std::size_t kBatch = 256;  // documents canonicalised on all cores, then stored

// Parses and re-serialises one document so that what is stored is
// canonical and well-formed; an empty document stays empty (absent).
void Canonicalise(std::string& text, const std::string& file) {
  if (!text.empty()) text = CanonicalJson(ParseJson(text, file));
}

void Canonicalise(Flow& flow) {
  const std::string base = flow.summary.path() + "/";
  Canonicalise(flow.flow_definition, base + std::string(kFlowDefinitionFile));
  Canonicalise(flow.app_definition, base + std::string(kAppDefinitionFile));
  Canonicalise(flow.env_variables, base + std::string(kEnvVariablesFile));
}

void RequireStorable(const FlowSummary& summary, bool has_app) {
  RequireId(summary.id, "flow id");
  if (std::string why = GroupProblem(summary.group); !why.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "invalid group '" + summary.group + "': " + why);
  }
  if (!has_app) {
    throw Error(ErrorCode::kInvalidData, summary.path() + "/" + std::string(kAppDefinitionFile) + ": missing");
  }
}

// Writes \a flow's documents as blobs and lets go of their texts.
StoredFlow StoreFlow(Store& store, Flow& flow) {
  auto write = [&](std::string& text) -> std::optional<git_oid> {
    if (text.empty()) return std::nullopt;
    git_oid id = store.WriteBlob(text);
    std::string().swap(text);
    return id;
  };
  StoredFlow stored{flow.summary, {}, {}, {}};
  stored.definition = write(flow.flow_definition);
  stored.app = write(flow.app_definition);
  stored.env = write(flow.env_variables);
  return stored;
}

// Refuses a write whose groups or flow folders clash with others of the
// same folder (names.h), as the draft will hold them: \a existing is the
// draft before, \a written the flows written (replacing those ids).
void RequireNoClash(const std::map<std::string, FlowLocation>& existing, const std::vector<FlowSummary>& written) {
  std::vector<NameClash> clashes = ClashesOfWrite(existing, written);
  if (clashes.empty()) return;
  std::vector<std::string> details;
  for (const auto& c : clashes) details.push_back(c.Message());
  throw Error(ErrorCode::kAlreadyExists,
              clashes.size() == 1
                  ? details[0]
                  : std::to_string(clashes.size()) + " names clash with others in their folder; " + details[0],
              clashes.size() == 1 ? std::vector<std::string>{} : details);
}

// A display name given on the command line (flow new, copy): refused now
// rather than at publish.
void RequireDisplayName(const std::string& name) {
  if (std::string why = DisplayNameProblem(name); !why.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "invalid name '" + name + "': " + why);
  }
}

std::string Describe(std::string_view action, const std::vector<std::string>& ids) {
  std::string subject(action);
  subject[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(subject[0])));
  if (ids.size() == 1) return subject + " flow " + ids[0];
  std::string msg = subject + " " + std::to_string(ids.size()) + " flows\n\n";
  for (const auto& id : ids) msg += "- " + id + "\n";
  return msg;
}

// Refuses a write that names one flow twice.
void RequireDistinct(const std::vector<std::string>& ids) {
  std::vector<std::string_view> sorted(ids.begin(), ids.end());
  std::sort(sorted.begin(), sorted.end());
  auto twice = std::adjacent_find(sorted.begin(), sorted.end());
  if (twice != sorted.end()) {
    throw Error(ErrorCode::kInvalidArgument, "flow '" + std::string(*twice) + "' is given twice");
  }
}

// The edits that put \a flow's documents at its folder, moving it there
// from where \a existing has it.
void AddFlowEdits(const StoredFlow& flow, const std::map<std::string, FlowLocation>& existing,
                  const std::set<std::string>& existing_paths, TreeEdits& edits) {
  auto it = existing.find(flow.summary.id);
  const std::string path = flow.summary.path();
  if (it != existing.end() && it->second.path != path) {
    edits[it->second.path] = std::nullopt;  // moved to another group
  }
  if (it == existing.end() || it->second.path != path) {
    // A new folder must not land inside another flow's folder.
    for (auto slash = path.find('/', kFlowsDir.size() + 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      if (existing_paths.count(path.substr(0, slash))) {
        throw Error(ErrorCode::kInvalidArgument,
                    "group '" + flow.summary.group + "' is inside flow folder '" + path.substr(0, slash) + "'");
      }
    }
  }
  // Files the new version does not have are removed.
  for (const auto& [file, blob] : {std::pair(kFlowDefinitionFile, flow.definition),
                                   std::pair(kAppDefinitionFile, flow.app), std::pair(kEnvVariablesFile, flow.env)}) {
    edits[path + "/" + std::string(file)] =
        blob ? TreeEdits::mapped_type(TreeEntry{*blob, GIT_FILEMODE_BLOB}) : std::nullopt;
  }
}

// A blob of \a folder by name; none when absent.
std::optional<git_oid> BlobOf(const git_tree* folder, std::string_view file) {
  const git_tree_entry* e = git_tree_entry_byname(folder, std::string(file).c_str());
  if (!e || git_tree_entry_type(e) != GIT_OBJECT_BLOB) return std::nullopt;
  return *git_tree_entry_id(e);
}

// Flow \a loc as stored, to be written again with \a summary.
StoredFlow Restored(const Store& store, const FlowLocation& loc, FlowSummary summary) {
  git::TreePtr folder = store.LookupTree(loc.tree);
  return {std::move(summary), BlobOf(folder.get(), kFlowDefinitionFile), BlobOf(folder.get(), kAppDefinitionFile),
          BlobOf(folder.get(), kEnvVariablesFile)};
}

// \a flow with its references to flow \a from made to name \a to, or
// std::nullopt when it names no such flow (or cannot be read: a flow
// broken before is not this rename's to mend, and publish reports it).
// Throws kInvalidData when a reference it has cannot be rewritten.
std::optional<StoredFlow> WithReferenceRenamed(Store& store, const FlowLocation& loc, const std::string& from,
                                               const std::string& to) {
  StoredFlow flow = Restored(store, loc, FlowSummary{loc.id, loc.id, loc.group, ""});
  if (!flow.definition || !flow.app) return std::nullopt;
  std::string definition_text = store.ReadBlob(*flow.definition);
  std::string app_text = store.ReadBlob(*flow.app);
  const std::string quoted = "\"" + from + "\"";
  if (definition_text.find(quoted) == std::string::npos && app_text.find(quoted) == std::string::npos) {
    return std::nullopt;
  }
  const std::string file = loc.path + "/" + std::string(kFlowDefinitionFile);
  Json app, definition;
  FlowFacts facts;
  try {
    app = ParseJson(app_text, loc.path + "/" + std::string(kAppDefinitionFile));
    const FlowFormat* format = FindFormat(StringOr(app, "format", std::string(kNativeFormat)));
    if (!format) return std::nullopt;
    definition = ParseJson(definition_text, file);
    facts = format->Facts(definition);
    ResolveReferences(app, facts);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidData) throw;
    return std::nullopt;
  } catch (const Json::exception&) {
    return std::nullopt;
  }
  if (std::none_of(facts.subflows.begin(), facts.subflows.end(),
                   [&](const SubflowRef& ref) { return ref.flow == from; })) {
    return std::nullopt;
  }
  const std::map<std::string, std::string> rename = {{from, to}};
  for (const auto& ref : RenameSubflows(definition, facts.subflows, rename)) {
    throw Error(ErrorCode::kInvalidData,
                file + ":" + ref.pointer + ": cannot make node '" + ref.node + "' use flow '" + to + "'");
  }
  RenameReferences(app, rename);
  flow.definition = store.WriteBlob(CanonicalJson(definition));
  flow.app = store.WriteBlob(CanonicalJson(app));
  return flow;
}

// What a write onto \a target starts from, for messages: the draft, or
// the workspace a new draft starts from.
std::string WhereDraftStarts(const DraftTarget& target, std::string_view workspace, std::string_view draft) {
  return target.head ? "draft '" + std::string(draft) + "'" : "workspace '" + std::string(workspace) + "'";
}

// Where \a ids are among \a flows, the flows \a target starts from.
// Throws kNotFound naming the first missing one.
std::vector<const FlowLocation*> FindFlows(const std::map<std::string, FlowLocation>& flows,
                                           const std::vector<std::string>& ids, const DraftTarget& target,
                                           std::string_view workspace, std::string_view draft) {
  std::vector<const FlowLocation*> found;
  for (const auto& id : ids) {
    auto it = flows.find(id);
    if (it == flows.end()) throw FlowNotFound(id, flows, WhereDraftStarts(target, workspace, draft));
    found.push_back(&it->second);
  }
  return found;
}

}  // namespace

WriteResult FlowRepository::PutFlows(std::string_view workspace, std::string_view draft, std::vector<Flow> flows,
                                     std::string_view action, GroupChoice groups, DocumentForm form) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  if (flows.empty()) throw Error(ErrorCode::kInvalidArgument, "no flows to write");
  for (const Flow& flow : flows) RequireStorable(flow.summary, !flow.app_definition.empty());
  // Many flows: one pack instead of thousands of loose fsynced files.
  if (flows.size() >= Store::kPackedWriteThreshold) impl_->store.EnablePackedWrites();
  // A batch at a time, canonicalised on all cores (JSON work is most of the
  // cost of a big import), then stored and let go: memory holds a batch of
  // documents, not the write.
  std::vector<StoredFlow> stored;
  stored.reserve(flows.size());
  for (std::size_t first = 0; first < flows.size(); first += kBatch) {
    ThrowIfCancelled();
    const std::size_t count = std::min(kBatch, flows.size() - first);
    if (form == DocumentForm::kCanonicalise) {
      ParallelFor(count, [&](std::size_t i, std::size_t) { Canonicalise(flows[first + i]); });
    }
    for (std::size_t i = first; i < first + count; ++i) stored.push_back(StoreFlow(impl_->store, flows[i]));
  }
  return impl_->CommitFlows(workspace, draft, std::move(stored), action, groups);
}

WriteResult FlowRepository::Impl::CommitFlows(std::string_view workspace, std::string_view draft,
                                              std::vector<StoredFlow> flows, std::string_view action,
                                              FlowRepository::GroupChoice groups) {
  DraftTarget target = OpenDraft(workspace, draft);
  const auto& existing = FlowsAt(target.parent);
  std::vector<std::string> ids;
  ids.reserve(flows.size());
  {
    std::vector<FlowSummary> summaries;
    for (StoredFlow& flow : flows) {
      RequireStorable(flow.summary, flow.app.has_value());
      if (groups == GroupChoice::kKeepExisting) {
        if (auto it = existing.find(flow.summary.id); it != existing.end()) flow.summary.group = it->second.group;
      }
      summaries.push_back(flow.summary);
      ids.push_back(flow.summary.id);
    }
    RequireNoClash(existing, summaries);
  }
  RequireDistinct(ids);
  std::set<std::string> existing_paths;
  for (const auto& [id, loc] : existing) existing_paths.insert(loc.path);
  // The tree is edited a slice of flows at a time, in path order, so that
  // the edits held are a slice's: a write of 100,000 flows names 300,000
  // files. Each flow is let go of once its slice is in the tree.
  std::sort(flows.begin(), flows.end(), [](const StoredFlow& a, const StoredFlow& b) {
    return std::tie(a.summary.group, a.summary.id) < std::tie(b.summary.group, b.summary.id);
  });
  constexpr std::size_t kSlice = 8192;
  git_oid tree = store.CommitTreeId(target.parent);
  for (std::size_t first = 0; first < flows.size(); first += kSlice) {
    ThrowIfCancelled();
    TreeEdits edits;
    for (std::size_t i = first; i < std::min(flows.size(), first + kSlice); ++i) {
      AddFlowEdits(flows[i], existing, existing_paths, edits);
      flows[i] = StoredFlow();
    }
    tree = store.EditTree(tree, edits);
  }
  std::vector<StoredFlow>().swap(flows);
  // Described before ids is moved: arguments are evaluated in no set order.
  std::string message = Describe(action, ids);
  return CommitTreeToDraft(workspace, draft, target, tree, message, std::move(ids));
}

WriteResult FlowRepository::NewFlow(std::string_view workspace, const NewFlowRequest& request) {
  RequireId(request.id, "flow id");
  if (!request.name.empty()) RequireDisplayName(request.name);
  impl_->RequireRole(workspace, Role::kIntegrator);
  std::string draft = request.draft.empty() ? request.id : request.draft;
  DraftTarget target = impl_->OpenDraft(workspace, draft);
  for (const git_oid& commit : {target.parent, impl_->WorkspaceHead(workspace)}) {
    auto flows = impl_->FlowsAt(commit);
    if (auto it = flows.find(request.id); it != flows.end()) {
      throw Error(ErrorCode::kAlreadyExists, "flow '" + request.id + "' already exists at '" + it->second.path + "'");
    }
  }
  Flow flow;
  flow.summary = {request.id, request.name.empty() ? request.id : request.name, request.group,
                  std::string(kNativeFormat)};
  flow.app_definition =
      CanonicalJson({{"id", request.id}, {"name", flow.summary.name}, {"description", ""}, {"format", kNativeFormat}});
  flow.flow_definition = CanonicalJson({
      {"mode", "sync"},
      {"inputs", Json::array()},
      {"outputs", Json::array()},
      {"nodes", Json::array({{{"id", "start"}, {"type", "start"}}, {{"id", "end"}, {"type", "end"}}})},
      {"edges", Json::array({{{"from", "start"}, {"to", "end"}}})},
  });
  flow.env_variables = CanonicalJson({{"variables", Json::array()}});
  return PutFlows(workspace, draft, {flow}, "create");
}

WriteResult FlowRepository::CopyFlow(std::string_view workspace, const CopyRequest& request) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  if (request.name.empty()) throw Error(ErrorCode::kInvalidArgument, "copy needs --name");
  RequireDisplayName(request.name);
  std::string id = request.id.empty() ? IdFromName(request.name) : request.id;
  if (id.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "cannot derive an id from name '" + request.name + "'; pass --id");
  }
  RequireId(id, "flow id");
  git_oid head = impl_->WorkspaceHead(workspace);
  Flow source = impl_->FlowAt(head, request.flow, "workspace '" + std::string(workspace) + "'");
  std::string draft = request.draft.empty() ? "copy-" + id : request.draft;
  DraftTarget target = impl_->OpenDraft(workspace, draft);
  for (const git_oid& commit : {target.parent, head}) {
    auto flows = impl_->FlowsAt(commit);
    if (auto it = flows.find(id); it != flows.end()) {
      throw Error(ErrorCode::kAlreadyExists,
                  "flow '" + id + "' already exists at '" + it->second.path + "'; pick another --id");
    }
  }
  Flow copy = source;
  copy.summary.id = id;
  copy.summary.name = request.name;
  if (!request.group.empty()) copy.summary.group = request.group;
  Json app = ParseJson(source.app_definition, source.summary.path() + "/app_definition.json");
  app["id"] = id;
  app["name"] = request.name;
  copy.app_definition = CanonicalJson(app);
  return PutFlows(workspace, draft, {copy}, "copy");
}

WriteResult FlowRepository::RemoveFlows(std::string_view workspace, std::string_view draft,
                                        const std::vector<std::string>& ids) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  if (ids.empty()) throw Error(ErrorCode::kInvalidArgument, "no flows to remove");
  RequireDistinct(ids);
  const DraftTarget target = impl_->OpenDraft(workspace, draft);
  TreeEdits edits;
  for (const FlowLocation* flow : FindFlows(impl_->FlowsAt(target.parent), ids, target, workspace, draft)) {
    edits[flow->path] = std::nullopt;
  }
  git_oid tree = impl_->store.EditTree(impl_->store.CommitTreeId(target.parent), edits);
  return impl_->CommitTreeToDraft(workspace, draft, target, tree, Describe("remove", ids), ids);
}

WriteResult FlowRepository::MoveFlows(std::string_view workspace, std::string_view draft,
                                      const std::vector<std::string>& ids, std::string_view group) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  if (ids.empty()) throw Error(ErrorCode::kInvalidArgument, "no flows to move");
  const DraftTarget target = impl_->OpenDraft(workspace, draft);
  std::vector<StoredFlow> moved;
  for (const FlowLocation* flow : FindFlows(impl_->FlowsAt(target.parent), ids, target, workspace, draft)) {
    moved.push_back(Restored(impl_->store, *flow, FlowSummary{flow->id, flow->id, std::string(group), ""}));
  }
  return impl_->CommitFlows(workspace, draft, std::move(moved), "move", GroupChoice::kAsGiven);
}

WriteResult FlowRepository::RenameFlow(std::string_view workspace, std::string_view draft, const std::string& from,
                                       const std::string& to) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  RequireId(to, "new flow id");
  if (from == to) throw Error(ErrorCode::kInvalidArgument, "flow '" + from + "' is already called '" + to + "'");
  Store& store = impl_->store;
  const DraftTarget target = impl_->OpenDraft(workspace, draft);
  // A copy: FlowsAt keeps one commit's flows, and the workspace's are read below.
  const std::map<std::string, FlowLocation> flows = impl_->FlowsAt(target.parent);
  const FlowLocation old = *FindFlows(flows, {from}, target, workspace, draft).at(0);
  // The new id is free: no flow has it here or on the workspace, and no
  // retired flow's versions hold it (they are its history).
  for (const git_oid& commit : {target.parent, impl_->WorkspaceHead(workspace)}) {
    const auto& there = impl_->FlowsAt(commit);
    if (auto it = there.find(to); it != there.end()) {
      throw Error(ErrorCode::kAlreadyExists, "flow '" + to + "' already exists at '" + it->second.path + "'");
    }
  }
  if (impl_->HighestVersion(workspace, to) > 0) {
    throw Error(ErrorCode::kAlreadyExists, "flow id '" + to + "' has versions in workspace '" + std::string(workspace) +
                                               "' (a removed flow's); pick another id");
  }

  StoredFlow renamed = Restored(store, old, FlowSummary{to, to, old.group, ""});
  if (!renamed.app) {
    throw Error(ErrorCode::kInvalidData, old.path + "/" + std::string(kAppDefinitionFile) + ": missing");
  }
  Json app = ParseJson(store.ReadBlob(*renamed.app), old.path + "/" + std::string(kAppDefinitionFile));
  app["id"] = to;
  renamed.app = store.WriteBlob(CanonicalJson(app));
  const std::string path = renamed.summary.path();
  for (const auto& [id, loc] : flows) {
    if (loc.path.rfind(path + "/", 0) == 0) {
      throw Error(ErrorCode::kAlreadyExists, "flow '" + id + "' is inside '" + path + "', where '" + to + "' would go");
    }
  }
  RequireNoClash(flows, {renamed.summary});

  std::vector<std::string> written = {to};
  std::vector<StoredFlow> users;
  for (const auto& [id, loc] : flows) {
    if (id == from) continue;
    if (auto user = WithReferenceRenamed(store, loc, from, to)) {
      users.push_back(std::move(*user));
      written.push_back(id);
    }
  }
  std::set<std::string> paths;
  for (const auto& [id, loc] : flows) paths.insert(loc.path);
  TreeEdits edits;
  edits[old.path] = std::nullopt;
  AddFlowEdits(renamed, flows, paths, edits);
  for (const auto& user : users) AddFlowEdits(user, flows, paths, edits);
  const git_oid tree = store.EditTree(store.CommitTreeId(target.parent), edits);
  std::string message = "Rename flow " + from + " to " + to + "\n\n";
  if (!users.empty()) {
    message += "References follow in " + std::to_string(users.size()) + " flow(s).\n\n";
  }
  message += RenamedTrailerLine(from, to);
  return impl_->CommitTreeToDraft(workspace, draft, target, tree, message, std::move(written));
}

}  // namespace flowrepo
