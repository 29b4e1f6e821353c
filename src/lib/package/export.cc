// Export: flows of one commit into a package.
//
// 1. Resolve the source commit once (workspace head, --at, or a version
//    tag) and index its flows once.
// 2. Resolve the selection (flow ids, groups with their sub-groups, minus
//    exclusions).
// 3. Pass one, flow by flow (dependencies join the queue under the include
//    policy): read the three blobs straight from the object database,
//    strip them (FlowFormat::StripForExport for the definition; endpoint,
//    sharing and audit of the app definition; values and references of
//    secret variables), validate what would be written (which includes the
//    secret scan), and record size and sha256. Every problem of every flow
//    is collected; any problem refuses the export before anything is
//    written.
// 4. Versions: one first-parent walk over the commit's history reads the
//    publish trailers, giving each flow the version whose content it is.
// 5. The manifest, made from the flows' entries waiting in the spool, then
//    pass two: the zip is written front to back to a temporary file in the
//    target folder (the files deflated in pass one copied from the spool,
//    where they waited for the manifest that comes first), and the file is
//    renamed into place without replacing anything unless asked to.

#include "package/export.h"

#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>
#include <unordered_map>

#include "digest.h"
#include "flow/format.h"
#include "flow/names.h"
#include "flowrepo/cancel.h"
#include "flowrepo/error.h"
#include "package/manifest.h"
#include "parallel.h"
#include "repo/trailers.h"
#include "validate/flow_validator.h"
#include "validate/secrets.h"
#include "zip/writer.h"
#include "zip/zip.h"

namespace flowrepo {
namespace {

// Pass one and the manifest parse every document, on every core, and leave
// malloc's arenas full of free chunks between the few kept ones; glibc
// keeps those pages resident unless asked (docs/performance.md, memory).
void ReturnFreedMemory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

namespace fs = std::filesystem;

constexpr std::size_t kBatchSize = 512;    // flows read, then processed in parallel
constexpr std::size_t kMinPerThread = 16;  // smaller batches stay on one thread

Json Strip(Json doc, DocKind kind, const FlowFormat* format, const StripOptions& strip) {
  switch (kind) {
    case DocKind::kDefinition: return format->StripForExport(std::move(doc), strip);
    case DocKind::kApp: return StripApp(std::move(doc));
    case DocKind::kEnv: return StripEnv(std::move(doc));
  }
  return doc;
}

// Parses a stored document and strips it as export does.
std::string StripDocument(const std::string& text, const std::string& file, DocKind kind, const FlowFormat* format,
                          const StripOptions& strip) {
  return CanonicalJson(Strip(ParseJson(text, file), kind, format, strip));
}

struct FlowBlobs {
  std::optional<git_oid> definition, app, env;
};

FlowBlobs BlobsOf(const Store& store, const FlowLocation& location) {
  git::TreePtr tree = store.LookupTree(location.tree);
  auto get = [&](std::string_view file) -> std::optional<git_oid> {
    const git_tree_entry* e = git_tree_entry_byname(tree.get(), std::string(file).c_str());
    if (!e || git_tree_entry_type(e) != GIT_OBJECT_BLOB) return std::nullopt;
    return *git_tree_entry_id(e);
  };
  return {get(kFlowDefinitionFile), get(kAppDefinitionFile), get(kEnvVariablesFile)};
}

// Sets each flow's version: the latest published to \a ws in the
// first-parent history of \a commit, when the flow still has that
// version's content at \a commit (the same folder, the same tree), with its
// publish commit; flows without one keep \a commit. One walk reading commit
// messages; the flow's folder is looked up only at the publish commit of
// its latest version, so the cost is the number of commits plus the number
// of flows, not the changes between. Nothing is copied per flow: copies
// of the ids and a map of results were a large part of an export's memory.
void AssignPublishedVersions(const Store& store, std::string_view ws, const git_oid& commit,
                             const std::map<std::string, FlowLocation>& flows, std::vector<BuiltFlow>& built) {
  std::unordered_map<std::string_view, BuiltFlow*> wanted;
  wanted.reserve(built.size());
  for (BuiltFlow& flow : built) {
    flow.commit = commit;
    wanted.emplace(flow.id(), &flow);
  }
  git_oid current = commit;
  while (!wanted.empty()) {
    git::CommitPtr c = store.LookupCommit(current);
    // Only the trailer block counts (repo/trailers.h), read in place: the
    // first publish of a large import names every flow.
    const TrailerBlock block(git_commit_message(c.get()));
    if (block.Workspace() == ws) {
      git::TreePtr root;
      // The folders holding flows at this commit, each read once: the first
      // publish of a whole repository names every flow.
      std::map<std::string_view, git::TreePtr> folders;
      auto folder = [&](std::string_view path) -> const git_tree* {
        auto it = folders.find(path);
        if (it != folders.end()) return it->second.get();
        if (!root) root = store.CommitTree(current);
        auto entry = store.EntryAt(root.get(), std::string(path));
        git::TreePtr tree = entry && entry->mode == GIT_FILEMODE_TREE ? store.LookupTree(entry->id) : nullptr;
        return folders.emplace(path, std::move(tree)).first->second.get();
      };
      for (std::size_t i = 0; i < block.size(); ++i) {
        if (block[i].key != kVersionTrailer) continue;
        auto n = ParseVersionValue(block[i].value);
        auto it = n ? wanted.find(n->flow) : wanted.end();
        if (it == wanted.end()) continue;
        BuiltFlow& flow = *it->second;
        wanted.erase(it);
        const FlowLocation& location = flows.at(std::string(flow.id()));
        const std::string_view path = location.path;
        const git_tree* parent = folder(path.substr(0, path.rfind('/')));
        const git_tree_entry* then = parent ? git_tree_entry_byname(parent, std::string(flow.id()).c_str()) : nullptr;
        if (then && git_oid_equal(git_tree_entry_id(then), &location.tree)) {
          flow.version = n->number;
          flow.commit = current;
        }
      }
    }
    if (wanted.empty() || git_commit_parentcount(c.get()) == 0) break;
    current = *git_commit_parent_id(c.get(), 0);
  }
}

// Pass one for one flow, on any thread (no libgit2 call): strip, validate
// what would be written, and gather facts and hashes.
struct FlowWork {
  std::string id;
  FlowLocation location;
  bool dependency = false;  ///< added because a selected flow uses it
  FlowBlobs blobs;
  Flow raw;  ///< input; released once processed
  bool ok = false;
  std::vector<Problem> problems;
  const FlowFormat* format = nullptr;
  FlowFacts facts;
  // What is kept of the flow (see BuiltFlow): its manifest entry and
  // requirement items as text, and its files.
  std::string entry, credentials, env_variables;
  std::vector<BuiltFile> files;
};

// The manifest is large (about 2 KB a flow), so its text is not kept: it is
// deflated as it is made, in pieces of 1 MiB compressed on all cores
// (pigz-style), and waits in the spool. The pieces are cut at fixed offsets
// of the text, so the bytes depend on the text alone: not on the number of
// cores, nor on the chunks the manifest writer hands over.
class ManifestDigester {
 public:
  ManifestDigester(BuiltPackage& built, RetainText retain) : built_(built), retain_(retain) {}

