// AddFlows: source files to flows on a draft.
//
// 1. Expand the paths: a directory gives every *.json file below it (sorted;
//    its sub-folders become groups).
// 2. Read and convert every file (ConvertDocument: parse, recognise, check,
//    scan, name, split), a batch at a time on all cores; a file that fails
//    is refused. Each definition is stored at once (one pack in the end),
//    so memory holds what the next steps need, not the documents.
// 3. Give each flow its id: the name-derived base, then "-2", "-3", ... past
//    ids taken on the draft or in this batch. A draft flow with the same
//    format, source id and name is the same flow: it is updated.
// 4. Map foreign references: Node-RED ids first among the parts of the same
//    split file; then source ids among this batch and the draft's flows.
//    Exactly one candidate maps; none or several leave it unresolved.
// 5. Declare components the workspace does not list (one commit), then
//    commit all flows (CommitFlows: one commit).

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <set>

#include "file_io.h"
#include "flowrepo/cancel.h"
#include "flowrepo/error.h"
#include "flowrepo/formats.h"
#include "formats/foreign.h"
#include "formats/n8n_format.h"
#include "formats/node_red_format.h"
#include "json/json_io.h"
#include "parallel.h"
#include "repo/repository_impl.h"
#include "repo/settings.h"

namespace flowrepo {
namespace {

namespace fs = std::filesystem;

// Files read and converted at once on all cores, then let go of.
constexpr std::size_t kConvertBatch = 256;

struct Input {
  std::string path;  ///< as shown to the user
  std::string group;
};

bool IsJsonFile(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".json";
}

std::string JoinGroup(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "/" + b;
}

// The order of fs::path, component by component, on path strings: the
// separator sorts before every other character. (Strings, because a
// fs::path holds each of its components too: 400 bytes a file.)
bool PathLess(const std::string& a, const std::string& b) {
  auto rank = [](char c) { return c == '/' ? 0 : static_cast<unsigned char>(c) + 1; };
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [&](char x, char y) { return rank(x) < rank(y); });
}

std::vector<Input> ExpandPaths(const AddFlowsRequest& request) {
  std::vector<Input> inputs;
  // Only paths given more than once, or inside one another, can repeat.
  const bool may_repeat = request.paths.size() > 1;
  std::set<std::string> seen;
  auto add = [&](const std::string& path, std::string group) {
    if (may_repeat) {
      std::error_code ec;
      std::string key = fs::weakly_canonical(path, ec).string();
      if (ec) key = path;
      if (!seen.insert(key).second) return;
    }
    inputs.push_back({path, std::move(group)});
  };
  for (const auto& given : request.paths) {
    std::error_code ec;
    fs::file_status status = fs::status(given, ec);
    if (ec || !fs::exists(status)) {
      throw Error(ErrorCode::kNotFound, "'" + given + "' does not exist");
    }
    if (!fs::is_directory(status)) {
      add(given, request.group);
      continue;
    }
    fs::path root = fs::path(given).lexically_normal();
    std::vector<std::string> found;
    try {
      for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        std::string name = it->path().filename().string();
        if (!name.empty() && name[0] == '.') {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file() && IsJsonFile(it->path())) found.push_back(it->path().string());
      }
    } catch (const fs::filesystem_error& e) {
      throw Error(ErrorCode::kIo, "cannot read '" + given + "': " + e.code().message());
    }
    if (found.empty()) throw Error(ErrorCode::kNotFound, "no *.json files under '" + given + "'");
    std::sort(found.begin(), found.end(), PathLess);
    inputs.reserve(inputs.size() + found.size());
    for (std::string& path : found) {
      std::string rel = fs::path(path).parent_path().lexically_relative(root).generic_string();
      add(path, JoinGroup(request.group, rel == "." ? "" : rel));
      std::string().swap(path);
    }
  }
  return inputs;
}

