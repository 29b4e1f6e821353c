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
// 5. The manifest, then pass two: the zip is written to a temporary file in
//    the target folder, entries streamed one at a time (kept text, or made
//    again from the blob when the memory budget was exceeded), and the file
//    is renamed into place without replacing anything unless asked to.

#include "package/export.h"

#include <fcntl.h>
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
#include <fstream>
#include <mutex>
#include <thread>
#include <set>
#include <sstream>

#include "flow/format.h"
#include "flowrepo/cancel.h"
#include "flowrepo/error.h"
#include "package/manifest.h"
#include "package/sha256.h"
#include "parallel.h"
#include "validate/flow_validator.h"
#include "validate/secrets.h"
#include "zip/zip.h"

namespace flowrepo {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kRetainBudget = 64u << 20;  // deflated bytes kept between the passes
constexpr std::size_t kBatchSize = 512;     // flows read, then processed in parallel
constexpr std::size_t kMinPerThread = 16;   // smaller batches stay on one thread
constexpr std::string_view kVersionTrailer = "Flowrepo-Version: ";
constexpr std::string_view kWorkspaceTrailer = "Flowrepo-Workspace: ";

enum class DocKind { kDefinition, kApp, kEnv };

Json Strip(Json doc, DocKind kind, const FlowFormat* format, const StripOptions& strip) {
  switch (kind) {
    case DocKind::kDefinition: return format->StripForExport(std::move(doc), strip);
    case DocKind::kApp: return StripApp(std::move(doc));
    case DocKind::kEnv: return StripEnv(std::move(doc));
  }
  return doc;
}

// Parses a stored document and strips it as export does.
std::string StripDocument(const std::string& text, const std::string& file, DocKind kind,
                          const FlowFormat* format, const StripOptions& strip) {
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

std::optional<git_oid> FlowsTreeOf(const Store& store, const git_oid& commit) {
  git::TreePtr tree = store.CommitTree(commit);
  auto entry = store.EntryAt(tree.get(), std::string(kFlowsDir));
  if (!entry || entry->mode != GIT_FILEMODE_TREE) return std::nullopt;
  return entry->id;
}

// For each wanted flow, the latest version published to \a ws in the
// first-parent history of \a commit whose content the flow still has at
// \a commit, with its publish commit. One walk: at each commit its publish
// trailers are read, then the flows it changed (compared with its first
// parent, at a cost that follows the change) are marked; a flow marked
// before its latest publish is reached has unpublished content.
std::map<std::string, std::pair<int, git_oid>> PublishedVersions(const Store& store,
                                                                 std::string_view ws,
                                                                 const git_oid& commit,
                                                                 std::set<std::string> wanted) {
  std::map<std::string, std::pair<int, git_oid>> found;
  std::set<std::string> changed;
  const std::string ws_line = std::string(kWorkspaceTrailer) + std::string(ws);
  git_oid current = commit;
  std::optional<git_oid> current_flows = FlowsTreeOf(store, current);
  while (!wanted.empty()) {
    git::CommitPtr c = store.LookupCommit(current);
    std::string_view message = git_commit_message(c.get());
    bool ours = false;
    std::vector<std::pair<std::string, int>> versions;
    std::size_t start = 0;
    while (start < message.size()) {
      std::size_t end = message.find('\n', start);
      if (end == std::string_view::npos) end = message.size();
      std::string_view line = message.substr(start, end - start);
      start = end + 1;
      if (line == ws_line) ours = true;
      if (line.rfind(kVersionTrailer, 0) != 0) continue;
      std::string_view rest = line.substr(kVersionTrailer.size());
      auto space = rest.find(" v");
      if (space == std::string_view::npos) continue;
      if (auto n = VersionFromTag(rest.substr(space + 1), "v")) {
        versions.emplace_back(std::string(rest.substr(0, space)), *n);
      }
    }
    if (ours) {
      for (const auto& [flow, n] : versions) {
        if (wanted.erase(flow) && !changed.count(flow)) found.emplace(flow, std::make_pair(n, current));
      }
    }
    if (wanted.empty() || git_commit_parentcount(c.get()) == 0) break;
    git_oid parent = *git_commit_parent_id(c.get(), 0);
    std::optional<git_oid> parent_flows = FlowsTreeOf(store, parent);
    for (const auto& [id, change] : DiffFlowTrees(store, parent_flows, current_flows)) {
      if (wanted.count(id)) changed.insert(id);
    }
    current = parent;
    current_flows = parent_flows;
  }
  return found;
}

// One flow after pass one.
struct ExportedFlow {
  PackageFlowInfo info;
  FlowLocation location;
  FlowBlobs blobs;
  const FlowFormat* format = nullptr;
  std::vector<BuiltEntry> files;  ///< sorted by name
};

// Pass one for one flow, on any thread (no libgit2 call): strip, validate
// what would be written, and gather facts and hashes.
struct FlowWork {
  std::string id;
  FlowLocation location;
  FlowBlobs blobs;
  Flow raw;  ///< input; released once processed
  bool ok = false;
  std::vector<Problem> problems;
  const FlowFormat* format = nullptr;
  Flow stripped;
  FlowFacts facts;
  std::vector<EnvRequirement> env;
  struct Digest {
    std::string sha256;
    std::uint32_t crc32 = 0;
    std::string deflated;
  };
  Digest app, env_file, definition;  ///< of the stripped documents
};

FlowWork::Digest DigestOf(const std::string& text, RetainText retain) {
  FlowWork::Digest d;
  d.sha256 = Sha256Hex(text);
  d.crc32 = zip::Crc32(text);
  if (retain == RetainText::kWithinBudget) d.deflated = zip::Deflate(text);
  return d;
}

// The manifest is large (about 2 KB a flow), so its text is not kept: each
// chunk is hashed and deflated as it is made, in pieces of at most 1 MiB
// compressed on all cores (pigz-style; the chunks, hence the bytes, do not
// depend on the number of cores).
class ManifestDigester {
 public:
  ManifestDigester(BuiltEntry& entry, RetainText retain) : entry_(entry), retain_(retain) {}

  void Add(std::string_view chunk, bool last) {
    constexpr std::size_t kPiece = 1u << 20;
    if (chunk.empty() && !last) return;
    entry_.size += chunk.size();
    if (retain_ == RetainText::kAll) entry_.text += chunk;
    const std::size_t pieces =
        retain_ == RetainText::kAll ? 0 : std::max<std::size_t>(1, (chunk.size() + kPiece - 1) / kPiece);
    std::vector<std::string> deflated(pieces);
    ParallelFor(
        pieces + 1,
        [&](std::size_t i, std::size_t) {
          if (i == pieces) {
            sha_.Update(chunk);
            entry_.crc32 = zip::Crc32(chunk, entry_.crc32);
          } else {
            deflated[i] = zip::DeflatePiece(chunk.substr(i * kPiece, kPiece), last && i + 1 == pieces);
          }
        },
        1);
    for (const auto& piece : deflated) entry_.deflated += piece;
    if (last) entry_.sha256 = sha_.HexDigest();
  }

 private:
  BuiltEntry& entry_;
  RetainText retain_;
  Sha256 sha_;
};

void ProcessFlow(FlowWork& w, const ValidationContext& context, const StripOptions& strip,
                 RetainText retain) {
  const std::string base = w.location.path + "/";
  Flow& raw = w.raw;
  Flow& stripped = w.stripped;
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
        parsed.env = Strip(ParseJson(raw.env_variables, base + std::string(kEnvVariablesFile)), DocKind::kEnv,
                           w.format, strip);
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

  const Json& definition = parsed.definition;
  const Json& env = parsed.env;
  w.facts = w.format->Facts(definition);
  ResolveReferences(app_json, w.facts);  // foreign formats map their own ids
  if (env.is_object()) {
    for (const auto& var : env.value("variables", Json::array())) {
      w.env.push_back({"", StringOr(var, "name"), IsTrue(var, "secret")});
    }
  }
  w.app = DigestOf(stripped.app_definition, retain);
  if (!stripped.env_variables.empty()) w.env_file = DigestOf(stripped.env_variables, retain);
  w.definition = DigestOf(stripped.flow_definition, retain);
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
    if (IsTrue(var, "secret")) {
      var.erase("value");
      var.erase("ref");
    }
  }
  return env;
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
  if (kDevices.count(base) ||
      (base.size() == 4 && (base.rfind("com", 0) == 0 || base.rfind("lpt", 0) == 0) &&
       base[3] >= '0' && base[3] <= '9')) {
    out = "_" + out;
  }
  return out;
}

BuiltPackage BuildPackage(FlowRepository::Impl& impl, const ExportRequest& request,
                          RetainText retain) {
  const std::string& ws = request.workspace;
  impl.RequireRole(ws, Role::kIntegrator);
  Store& store = impl.store;
  const bool single = request.version.has_value();
  DependencyPolicy policy = request.dependencies.value_or(single ? DependencyPolicy::kReference
                                                                 : DependencyPolicy::kInclude);

  // 1. The commit, fixed for the whole export.
  git_oid commit;
  std::string where = "workspace '" + ws + "'";
  std::optional<int> version_number;
  if (single) {
    if (request.selection.size() != 1 || request.all || !request.exclude.empty() ||
        !request.at.empty()) {
      throw Error(ErrorCode::kInvalidArgument,
                  "a single-version export takes exactly one flow and no --all, --exclude or --at");
    }
    const std::string& flow = request.selection[0];
    RequireId(flow, "flow id");
    int n = *request.version;
    if (n < 0) throw Error(ErrorCode::kInvalidArgument, "invalid version " + std::to_string(n));
    if (n == 0) {
      auto tags = VersionTags(store, ws, flow);
      if (tags.empty()) {
        throw Error(ErrorCode::kNotFound,
                    "flow '" + flow + "' has no published version in workspace '" + ws + "'");
      }
      n = tags.back().first;
    }
    commit = impl.ResolveRevision(ws, flow, "v" + std::to_string(n));
    version_number = n;
    where = "version v" + std::to_string(n);
  } else if (!request.at.empty()) {
    commit = impl.ResolveRevision(ws, "", request.at);
    where = "'" + request.at + "'";
  } else {
    commit = impl.WorkspaceHead(ws);
  }
  const std::map<std::string, FlowLocation> flows = impl.FlowsAt(commit);

  // 2. The selection.
  auto resolve = [&](const std::string& item, std::set<std::string>& into,
                     std::vector<std::string>& unknown) {
    bool force_group = !item.empty() && item.back() == '/';
    std::string group = force_group ? item.substr(0, item.size() - 1) : item;
    if (!force_group && flows.count(item)) {
      into.insert(item);
      return;
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
    if (!any) unknown.push_back(item);
  };
  std::set<std::string> selected, excluded;
  std::vector<std::string> unknown;
  if (request.all) {
    for (const auto& [id, loc] : flows) selected.insert(id);
  }
  for (const auto& item : request.selection) resolve(item, selected, unknown);
  for (const auto& item : request.exclude) resolve(item, excluded, unknown);
  if (!unknown.empty()) {
    std::vector<std::string> details;
    for (const auto& u : unknown) details.push_back("no flow or group '" + u + "' in " + where);
    throw Error(ErrorCode::kNotFound,
                unknown.size() == 1 ? details[0]
                                    : std::to_string(unknown.size()) + " flows or groups not found in " + where,
                unknown.size() == 1 ? std::vector<std::string>{} : details);
  }
  for (const auto& id : excluded) selected.erase(id);
  if (selected.empty()) {
    throw Error(ErrorCode::kInvalidArgument,
                request.selection.empty() && !request.all
                    ? "nothing to export: name flows or groups, or pass --all"
                    : "nothing to export: the selection is empty in " + where);
  }

  // 3. Pass one.
  std::set<std::string> ids_at_commit;
  for (const auto& [id, loc] : flows) ids_at_commit.insert(id);
  WorkspaceSettings settings = WorkspaceSettings::AtCommit(store, commit);
  ValidationContext context{InSet(ids_at_commit), &settings, CredentialPolicy::kAllowUnbound};
  StripOptions strip;
  strip.keep_sample_data = request.sample_data == ExportRequest::SampleData::kKeep;

  std::set<std::string> in_package = selected;
  std::deque<std::string> queue(selected.begin(), selected.end());
  std::set<std::string> included, referenced;
  std::vector<std::string> problems;
  std::set<std::string> invalid;
  std::map<std::string, ExportedFlow> done;
  std::size_t retained = 0;
  std::size_t step = 0;

  // Flows are read and processed on all cores, in batches so that memory
  // does not grow with the selection; the results are merged in order here.
  const std::size_t workers = ParallelWorkers(selected.size(), kMinPerThread);
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
      for (const auto& p : w.problems) problems.push_back(p.ToString());
      if (!w.ok) {
        invalid.insert(id);
        continue;
      }
      ExportedFlow ef;
      ef.location = w.location;
      ef.blobs = w.blobs;
      ef.format = w.format;
      PackageFlowInfo& info = ef.info;
      info.id = id;
      info.name = w.stripped.summary.name;
      info.group = w.location.group;
      info.format = w.stripped.summary.format;
      info.path = w.location.path;
      info.dependency = included.count(id) > 0;
      info.requirements.components.assign(w.facts.components.begin(), w.facts.components.end());
      info.requirements.topics.assign(w.facts.topics.begin(), w.facts.topics.end());
      for (const auto& c : w.facts.credentials) info.requirements.credentials.push_back({"", c.node, c.type});
      info.requirements.env_variables = std::move(w.env);
      for (const auto& ref : w.facts.subflows) {
        if (ref.flow.empty()) continue;  // a foreign reference outside the repository
        info.dependencies.push_back({ref.flow, ref.node, false});
        if (in_package.count(ref.flow)) continue;
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
          case DependencyPolicy::kReference:
            referenced.insert(ref.flow);
            break;
          case DependencyPolicy::kFail:
            problems.push_back(base + std::string(kFlowDefinitionFile) + ": node '" + ref.node +
                               "' uses flow '" + ref.flow +
                               "', which is not selected; select it or use --deps include or reference");
            invalid.insert(id);
            break;
        }
      }

      // Files, sorted by name: app_definition, env_variables, flow_definition.
      auto add_file = [&](std::string_view file, std::string text, FlowWork::Digest digest,
                          const std::optional<git_oid>& blob, DocKind kind) {
        BuiltEntry entry;
        entry.name = base + std::string(file);
        entry.size = text.size();
        entry.sha256 = std::move(digest.sha256);
        entry.crc32 = digest.crc32;
        info.files.push_back({std::string(file), entry.sha256, entry.size});
        if (retain == RetainText::kAll) {
          entry.text = std::move(text);
        } else if (retained + digest.deflated.size() <= kRetainBudget) {
          retained += digest.deflated.size();
          entry.deflated = std::move(digest.deflated);
        } else {
          entry.regenerate = [&store, oid = *blob, name = entry.name, kind, format = ef.format, strip] {
            return StripDocument(store.ReadBlob(oid), name, kind, format, strip);
          };
        }
        ef.files.push_back(std::move(entry));
      };
      add_file(kAppDefinitionFile, std::move(w.stripped.app_definition), std::move(w.app),
               ef.blobs.app, DocKind::kApp);
      if (!w.stripped.env_variables.empty()) {
        add_file(kEnvVariablesFile, std::move(w.stripped.env_variables), std::move(w.env_file),
                 ef.blobs.env, DocKind::kEnv);
      }
      add_file(kFlowDefinitionFile, std::move(w.stripped.flow_definition), std::move(w.definition),
               ef.blobs.definition, DocKind::kDefinition);
      done.emplace(id, std::move(ef));
      if (request.progress) request.progress(++step, in_package.size());
    }
  }
  if (!problems.empty()) {
    throw Error(ErrorCode::kInvalidData,
                "export refused: " + std::to_string(problems.size()) + " problem(s) in " +
                    std::to_string(std::max<std::size_t>(invalid.size(), 1)) +
                    " flow(s); nothing was written",
                problems);
  }

  // 4. Versions.
  std::set<std::string> wanted;
  for (const auto& [id, ef] : done) wanted.insert(id);
  auto versions = PublishedVersions(store, ws, commit, wanted);
  const std::string commit_hex = git::OidHex(commit);
  for (auto& [id, ef] : done) {
    ef.info.commit = commit_hex;
    auto it = versions.find(id);
    if (it == versions.end()) continue;
    ef.info.version = it->second.first;
    ef.info.commit = git::OidHex(it->second.second);
  }

  // 5. The manifest; flows sorted by path.
  std::vector<ExportedFlow*> ordered;
  for (auto& [id, ef] : done) ordered.push_back(&ef);
  std::sort(ordered.begin(), ordered.end(),
            [](const ExportedFlow* a, const ExportedFlow* b) { return a->info.path < b->info.path; });
  BuiltPackage built;
  PackageManifest& m = built.manifest;
  m.schema = std::string(kPackageSchema);
  m.tool_version = FLOWREPO_VERSION;
  m.workspace = ws;
  m.commit = commit_hex;
  m.selection = request.selection;
  m.exclude = request.exclude;
  m.all = request.all;
  m.dependency_policy = DependencyPolicyName(policy);
  m.version = version_number;
  std::set<std::string> components, topics;
  for (ExportedFlow* ef : ordered) {
    for (auto& d : ef->info.dependencies) d.included = in_package.count(d.flow) > 0;
    const auto& r = ef->info.requirements;
    components.insert(r.components.begin(), r.components.end());
    topics.insert(r.topics.begin(), r.topics.end());
    for (auto c : r.credentials) {
      c.flow = ef->info.id;
      m.requirements.credentials.push_back(std::move(c));
    }
    for (auto e : r.env_variables) {
      e.flow = ef->info.id;
      m.requirements.env_variables.push_back(std::move(e));
    }
    m.flows.push_back(std::move(ef->info));
  }
  m.requirements.components.assign(components.begin(), components.end());
  m.requirements.topics.assign(topics.begin(), topics.end());
  m.required_flows.assign(referenced.begin(), referenced.end());
  m.groups = AllGroups(m.flows);
  std::vector<Problem> manifest_problems;
  std::mutex manifest_problems_mutex;
  BuiltEntry manifest_entry;
  manifest_entry.name = std::string(kManifestName);
  ManifestDigester digester(manifest_entry, retain);
  auto scan = [&](const Json& part, const std::string& at) {
    std::vector<Problem> found;
    ScanSecrets(part, std::string(kManifestName), found);
    std::lock_guard<std::mutex> lock(manifest_problems_mutex);
    for (auto& p : found) {
      p.pointer = at + p.pointer;
      manifest_problems.push_back(std::move(p));
    }
  };
  WriteManifestText(m, scan, [&](std::string_view chunk, bool last) { digester.Add(chunk, last); });
  if (!manifest_problems.empty()) {
    std::sort(manifest_problems.begin(), manifest_problems.end(),
              [](const Problem& a, const Problem& b) { return a.pointer < b.pointer; });
    std::vector<std::string> details;
    for (const auto& p : manifest_problems) details.push_back(p.ToString());
    throw Error(ErrorCode::kInvalidData,
                "export refused: " + std::to_string(details.size()) +
                    " problem(s) in manifest.json; nothing was written",
                details);
  }
  built.entries.push_back(std::move(manifest_entry));
  for (ExportedFlow* ef : ordered) {
    for (auto& file : ef->files) built.entries.push_back(std::move(file));
  }
  built.included.assign(included.begin(), included.end());
  built.referenced.assign(referenced.begin(), referenced.end());
  return built;
}