  void Add(std::string_view chunk, bool last) {
    constexpr std::size_t kPiece = 1u << 20;
    constexpr std::size_t kPiecesAtOnce = 4;
    built_.manifest_size += chunk.size();
    if (retain_ == RetainText::kNone) return;  // no package is written
    if (retain_ == RetainText::kAll) {
      built_.manifest_text += chunk;
      built_.manifest_crc32 = zip::Crc32(chunk, built_.manifest_crc32);
      return;
    }
    pending_ += chunk;
    if (!last && pending_.size() < kPiecesAtOnce * kPiece) return;
    const std::size_t pieces =
        last ? std::max<std::size_t>(1, (pending_.size() + kPiece - 1) / kPiece) : pending_.size() / kPiece;
    const std::string_view text = std::string_view(pending_).substr(0, std::min(pending_.size(), pieces * kPiece));
    std::vector<std::string> deflated(pieces);
    ParallelFor(
        pieces + 1,
        [&](std::size_t i, std::size_t) {
          if (i == pieces) {
            built_.manifest_crc32 = zip::Crc32(text, built_.manifest_crc32);
          } else {
            deflated[i] = zip::DeflatePiece(text.substr(i * kPiece, kPiece), last && i + 1 == pieces);
          }
        },
        1);
    for (const auto& piece : deflated) {
      Spool::Span span = built_.spool.Append(piece);
      if (built_.manifest_deflated.size == 0) built_.manifest_deflated.offset = span.offset;
      built_.manifest_deflated.size += span.size;
    }
    pending_.erase(0, text.size());
  }

 private:
  BuiltPackage& built_;
  RetainText retain_;
  std::string pending_;  ///< text not yet deflated
};

void ProcessFlow(FlowWork& w, const ValidationContext& context, const StripOptions& strip, RetainText retain) {
  const std::string base = w.location.path + "/";
  Flow& raw = w.raw;
  Flow stripped;
  stripped.summary = raw.summary;
  // Strip; a document that does not parse is reported by validation.
  Json app_json;
  ParsedFlow parsed;  // the stripped documents, as they will be written
  bool stripped_all = false;
  try {
    app_json = ParseJson(raw.app_definition, base + std::string(kAppDefinitionFile));
    w.format = FindFormat(StringOr(app_json, "format", std::string(kNativeFormat)));
    if (w.format && !raw.flow_definition.empty()) {
      parsed.app = StripApp(app_json);
      stripped.app_definition = CanonicalJson(parsed.app);
      parsed.definition = Strip(ParseJson(raw.flow_definition, base + std::string(kFlowDefinitionFile)),
                                DocKind::kDefinition, w.format, strip);
      stripped.flow_definition = CanonicalJson(parsed.definition);
      parsed.env = Json{{"variables", Json::array()}};
      if (!raw.env_variables.empty()) {
        parsed.env =
            Strip(ParseJson(raw.env_variables, base + std::string(kEnvVariablesFile)), DocKind::kEnv, w.format, strip);
        stripped.env_variables = CanonicalJson(parsed.env);
      }
      stripped_all = true;
    }
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidData) throw;
  }
  stripped.summary.name = StringOr(app_json, "name", w.id);
  stripped.summary.format = StringOr(app_json, "format", std::string(kNativeFormat));
  // What would be written is what is validated and scanned for secrets:
  // the stripped documents, not parsed a second time from their text.
  if (stripped_all) {
    parsed.summary = stripped.summary;
    w.problems = ValidateParsedFlow(parsed, context);
  } else {
    w.problems = ValidateFlow(raw, context);
    if (w.problems.empty()) {
      w.problems.push_back({base + std::string(kAppDefinitionFile), "", "json", "cannot be read"});
    }
  }
  raw = Flow{};
  if (!w.problems.empty()) return;