Conversion ConvertInput(const Input& input, const AddFlowsRequest& request) {
  if (std::string why = GroupProblem(input.group); !why.empty()) {
    Conversion c;
    c.refused = RefusedFile{
        input.path,
        "invalid",
        "cannot use folder path '" + input.group + "' as a group (it " + why + "); add the file with --group",
        {}};
    return c;
  }
  auto text = TryReadFile(input.path);
  if (!text) {
    Conversion c;
    c.refused = RefusedFile{input.path, "io", "cannot read '" + input.path + "'", {}};
    return c;
  }
  DocumentOptions options;
  options.format = request.format;
  options.group = input.group;
  options.file_name = fs::path(input.path).filename().string();
  options.split = request.split;
  return ConvertDocument(*text, input.path, options);
}

// What a flow already on the draft says about itself.
struct ExistingApp {
  std::string format;
  std::string source_id;
  std::string name;
};

ExistingApp ReadExistingApp(const Store& store, const FlowLocation& loc) {
  git::TreePtr tree = store.LookupTree(loc.tree);
  auto entry = store.EntryAt(tree.get(), std::string(kAppDefinitionFile));
  if (!entry) return {};
  try {
    Json app = ParseJson(store.ReadBlob(entry->id), loc.path + "/" + std::string(kAppDefinitionFile));
    return {StringOr(app, "format", std::string(kNativeFormat)), StringOr(app, std::string(kSourceIdField)),
            StringOr(app, "name")};
  } catch (const Error&) {
    return {};  // an unreadable flow never matches
  }
}

// A flow converted. What every flow keeps until the commit is small: its
// definition is stored already, its app definition kept as text, its
// components gathered for all flows.
struct Pending {
  ForeignFlow flow;   ///< without definition, app and components
  std::size_t input;  ///< index into inputs
  std::optional<git_oid> definition;
  std::string app;  ///< canonical text of flow.app
  std::string id;
  AddedFlow::Action action = AddedFlow::Action::kAdded;
  std::map<std::string, std::string> references;
  std::vector<std::string> unresolved;
};

bool IsForeignComponent(const std::string& c) {
  return c.rfind(std::string(kN8nFormat) + ":", 0) == 0 || c.rfind(std::string(kNodeRedFormat) + ":", 0) == 0;
}

// Reads and converts the inputs a batch at a time on all cores, then
// stores each flow's definition and lets go of its text, so that memory
// holds a batch of documents, not every file added. Refused files go to
// \a refused, the flows' foreign components to \a components; the flows
// come back in input order.
std::vector<Pending> ConvertAndStore(Store& store, const std::vector<Input>& inputs, const AddFlowsRequest& request,
                                     std::vector<RefusedFile>& refused, std::set<std::string>& components) {
  std::vector<Pending> pending;
  pending.reserve(inputs.size());  // one flow a file, but for split Node-RED files
  std::atomic<std::size_t> done{0};
  for (std::size_t first = 0; first < inputs.size(); first += kConvertBatch) {
    ThrowIfCancelled();
    const std::size_t count = std::min(kConvertBatch, inputs.size() - first);
    std::vector<Conversion> converted(count);
    ParallelFor(
        count,
        [&](std::size_t i, std::size_t worker) {
          converted[i] = ConvertInput(inputs[first + i], request);
          ++done;
          if (request.progress && worker == 0) request.progress(done.load(), inputs.size());
        },
        4);
    for (std::size_t i = 0; i < count; ++i) {
      if (converted[i].refused) {
        refused.push_back(std::move(*converted[i].refused));
        continue;
      }
      for (ForeignFlow& flow : converted[i].flows) {
        Pending p{std::move(flow), first + i};
        if (!p.flow.definition.empty()) p.definition = store.WriteBlob(p.flow.definition);
        std::string().swap(p.flow.definition);
        p.app = CanonicalJson(p.flow.app);
        p.flow.app = Json();
        for (const auto& c : p.flow.components) {
          if (IsForeignComponent(c)) components.insert(c);
        }
        std::set<std::string>().swap(p.flow.components);
        pending.push_back(std::move(p));
      }
    }
  }
  return pending;
}