// ---- writing the file -------------------------------------------------------

namespace {

// A path in the target folder that is removed unless released.
class TempPath {
 public:
  explicit TempPath(const fs::path& dir) {
    static std::atomic<unsigned> counter{0};
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = (dir / (".flowrepo-export-" + std::to_string(getpid()) + "-" +
                    std::to_string(counter++) + "-" + std::to_string(now % 1000000) + ".tmp"))
                .string();
  }
  ~TempPath() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  const std::string& path() const { return path_; }
  void Release() { path_.clear(); }

 private:
  std::string path_;
};

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

std::string FileSha256(const std::string& path, std::uint64_t& size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::kIo, "cannot read '" + path + "'");
  Sha256 sha;
  std::vector<char> buf(1 << 16);
  size = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = static_cast<std::size_t>(in.gcount());
    size += n;
    sha.Update(std::string_view(buf.data(), n));
  }
  return sha.HexDigest();
}

}  // namespace

ExportResult ExportPackage(FlowRepository& repo, const ExportRequest& request) {
  // Where the file goes is checked first, so a mistake costs no work.
  const bool automatic = request.output.empty();
  fs::path dir = automatic ? fs::path(request.directory.empty() ? "." : request.directory)
                           : fs::path(request.output).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(ErrorCode::kNotFound, "folder '" + dir.string() + "' not found");
  }
  auto exists = [](const fs::path& p) {
    std::error_code e;
    return fs::symlink_status(p, e).type() != fs::file_type::not_found;
  };
  if (!automatic && request.overwrite == ExportRequest::Overwrite::kNo && exists(request.output)) {
    throw Error(ErrorCode::kAlreadyExists,
                "'" + request.output + "' already exists; pass --force to overwrite it");
  }

  BuiltPackage built = BuildPackage(repo.impl(), request, RetainText::kWithinBudget);

  fs::path target = request.output;
  if (automatic && request.version) {
    std::string name = request.selection.at(0);
    for (const auto& f : built.manifest.flows) {
      if (f.id == request.selection[0]) name = f.name;
    }
    target = dir / (SafeFileName(name) + ".zip");
    if (request.overwrite == ExportRequest::Overwrite::kNo && exists(target)) {
      throw Error(ErrorCode::kAlreadyExists,
                  "'" + target.lexically_normal().string() + "' already exists; pass -o FILE or --force");
    }
  }

  TempPath temp(dir);
  {
    zip::Writer writer(temp.path());
    std::size_t total = built.entries.size(), written = 0;
    for (BuiltEntry& entry : built.entries) {
      writer.Add(entry.name, entry.size, entry.crc32,
                 [&entry, &request, &written, total]() -> std::string {
        ThrowIfCancelled();  // libzip then removes its temporary file
        std::string deflated;
        if (entry.regenerate) {
          std::string text = entry.regenerate();
          if (Sha256Hex(text) != entry.sha256) {
            throw Error(ErrorCode::kInternal, "'" + entry.name + "' changed while being exported");
          }
          deflated = zip::Deflate(text);
        } else {
          deflated = std::move(entry.deflated);
        }
        if (request.progress) request.progress(++written, total);
        return deflated;
      });
    }
    writer.Commit();
  }
  Fsync(temp.path(), O_RDONLY);
  ExportResult result;
  result.sha256 = FileSha256(temp.path(), result.bytes);

  if (automatic && !request.version) {
    for (int n = 0;; ++n) {
      target = dir / (n == 0 ? std::string("export.studiopkg")
                             : "export " + std::to_string(n) + ".studiopkg");
      if (RenameNoReplace(temp.path(), target.string())) break;
    }
  } else if (request.overwrite == ExportRequest::Overwrite::kYes) {
    if (::rename(temp.path().c_str(), target.c_str()) != 0) {
      throw Error(ErrorCode::kIo, "cannot write '" + target.string() + "': " + std::strerror(errno));
    }
  } else if (!RenameNoReplace(temp.path(), target.string())) {
    throw Error(ErrorCode::kAlreadyExists,
                "'" + target.string() + "' already exists; pass --force to overwrite it");
  }
  temp.Release();
  Fsync(dir.string(), O_RDONLY | O_DIRECTORY);

  result.path = target.lexically_normal().string();
  result.workspace = built.manifest.workspace;
  result.commit = built.manifest.commit;
  result.flows = std::move(built.manifest.flows);
  result.included_dependencies = std::move(built.included);
  result.referenced_dependencies = std::move(built.referenced);
  return result;
}

}  // namespace flowrepo