  w.facts = w.format->Facts(parsed.definition);
  ResolveReferences(app_json, w.facts);  // foreign formats map their own ids

  PackageFlowInfo info;
  info.id = w.id;
  info.name = stripped.summary.name;
  info.group = w.location.group;
  info.format = stripped.summary.format;
  info.path = w.location.path;
  info.dependency = w.dependency;
  info.requirements.components.assign(w.facts.components.begin(), w.facts.components.end());
  info.requirements.topics.assign(w.facts.topics.begin(), w.facts.topics.end());
  Json credentials = Json::array(), env_variables = Json::array();
  for (const auto& c : w.facts.credentials) {
    info.requirements.credentials.push_back({"", c.node, c.type});
    credentials.push_back({{"flow", w.id}, {"node", c.node}, {"type", c.type}});
  }
  if (parsed.env.is_object()) {
    for (const auto& var : parsed.env.value("variables", Json::array())) {
      EnvRequirement e{"", StringOr(var, "name"), IsTrue(var, "secret")};
      env_variables.push_back({{"flow", w.id}, {"name", e.name}, {"secret", e.secret}});
      info.requirements.env_variables.push_back(std::move(e));
    }
  }
  for (const auto& ref : w.facts.subflows) {
    if (!ref.flow.empty()) info.dependencies.push_back({ref.flow, ref.node, false});
  }
  auto add_file = [&](DocKind kind, std::string text, const std::optional<git_oid>& blob) {
    BuiltFile file;
    file.kind = kind;
    file.size = text.size();
    file.crc32 = zip::Crc32(text);
    file.blob = *blob;
    info.files.push_back({std::string(FileNameOf(kind)), Sha256Hex(text), file.size});
    if (retain == RetainText::kAll) file.kept = std::move(text);
    if (retain == RetainText::kDeflatedInSpool) file.kept = zip::Deflate(text);
    w.files.push_back(std::move(file));
  };
  add_file(DocKind::kApp, std::move(stripped.app_definition), w.blobs.app);
  if (!stripped.env_variables.empty()) add_file(DocKind::kEnv, std::move(stripped.env_variables), w.blobs.env);
  add_file(DocKind::kDefinition, std::move(stripped.flow_definition), w.blobs.definition);
  w.entry = FlowToJson(info).dump();
  w.credentials = credentials.dump();
  w.env_variables = env_variables.dump();
  w.ok = true;
}

// Reads the flow's three documents (each thread through its own
// repository handle: libgit2 objects are not shared between threads).
void ReadFlow(const Store& store, FlowWork& w) {
  w.blobs = BlobsOf(store, w.location);
  w.raw.summary.id = w.id;
  w.raw.summary.group = w.location.group;
  if (w.blobs.definition) w.raw.flow_definition = store.ReadBlob(*w.blobs.definition);
  if (w.blobs.app) w.raw.app_definition = store.ReadBlob(*w.blobs.app);
  if (w.blobs.env) w.raw.env_variables = store.ReadBlob(*w.blobs.env);
}

}  // namespace

const char* DependencyPolicyName(DependencyPolicy policy) {
  switch (policy) {
    case DependencyPolicy::kInclude: return "include";
    case DependencyPolicy::kReference: return "reference";
    case DependencyPolicy::kFail: return "fail";
  }
  return "include";
}

DependencyPolicy ParseDependencyPolicy(std::string_view name) {
  if (name == "include") return DependencyPolicy::kInclude;
  if (name == "reference") return DependencyPolicy::kReference;
  if (name == "fail") return DependencyPolicy::kFail;
  throw Error(ErrorCode::kInvalidArgument,
              "invalid dependency policy '" + std::string(name) + "' (use include, reference or fail)");
}

Json StripApp(Json app) {
  if (app.is_object()) {
    for (const char* key : {"endpoint", "sharing", "audit"}) app.erase(key);
  }
  return app;
}

Json StripEnv(Json env) {
  if (!env.is_object() || !env.contains("variables") || !env["variables"].is_array()) return env;
  for (auto& var : env["variables"]) {
    // A reference names where a secret is kept: it makes the variable a
    // secret, whatever its flag says, and never leaves the workspace.
    if (var.is_object() && var.contains("ref")) var["secret"] = true;
    if (IsTrue(var, "secret")) {
      var.erase("value");
      var.erase("ref");
    }
  }
  return env;
}

std::string_view FileNameOf(DocKind kind) {
  switch (kind) {
    case DocKind::kApp: return kAppDefinitionFile;
    case DocKind::kEnv: return kEnvVariablesFile;
    case DocKind::kDefinition: return kFlowDefinitionFile;
  }
  return kFlowDefinitionFile;
}