// Gives each flow its id: the name-derived base, then "-2", "-3", ... past
// ids taken on the draft (\a existing) or in this batch; a draft flow with
// the same format, source id and name is the same flow, updated. With
// \a fixed_id, that is the one flow's id. Returns the ids taken.
std::set<std::string> AssignIds(std::vector<Pending>& pending, const std::map<std::string, FlowLocation>& existing,
                                const Store& store, const std::string& fixed_id) {
  std::set<std::string> claimed;
  for (auto& p : pending) {
    if (!fixed_id.empty()) {
      p.id = fixed_id;
      if (existing.count(p.id)) p.action = AddedFlow::Action::kUpdated;
      claimed.insert(p.id);
      continue;
    }
    for (int n = 1;; ++n) {
      std::string candidate = n == 1 ? p.flow.id_base : p.flow.id_base + "-" + std::to_string(n);
      if (claimed.count(candidate)) continue;
      auto it = existing.find(candidate);
      if (it != existing.end()) {
        ExistingApp app = ReadExistingApp(store, it->second);
        if (app.format != p.flow.format || app.source_id != p.flow.source_id || app.name != p.flow.name) {
          continue;
        }
        p.action = AddedFlow::Action::kUpdated;
      }
      p.id = candidate;
      claimed.insert(candidate);
      break;
    }
  }
  return claimed;
}

// Maps each flow's foreign references to flow ids: Node-RED ids first
// among the parts of the same split file; then source ids among this batch
// and the draft's other flows (\a existing, less those \a claimed).
// Exactly one candidate maps; none or several leave it unresolved.
void MapReferences(std::vector<Pending>& pending, const std::map<std::string, FlowLocation>& existing,
                   const std::set<std::string>& claimed, const Store& store) {
  std::multimap<std::pair<std::string, std::string>, std::string> by_source;  // (format, source id) -> id
  for (const auto& p : pending) {
    if (!p.flow.source_id.empty()) by_source.emplace(std::pair(p.flow.format, p.flow.source_id), p.id);
  }
  bool existing_loaded = false;
  auto load_existing = [&] {
    if (existing_loaded) return;
    existing_loaded = true;
    for (const auto& [id, loc] : existing) {
      if (claimed.count(id)) continue;  // replaced by this batch
      ExistingApp app = ReadExistingApp(store, loc);
      if (!app.source_id.empty() && app.format != kNativeFormat) {
        by_source.emplace(std::pair(app.format, app.source_id), id);
      }
    }
  };
  for (auto& p : pending) {
    for (const auto& ref : p.flow.refs) {
      if (ref.kind == SubflowRef::Kind::kDynamic) {
        p.unresolved.push_back(ref.source);
        continue;
      }
      if (p.references.count(ref.source)) continue;
      std::string target_id;
      if (p.flow.format == kNodeRedFormat) {
        // Parts of the same split file know each other's node ids.
        for (const auto& q : pending) {
          if (&q != &p && q.input == p.input && q.flow.node_ids.count(ref.source)) {
            target_id = q.id;
            break;
          }
        }
      }
      if (target_id.empty()) {
        auto key = std::pair(p.flow.format, ref.source);
        if (!by_source.count(key)) load_existing();
        auto [lo, hi] = by_source.equal_range(key);
        std::set<std::string> candidates;
        for (auto it = lo; it != hi; ++it) {
          if (it->second != p.id) candidates.insert(it->second);
        }
        if (candidates.size() == 1) target_id = *candidates.begin();
      }
      if (target_id.empty()) {
        p.unresolved.push_back(ref.source);
      } else {
        p.references[ref.source] = target_id;
      }
    }
    std::sort(p.unresolved.begin(), p.unresolved.end());
    p.unresolved.erase(std::unique(p.unresolved.begin(), p.unresolved.end()), p.unresolved.end());
  }
}