std::string_view BuiltFlow::id() const { return std::string_view(path).substr(path.rfind('/') + 1); }

std::string_view BuiltFlow::group() const {
  const std::size_t start = kFlowsDir.size() + 1, end = path.rfind('/');
  return end <= start ? std::string_view() : std::string_view(path).substr(start, end - start);
}

Json BuiltPackage::EntryJson(const BuiltFlow& flow) const {
  Json entry = Json::parse(spool.Read(flow.entry));
  entry["version"] = flow.version ? Json(*flow.version) : Json();
  entry["commit"] = git::OidHex(flow.commit);
  for (auto& dependency : entry["dependencies"]) {
    dependency["included"] = in_package.count(dependency["flow"].get<std::string>()) > 0;
  }
  return entry;
}

std::string BuiltPackage::Text(const Store& store, const BuiltFlow& flow, const BuiltFile& file) const {
  if (retain == RetainText::kAll) return file.kept;
  const std::string name = flow.path + "/" + std::string(FileNameOf(file.kind));
  std::string text = StripDocument(store.ReadBlob(file.blob), name, file.kind, flow.format, strip);
  if (text.size() != file.size || zip::Crc32(text) != file.crc32) {
    throw Error(ErrorCode::kInternal, "'" + name + "' changed while being exported");
  }
  return text;
}

std::string SafeFileName(std::string_view name) {
  std::string out;
  bool utf8 = IsValidUtf8(name);
  for (unsigned char c : name) {
    bool bad = c < 0x20 || c == 0x7f || std::strchr("/\\:*?\"<>|", c) != nullptr || (c >= 0x80 && !utf8);
    out += bad ? '_' : static_cast<char>(c);
  }
  auto trim = [](char c) { return c == ' ' || c == '.'; };
  while (!out.empty() && trim(out.back())) out.pop_back();
  std::size_t lead = 0;
  while (lead < out.size() && trim(out[lead])) ++lead;
  out.erase(0, lead);
  if (out.size() > 100) {
    std::size_t cut = 100;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    while (!out.empty() && trim(out.back())) out.pop_back();
  }
  if (out.empty()) return "flow";
  std::string base = FoldCase(out.substr(0, out.find('.')));
  static const std::set<std::string> kDevices = {"con", "prn", "aux", "nul"};
  if (kDevices.count(base) || (base.size() == 4 && (base.rfind("com", 0) == 0 || base.rfind("lpt", 0) == 0) &&
                               base[3] >= '0' && base[3] <= '9')) {
    out = "_" + out;
  }
  return out;
}

BuiltPackage BuildPackage(FlowRepository::Impl& impl, const ExportRequest& request, RetainText retain,
                          const std::string& spool_directory) {
  const std::string& ws = request.workspace;
  impl.RequireRole(ws, WorkspaceSettings::AtCommit(impl.store, impl.WorkspaceHead(ws)).ExportRole(),
                   "to export, as the workspace's export_role says");
  Store& store = impl.store;
  const bool single = request.version.has_value();
  DependencyPolicy policy =
      request.dependencies.value_or(single ? DependencyPolicy::kReference : DependencyPolicy::kInclude);

  // 1. The commit, fixed for the whole export.
  git_oid commit;
  std::string where = "workspace '" + ws + "'";
  std::optional<int> version_number;
  if (single) {
    if (request.selection.size() != 1 || request.all || !request.exclude.empty() || !request.at.empty()) {
      throw Error(ErrorCode::kInvalidArgument,
                  "a single-version export takes exactly one flow and no --all, --exclude or --at");
    }
    const std::string& flow = request.selection[0];
    RequireId(flow, "flow id");
    int n = *request.version;
    if (n < 0) throw Error(ErrorCode::kInvalidArgument, "invalid version " + std::to_string(n));
    if (n == 0) {
      // The latest version: the highest backed tag (unbacked ones are no versions).
      for (const VersionTag& tag : impl.VersionTagsOf(ws, flow)) {
        if (tag.backed) n = tag.number;
      }
      if (n == 0) {
        throw Error(ErrorCode::kNotFound, "flow '" + flow + "' has no published version in workspace '" + ws + "'");
      }
    }
    commit = impl.VersionCommit(ws, flow, n);
    version_number = n;
    where = "version v" + std::to_string(n);
  } else if (!request.at.empty()) {
    commit = impl.ResolveRevision(ws, "", request.at);
    where = "'" + request.at + "'";
  } else {
    commit = impl.WorkspaceHead(ws);
  }
  const std::map<std::string, FlowLocation>& flows = impl.FlowsAt(commit);

  // 2. The selection. An item naming a flow or group is taken whole (group
  // names may hold commas); any other is read as a list "A,B".
  auto resolve_whole = [&](const std::string& item, std::set<std::string>& into) {
    bool force_group = !item.empty() && item.back() == '/';
    std::string group = force_group ? item.substr(0, item.size() - 1) : item;
    if (!force_group && flows.count(item)) {
      into.insert(item);
      return true;
    }
    bool any = false;
    if (!group.empty() && IsValidGroup(group)) {
      for (const auto& [id, loc] : flows) {
        if (loc.group == group || loc.group.rfind(group + "/", 0) == 0) {
          into.insert(id);
          any = true;
        }
      }
    }
    return any;
  };
  struct Unknown {
    std::string name;
    std::string list;  ///< the "A,B" it came from, if any
  };
  auto resolve = [&](const std::string& item, std::set<std::string>& into, std::vector<Unknown>& unknown) {
    if (resolve_whole(item, into)) return;
    if (item.find(',') == std::string::npos) {
      unknown.push_back({item, ""});
      return;
    }
    for (std::size_t start = 0, end = 0; start <= item.size(); start = end + 1) {
      end = std::min(item.find(',', start), item.size());
      std::string part = item.substr(start, end - start);
      if (!part.empty() && !resolve_whole(part, into)) unknown.push_back({part, item});
    }
  };
  std::set<std::string> selected, excluded;
  std::vector<Unknown> unknown;
  if (request.all) {
    for (const auto& [id, loc] : flows) selected.insert(id);
  }
  for (const auto& item : request.selection) resolve(item, selected, unknown);
  for (const auto& item : request.exclude) resolve(item, excluded, unknown);
  if (!unknown.empty()) {
    std::vector<std::string> details;
    std::vector<std::string> names = GroupsOf(flows);
    for (const auto& [id, loc] : flows) names.push_back(id);
    for (const auto& u : unknown) {
      std::string hint = ClosestName(u.name, names);
      details.push_back("no flow or group '" + u.name + "' in " + where +
                        (u.list.empty() ? "" : " (read '" + u.list + "' as a list; give a group with a comma whole)") +
                        (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
    throw Error(
        ErrorCode::kNotFound,
        unknown.size() == 1 ? details[0] : std::to_string(unknown.size()) + " flows or groups not found in " + where,
        unknown.size() == 1 ? std::vector<std::string>{} : details);
  }
  for (const auto& id : excluded) selected.erase(id);
  if (selected.empty()) {
    throw Error(ErrorCode::kInvalidArgument, request.selection.empty() && !request.all
                                                 ? "nothing to export: name flows or groups, or pass --all"
                                                 : "nothing to export: the selection is empty in " + where);
  }

  // 3. Pass one.
  ValidationContext context{[&flows](const std::string& id) { return flows.count(id) > 0; },
                            Availability(WorkspaceSettings::AtCommit(store, commit)), CredentialPolicy::kAllowUnbound};
  BuiltPackage built(retain, spool_directory);
  built.strip.keep_sample_data = request.sample_data == ExportRequest::SampleData::kKeep;
  const StripOptions& strip = built.strip;

  built.flows.reserve(selected.size());  // dependencies may add a few
  std::deque<std::string> queue(selected.begin(), selected.end());
  std::set<std::string>& in_package = built.in_package;
  in_package = std::move(selected);
  std::set<std::string> included, referenced;
  std::set<std::string> components, topics;  // unions over the flows
  std::vector<Problem> problems;
  std::set<std::string> invalid;
  std::size_t step = 0;

  // Flows are read and processed on all cores, in batches so that memory
  // does not grow with the selection; the results are merged in order here.
  const std::size_t workers = ParallelWorkers(in_package.size(), kMinPerThread);
  std::vector<Store> stores;  // one repository handle per extra worker
  for (std::size_t t = 1; t < workers; ++t) stores.push_back(Store::Open(store.git_dir()));
  while (!queue.empty()) {
    ThrowIfCancelled();
    std::vector<FlowWork> batch;
    while (!queue.empty() && batch.size() < kBatchSize) {
      FlowWork w;
      w.id = queue.front();
      queue.pop_front();
      w.location = flows.at(w.id);
      w.dependency = included.count(w.id) > 0;
      batch.push_back(std::move(w));
    }
    ParallelFor(
        batch.size(),
        [&](std::size_t i, std::size_t worker) {
          ReadFlow(worker == 0 ? store : stores[worker - 1], batch[i]);
          ProcessFlow(batch[i], context, strip, retain);
        },
        kMinPerThread, workers);

    for (FlowWork& w : batch) {
      const std::string& id = w.id;
      const std::string base = w.location.path + "/";
      problems.insert(problems.end(), w.problems.begin(), w.problems.end());
      if (!w.ok) {
        invalid.insert(id);
        continue;
      }
      for (const auto& ref : w.facts.subflows) {
        if (ref.flow.empty() || in_package.count(ref.flow)) continue;
        switch (policy) {
          case DependencyPolicy::kInclude:
            if (!flows.count(ref.flow)) break;  // reported by validation
            if (excluded.count(ref.flow)) {
              referenced.insert(ref.flow);
            } else {
              in_package.insert(ref.flow);
              included.insert(ref.flow);
              queue.push_back(ref.flow);
            }
            break;
          case DependencyPolicy::kReference: referenced.insert(ref.flow); break;
          case DependencyPolicy::kFail:
            problems.push_back({base + std::string(kFlowDefinitionFile), ref.pointer, "export/unselected-dependency",
                                "node '" + ref.node + "' uses flow '" + ref.flow +
                                    "', which is not selected; select it or use --deps include or reference"});
            invalid.insert(id);
            break;
        }
      }
      if (!problems.empty()) continue;  // nothing is written: keep nothing
      components.insert(w.facts.components.begin(), w.facts.components.end());
      topics.insert(w.facts.topics.begin(), w.facts.topics.end());

      BuiltFlow flow;
      flow.path = w.location.path;
      flow.format = w.format;
      flow.entry = built.spool.Append(w.entry);
      flow.credentials = built.spool.Append(w.credentials);
      flow.env_variables = built.spool.Append(w.env_variables);
      flow.files.reserve(w.files.size());
      for (auto& file : w.files) {
        if (retain == RetainText::kDeflatedInSpool) {
          file.deflated = built.spool.Append(file.kept);
          std::string().swap(file.kept);  // assigning an empty string keeps the buffer
        }
        flow.files.push_back(std::move(file));
      }
      built.flows.push_back(std::move(flow));
      if (request.progress) request.progress(++step, in_package.size());
    }
  }
  {
    // A package whose names clash is one import refuses (manifest.cc):
    // a repository that holds such names from before this rule does not
    // export them together.
    std::vector<FlowPlace> places;
    for (const auto& id : in_package) places.push_back({flows.at(id).group, id});
    for (const auto& clash : FindNameClashes({}, places)) {
      problems.push_back(NameClashProblem(clash));
    }
  }
  if (!problems.empty()) {
    const std::string message = "export refused: " + std::to_string(problems.size()) + " problem(s) in " +
                                std::to_string(std::max<std::size_t>(invalid.size(), 1)) +
                                " flow(s); nothing was written";
    throw Error::Listing(ErrorCode::kInvalidData, message, std::move(problems));
  }

  // 4. Versions.
  AssignPublishedVersions(store, ws, commit, flows, built.flows);
  ReturnFreedMemory();  // the manifest, next, is where an export peaks
  // 5. The manifest; flows sorted by path.
  std::sort(built.flows.begin(), built.flows.end(),
            [](const BuiltFlow& a, const BuiltFlow& b) { return a.path < b.path; });
  PackageManifest& m = built.manifest;
  m.schema = std::string(kPackageSchema);
  m.tool_version = FLOWREPO_VERSION;
  m.workspace = ws;
  m.commit = git::OidHex(commit);
  m.selection = request.selection;
  m.exclude = request.exclude;
  m.all = request.all;
  m.dependency_policy = DependencyPolicyName(policy);
  m.version = version_number;
  m.required_flows.assign(referenced.begin(), referenced.end());
  m.requirements.components.assign(components.begin(), components.end());
  m.requirements.topics.assign(topics.begin(), topics.end());
  std::vector<FlowInGroup> in_groups;
  std::set<std::string_view> groups;  // each group and its parents
  for (const BuiltFlow& flow : built.flows) {
    const std::string_view group = flow.group();
    in_groups.push_back({flow.id(), group});
    if (group.empty()) continue;
    for (std::size_t pos = 0;; ++pos) {
      pos = group.find('/', pos);
      groups.insert(group.substr(0, pos));
      if (pos == std::string_view::npos) break;
    }
  }
  m.groups.assign(groups.begin(), groups.end());

  std::vector<Problem> manifest_problems;
  std::mutex manifest_lock;
  auto read_array = [&built](Spool::Span span) {
    Json items = Json::parse(built.spool.Read(span));
    return std::vector<Json>(std::make_move_iterator(items.begin()), std::make_move_iterator(items.end()));
  };
  ManifestSource source{m,
                        GroupTree(in_groups),
                        built.flows.size(),
                        [&](std::size_t i) { return built.EntryJson(built.flows[i]); },
                        [&](std::size_t i) { return read_array(built.flows[i].credentials); },
                        [&](std::size_t i) { return read_array(built.flows[i].env_variables); }};
  std::vector<FlowInGroup>().swap(in_groups);
  auto scan = [&](const Json& part, const std::string& at) {
    std::vector<Problem> found;
    ScanSecrets(part, std::string(kManifestName), found);
    std::lock_guard<std::mutex> lock(manifest_lock);
    for (auto& p : found) {
      p.pointer = at + p.pointer;
      manifest_problems.push_back(std::move(p));
    }
  };
  ManifestDigester digester(built, retain);
  WriteManifestText(std::move(source), scan, [&](std::string_view chunk, bool last) { digester.Add(chunk, last); });
  if (!manifest_problems.empty()) {
    std::sort(manifest_problems.begin(), manifest_problems.end(),
              [](const Problem& a, const Problem& b) { return a.pointer < b.pointer; });
    const std::string message = "export refused: " + std::to_string(manifest_problems.size()) +
                                " problem(s) in manifest.json; nothing was written";
    throw Error::Listing(ErrorCode::kInvalidData, message, std::move(manifest_problems));
  }
  built.included.assign(included.begin(), included.end());
  built.referenced.assign(referenced.begin(), referenced.end());
  return built;
}

// ---- writing the file -------------------------------------------------------

namespace {

void Fsync(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw Error(ErrorCode::kIo, "cannot open '" + path + "': " + std::strerror(errno));
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0 && !(flags & O_DIRECTORY)) {
    throw Error(ErrorCode::kIo, "cannot write '" + path + "': " + std::strerror(saved));
  }
}

// Moves \a from to \a to unless \a to exists; false when it does.
bool RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EEXIST) return false;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
    throw Error(ErrorCode::kIo, "cannot write '" + to + "': " + std::strerror(errno));
  }
  // File systems without RENAME_NOREPLACE: a hard link does not replace.
  if (::link(from.c_str(), to.c_str()) == 0) {
    ::unlink(from.c_str());
    return true;
  }
  if (errno == EEXIST) return false;
  throw Error(ErrorCode::kIo, "cannot write '" + to + "': " + std::strerror(errno));
}