// Each refused file as a problem "add/<reason>", then the problems behind
// it with their pointers and rules, as validate lists them.
std::vector<Problem> ProblemsOf(const std::vector<RefusedFile>& refused) {
  std::vector<Problem> problems;
  for (const auto& r : refused) {
    problems.push_back({r.file, "", "add/" + r.reason, r.message});
    problems.insert(problems.end(), r.problems.begin(), r.problems.end());
  }
  return problems;
}

// The options of \a request that do not depend on a repository.
std::string CheckedFormat(const AddFlowsRequest& request) {
  const std::string format = NormalizeFormatName(request.format);
  if (request.split == SplitTabs::kYes && !format.empty() && format != kNodeRedFormat) {
    throw Error(ErrorCode::kInvalidArgument,
                "--split-tabs splits node-red flows files; it cannot be used with --format " + request.format);
  }
  if (std::string why = GroupProblem(request.group); !why.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "invalid group '" + request.group + "': " + why);
  }
  if (request.paths.empty()) throw Error(ErrorCode::kInvalidArgument, "no files given");
  return format;
}

// What the result says of flow \a p (moved out of it), stored as \a summary.
AddedFlow Added(Pending& p, const FlowSummary& summary, const std::vector<Input>& inputs) {
  AddedFlow added;
  added.summary = summary;
  added.file = inputs[p.input].path;
  added.source_id = std::move(p.flow.source_id);
  added.action = p.action;
  added.references.assign(p.references.begin(), p.references.end());
  added.unresolved = std::move(p.unresolved);
  return added;
}

// A flow's app definition as stored (its final id and references), and
// the secrets a scan finds in it.
struct FinalAppText {
  std::string text;
  std::vector<std::string> secrets;
};

// FinalAppText of pending[first, first + count), made on all cores.
std::vector<FinalAppText> FinalApps(const std::vector<Pending>& pending, std::size_t first, std::size_t count) {
  std::vector<FinalAppText> apps(count);
  ParallelFor(count, [&](std::size_t i, std::size_t) {
    const Pending& p = pending[first + i];
    Json app = FinalApp(Json::parse(p.app), p.id, p.references);
    ScanFinalApp(app, {p.id, p.flow.name, p.flow.group, p.flow.format}, apps[i].secrets);
    apps[i].text = CanonicalJson(app);
  });
  return apps;
}

}  // namespace