// The package being written: a file without a name in the target folder
// (O_TMPFILE) that gets its name only once complete, so a process killed at
// any moment leaves nothing behind. Where the file system cannot make one
// (or /proc, which linking it needs, is missing), a named temporary file,
// removed unless it got its final name; the next export into the folder
// removes such files a killed export left.
class PendingFile {
 public:
  explicit PendingFile(const fs::path& dir) : dir_(dir) {
    fd_ = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (fd_ >= 0 && ::access(ProcPath().c_str(), F_OK) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (fd_ >= 0) return;
    static std::atomic<unsigned> counter{0};
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    temp_ = (dir / (std::string(kTempPrefix) + HostName() + "-" + std::to_string(getpid()) + "-" +
                    std::to_string(counter++) + "-" + std::to_string(now % 1000000) + ".tmp"))
                .string();
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(ErrorCode::kIo, "cannot create '" + temp_ + "': " + std::strerror(errno));
  }
  ~PendingFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!temp_.empty()) ::unlink(temp_.c_str());
  }
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;

  int fd() const { return fd_; }
  std::string label() const { return temp_.empty() ? (dir_ / "(new package)").string() : temp_; }

  void Sync() {
    if (::fsync(fd_) != 0) throw Error(ErrorCode::kIo, "cannot write '" + label() + "': " + std::strerror(errno));
  }

  /// Gives the file the name \a target unless it exists; false when it does.
  bool LinkNoReplace(const std::string& target) {
    if (temp_.empty()) {
      if (::linkat(AT_FDCWD, ProcPath().c_str(), AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW) == 0) return true;
      if (errno == EEXIST) return false;
      throw Error(ErrorCode::kIo, "cannot write '" + target + "': " + std::strerror(errno));
    }
    if (!RenameNoReplace(temp_, target)) return false;
    temp_.clear();
    return true;
  }

  /// Gives the file the name \a target, replacing what is there. An
  /// anonymous file gets a temporary name first (rename replaces, link
  /// does not): only a crash between the two calls leaves that name, for
  /// the next export to remove.
  void Replace(const std::string& target) {
    if (temp_.empty()) {
      PendingFile named(dir_, Named{});
      if (::linkat(AT_FDCWD, ProcPath().c_str(), AT_FDCWD, named.temp_.c_str(), AT_SYMLINK_FOLLOW) != 0) {
        throw Error(ErrorCode::kIo, "cannot write '" + target + "': " + std::strerror(errno));
      }
      named.Rename(target);
      return;
    }
    Rename(target);
  }

  /// Removes what exports killed before naming their file left in \a dir:
  /// temporary files of this host whose process no longer runs.
  static void RemoveLeftovers(const fs::path& dir) {
    const std::string mine = std::string(kTempPrefix) + HostName() + "-";
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.rfind(mine, 0) != 0 || name.size() < 4 || name.compare(name.size() - 4, 4, ".tmp") != 0) continue;
      const long pid = std::strtol(name.c_str() + mine.size(), nullptr, 10);
      if (pid <= 0 || pid == getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
      std::error_code remove_error;
      fs::remove(it->path(), remove_error);
    }
  }

 private:
  static constexpr std::string_view kTempPrefix = ".flowrepo-export-";
  struct Named {};
  // A name for linking the anonymous file to, not opened.
  PendingFile(const fs::path& dir, Named) : dir_(dir) {
    static std::atomic<unsigned> counter{0};
    temp_ = (dir / (std::string(kTempPrefix) + HostName() + "-" + std::to_string(getpid()) + "-l" +
                    std::to_string(counter++) + ".tmp"))
                .string();
  }
  void Rename(const std::string& target) {
    if (::rename(temp_.c_str(), target.c_str()) != 0) {
      throw Error(ErrorCode::kIo, "cannot write '" + target + "': " + std::strerror(errno));
    }
    temp_.clear();
  }
  std::string ProcPath() const { return "/proc/self/fd/" + std::to_string(fd_); }
  // This host's name, so that folders shared between hosts are cleaned by
  // each host of its own files only; '-' and '/' never appear in it.
  static std::string HostName() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || !name[0]) return "host";
    std::string out = name;
    std::replace(out.begin(), out.end(), '-', '_');
    std::replace(out.begin(), out.end(), '/', '_');
    return out;
  }

  fs::path dir_;
  int fd_ = -1;
  std::string temp_;  ///< the fallback's or the link's name; empty once named
};

}  // namespace

namespace {

bool Exists(const fs::path& p) {
  std::error_code e;
  return fs::symlink_status(p, e).type() != fs::file_type::not_found;
}

// The folder the package goes to, checked before any work: it exists, and
// a named -o file is not there unless --force.
fs::path OutputFolder(const ExportRequest& request) {
  const bool automatic = request.output.empty();
  fs::path dir = automatic ? fs::path(request.directory.empty() ? "." : request.directory)
                           : fs::path(request.output).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(ErrorCode::kNotFound, "folder '" + dir.string() + "' not found");
  }
  if (!automatic && request.overwrite == ExportRequest::Overwrite::kNo && Exists(request.output)) {
    throw Error(ErrorCode::kAlreadyExists, "'" + request.output + "' already exists; pass --force to overwrite it");
  }
  return dir;
}

// "<Flow Name>.zip" in \a dir for a single-version export without -o.
fs::path SingleVersionFile(const BuiltPackage& built, const ExportRequest& request, const fs::path& dir) {
  std::string name = request.selection.at(0);
  for (const auto& flow : built.flows) {
    if (flow.id() == request.selection[0]) name = built.Info(flow).name;
  }
  fs::path target = dir / (SafeFileName(name) + ".zip");
  if (request.overwrite == ExportRequest::Overwrite::kNo && Exists(target)) {
    throw Error(ErrorCode::kAlreadyExists,
                "'" + target.lexically_normal().string() + "' already exists; pass -o FILE or --force");
  }
  return target;
}