AddFlowsResult AddFlows(FlowRepository& repo, const AddFlowsRequest& request) {
  FlowRepository::Impl& impl = ImplOf(repo);
  impl.RequireRole(request.workspace, Role::kIntegrator);
  if (request.draft.empty()) throw Error(ErrorCode::kInvalidArgument, "flow add needs a draft (--draft)");
  RequireDraftName(request.draft);
  CheckedFormat(request);
  if (!request.id.empty()) RequireId(request.id, "flow id");

  const std::vector<Input> inputs = ExpandPaths(request);
  Store& store = impl.store;
  // Many files: one pack instead of thousands of loose fsynced objects.
  if (inputs.size() >= Store::kPackedWriteThreshold) store.EnablePackedWrites();
  AddFlowsResult result;
  result.files = inputs.size();
  std::set<std::string> components;
  std::vector<Pending> pending = ConvertAndStore(store, inputs, request, result.refused, components);
  if (pending.empty()) {
    const std::string message = "no flow added: " + std::to_string(result.refused.size()) + " file(s) refused";
    throw Error::Listing(ErrorCode::kInvalidData, message, ProblemsOf(result.refused));
  }
  if (!request.id.empty() && pending.size() != 1) {
    throw Error(ErrorCode::kInvalidArgument,
                "--id names one flow, but " + std::to_string(pending.size()) + " would be added");
  }

  DraftTarget target = impl.OpenDraft(request.workspace, request.draft);
  {
    const auto& existing = impl.FlowsAt(target.parent);
    const std::set<std::string> claimed = AssignIds(pending, existing, store, request.id);
    MapReferences(pending, existing, claimed, store);
    if (request.groups == AddFlowsRequest::Groups::kKeepExisting) {
      for (Pending& p : pending) {
        if (auto it = existing.find(p.id); it != existing.end()) p.flow.group = it->second.group;
      }
    }
  }

  // Publish scans the app definitions written here, not only the source
  // documents: so does add, or add would accept what publish refuses.
  // Every document stored came out of CanonicalJson: not parsed again.
  // Each conversion is let go as its flow is made: the commit, the largest
  // step, holds only what is stored and what the result says.
  std::vector<StoredFlow> flows;
  flows.reserve(pending.size());
  result.flows.reserve(std::min(pending.size(), request.listed_flows));
  std::vector<std::string> secrets;
  const git_oid env = store.WriteBlob(CanonicalJson({{"variables", Json::array()}}));
  for (std::size_t first = 0; first < pending.size(); first += kConvertBatch) {
    const std::size_t count = std::min(kConvertBatch, pending.size() - first);
    std::vector<FinalAppText> apps = FinalApps(pending, first, count);
    for (std::size_t i = 0; i < count; ++i) {
      Pending& p = pending[first + i];
      StoredFlow flow{{p.id, p.flow.name, p.flow.group, p.flow.format}, p.definition, {}, env};
      secrets.insert(secrets.end(), apps[i].secrets.begin(), apps[i].secrets.end());
      flow.app = store.WriteBlob(apps[i].text);
      ++(p.action == AddedFlow::Action::kUpdated ? result.updated : result.added);
      result.unresolved += !p.unresolved.empty();
      if (result.flows.size() < request.listed_flows) result.flows.push_back(Added(p, flow.summary, inputs));
      p = Pending{};  // let go of what this flow needed
      flows.push_back(std::move(flow));
    }
  }
  std::vector<Pending>().swap(pending);
  ThrowOnSecretsInApps(secrets);

  // Components the workspace must provide.
  WorkspaceSettings settings = WorkspaceSettings::AtCommit(store, target.parent);
  const Availability available(settings);
  std::set<std::string> missing;
  for (const auto& c : components) {
    if (!available.HasComponent(c)) missing.insert(c);
  }
  bool created_draft = false;
  if (!missing.empty()) {
    WriteResult w = impl.EditSettingsList(request.workspace, request.draft, SettingsList::kComponents,
                                          {missing.begin(), missing.end()}, {});
    created_draft = w.created_draft;
    result.declared_components.assign(missing.begin(), missing.end());
  }

  result.write = impl.CommitFlows(request.workspace, request.draft, std::move(flows), "add",
                                  FlowRepository::GroupChoice::kAsGiven);
  result.write->created_draft = result.write->created_draft || created_draft;
  return result;
}

ValidationReport ValidateSourceFiles(const AddFlowsRequest& request) {
  CheckedFormat(request);
  const std::vector<Input> inputs = ExpandPaths(request);
  ValidationReport report;
  report.target = inputs.size() == 1 ? "file '" + inputs[0].path + "'" : std::to_string(inputs.size()) + " file(s)";
  std::vector<RefusedFile> refused;
  // A batch at a time, as flow add reads them: memory holds a batch of
  // documents, not every file checked.
  for (std::size_t first = 0; first < inputs.size(); first += kConvertBatch) {
    ThrowIfCancelled();
    std::vector<Conversion> converted(std::min(kConvertBatch, inputs.size() - first));
    ParallelFor(
        converted.size(), [&](std::size_t i, std::size_t) { converted[i] = ConvertInput(inputs[first + i], request); },
        4);
    for (std::size_t i = 0; i < converted.size(); ++i) {
      if (converted[i].refused) {
        refused.push_back(std::move(*converted[i].refused));
      } else {
        report.flows.push_back(inputs[first + i].path);
      }
    }
  }
  report.problems = ProblemsOf(refused);
  return report;
}

}  // namespace flowrepo