// Writes the manifest and every flow's files, deflated in pass one and
// waiting in the spool, into \a pending. Counts the bytes and their SHA-256
// into \a result.
void WriteEntries(BuiltPackage& built, const ExportRequest& request, PendingFile& pending, const fs::path& dir,
                  ExportResult& result) {
  Digest package_sha = Digest::Sha256();
  {
    zip::Writer writer(pending.fd(), pending.label(), dir.string(), [&](std::string_view bytes) {
      package_sha.Update(bytes);
      result.bytes += bytes.size();
    });
    std::size_t total = 1, written = 0;
    for (const BuiltFlow& flow : built.flows) total += flow.files.size();
    auto progress = [&]() {
      if (request.progress) request.progress(++written, total);
    };
    writer.Add(kManifestName, built.manifest_size, built.manifest_crc32, built.spool, built.manifest_deflated);
    progress();
    for (BuiltFlow& flow : built.flows) {
      ThrowIfCancelled();
      for (const BuiltFile& file : flow.files) {
        writer.Add(flow.path + "/" + std::string(FileNameOf(file.kind)), file.size, file.crc32, built.spool,
                   file.deflated);
        progress();
      }
      std::vector<BuiltFile>().swap(flow.files);  // written: the memory goes to the result
    }
    writer.Finish();
  }
  result.sha256 = package_sha.HexFinish();
}

// Gives the written package its name: \a target, or the first free
// "export.studiopkg", "export 1.studiopkg", ... in \a dir when automatic.
fs::path NameFile(PendingFile& pending, const ExportRequest& request, const fs::path& dir, fs::path target) {
  if (request.output.empty() && !request.version) {
    for (int n = 0;; ++n) {
      target = dir / (n == 0 ? std::string("export.studiopkg") : "export " + std::to_string(n) + ".studiopkg");
      if (pending.LinkNoReplace(target.string())) break;
    }
  } else if (request.overwrite == ExportRequest::Overwrite::kYes) {
    pending.Replace(target.string());
  } else if (!pending.LinkNoReplace(target.string())) {
    throw Error(ErrorCode::kAlreadyExists, "'" + target.string() + "' already exists; pass --force to overwrite it");
  }
  Fsync(dir.string(), O_RDONLY | O_DIRECTORY);
  return target;
}

// The first ExportRequest::listed_flows flows of \a built, without their
// files and requirements: those are in the package's manifest, and
// repeating them here would hold every flow's entry in memory at once.
void ListFlows(BuiltPackage& built, const ExportRequest& request, ExportResult& result) {
  result.flow_count = built.flows.size();
  result.flows.resize(std::min(request.listed_flows, built.flows.size()));
  ParallelFor(result.flows.size(), [&](std::size_t i, std::size_t) {
    Json entry = built.EntryJson(built.flows[i]);
    entry.erase("files");
    entry.erase("requirements");
    result.flows[i] = FlowFromJson(entry);
    std::string().swap(built.flows[i].path);  // its memory goes to the result
  });
}

}  // namespace

ExportResult ExportPackage(FlowRepository& repo, const ExportRequest& request) {
  const fs::path dir = OutputFolder(request);  // a mistake costs no work
  BuiltPackage built = BuildPackage(ImplOf(repo), request, RetainText::kDeflatedInSpool, dir.string());
  ReturnFreedMemory();
  fs::path target = request.output;
  if (request.output.empty() && request.version) target = SingleVersionFile(built, request, dir);

  PendingFile::RemoveLeftovers(dir);
  PendingFile pending(dir);
  ExportResult result;
  WriteEntries(built, request, pending, dir, result);
  pending.Sync();
  result.path = NameFile(pending, request, dir, target).lexically_normal().string();
  result.workspace = built.manifest.workspace;
  result.commit = built.manifest.commit;
  ListFlows(built, request, result);
  result.included_dependencies = std::move(built.included);
  result.referenced_dependencies = std::move(built.referenced);
  return result;
}

}  // namespace flowrepo
