// Import: a package's flows onto a draft of the target workspace.
//
// 1. Read the package (reader.cc): every structural, manifest, hash,
//    validity and secret problem is collected.
// 2. Plan against the target (PlanImport): which flows, their final ids
//    (as given, overriding an existing flow, or unique new ones), names,
//    groups; then each flow on its own, on all cores within the parse
//    budget (PlanFlow): rewrite subflow references to renamed flows and
//    mapped topics; strip credential bindings, secret references and
//    workspace-only fields; merge env variables of an overridden flow;
//    write the canonical text within the limits. Every component must be
//    available and every topic exist in the target; ids must not collide;
//    subflows must resolve; no flow folder may land in or around another.
// 3. Any problem from 1 or 2 refuses the import, listing them all, before
//    anything is written. A dry run stops here with the plan: it makes
//    every check the import makes.
// 4. One commit onto the draft (PutFlows: one pack for many flows, then a
//    compare-and-swap of the draft ref). The workspace branch is never
//    written; publish makes the new versions.

#include <atomic>
#include <filesystem>
#include <set>

#include "escape.h"
#include "flow/format.h"
#include "flowrepo/error.h"
#include "package/export.h"
#include "package/manifest.h"
#include "package/reader.h"
#include "parallel.h"
#include "validate/flow_validator.h"
#include "validate/secrets.h"

namespace flowrepo {
namespace {

namespace fs = std::filesystem;

struct FlowDocuments {
  Json app, def;
  std::optional<Json> env;  ///< absent when the flow has no env_variables.json
};

FlowDocuments ParseDocuments(const Flow& flow, const std::string& base, const JsonLimits& limits) {
  FlowDocuments d;
  d.app = ParseJson(flow.app_definition, base + std::string(kAppDefinitionFile), limits);
  d.def = ParseJson(flow.flow_definition, base + std::string(kFlowDefinitionFile), limits);
  if (!flow.env_variables.empty()) {
    d.env = ParseJson(flow.env_variables, base + std::string(kEnvVariablesFile), limits);
  }
  return d;
}

std::string DraftNameFrom(std::string prefix, const std::string& text) {
  std::string id = IdFromName(text);
  std::string name = prefix + (id.empty() ? "package" : id);
  if (name.size() > 64) name.resize(64);
  while (!name.empty() && (name.back() == '-' || name.back() == '.' || name.back() == '_')) {
    name.pop_back();
  }
  return IsValidId(name) ? name : prefix + "package";
}

void RewriteTopics(Json& j, const std::map<std::string, std::string>& topics) {
  if (j.is_object()) {
    for (auto& [key, value] : j.items()) {
      if (key == "topic" && value.is_string()) {
        auto it = topics.find(value.get<std::string>());
        if (it != topics.end()) value = it->second;
      } else {
        RewriteTopics(value, topics);
      }
    }
  } else if (j.is_array()) {
    for (auto& value : j) RewriteTopics(value, topics);
  }
}

std::string UniqueId(const std::string& base, const std::set<std::string>& taken) {
  if (!taken.count(base)) return base;
  for (int n = 2;; ++n) {
    std::string suffix = "-" + std::to_string(n);
    std::string stem = base.substr(0, 64 - suffix.size());
    while (!stem.empty() && (stem.back() == '-' || stem.back() == '.')) stem.pop_back();
    std::string candidate = stem + suffix;
    if (IsValidId(candidate) && !taken.count(candidate)) return candidate;
  }
}

std::string UniqueName(const std::string& base, const std::set<std::string>& taken) {
  if (!taken.count(base)) return base;
  for (int n = 2;; ++n) {
    std::string candidate = base + " (" + std::to_string(n) + ")";
    if (!taken.count(candidate)) return candidate;
  }
}

// The location of flow \a id among \a flows, or null.
const FlowLocation* Find(const std::map<std::string, FlowLocation>& flows, const std::string& id) {
  auto it = flows.find(id);
  return it == flows.end() ? nullptr : &it->second;
}

// The env variables of an overridden flow merged with the package's.
Json MergeEnv(const Json& package_env, const Json& target_env, ImportRequest::EnvConflict policy, ImportedFlow& out) {
  Json merged = package_env;
  if (!merged.is_object()) merged = Json::object();
  Json vars = Json::array();
  std::map<std::string, const Json*> target_vars;
  std::vector<std::string> target_order;
  // Kept alive for the pointers below (value() returns a copy).
  const Json target_list = target_env.value("variables", Json::array());
  for (const auto& v : target_list) {
    std::string name = StringOr(v, "name");
    if (name.empty() || target_vars.count(name)) continue;
    target_vars[name] = &v;
    target_order.push_back(name);
  }
  std::set<std::string> seen;
  for (const auto& v : package_env.value("variables", Json::array())) {
    std::string name = StringOr(v, "name");
    seen.insert(name);
    auto it = target_vars.find(name);
    if (it == target_vars.end()) {
      vars.push_back(v);
      continue;
    }
    const Json& mine = *it->second;
    bool secret = IsTrue(v, "secret") || IsTrue(mine, "secret");
    if (mine == v) {
      vars.push_back(v);
    } else if (secret || policy == ImportRequest::EnvConflict::kKeep) {
      // A package never carries a secret, so a secret keeps its reference.
      vars.push_back(mine);
      out.kept_env.push_back(name);
    } else {
      vars.push_back(v);
      out.overwritten_env.push_back(name);
    }
  }
  for (const auto& name : target_order) {
    if (!seen.count(name)) vars.push_back(*target_vars[name]);
  }
  merged["variables"] = std::move(vars);
  return merged;
}

// What import decides about one package flow, made on any thread: its
// final documents (canonical text), what it needs from the target and the
// problems found.
struct FlowPlan {
  bool planned = false;  ///< the flow was valid and is in the plan
  ImportedFlow out;
  Flow final;
  std::vector<Problem> problems;
  std::set<std::string> used_mappings;
  std::set<std::string> components;
  std::vector<SubflowRef> subflows;
};

// What an imported flow replaces: the existing flow's folder, and what of
// it the import keeps (its group, endpoint, sharing, audit, env variables).
struct Replaced {
  FlowLocation location;
  std::string app_definition;
  std::string env_variables;
};

// What the import keeps of each flow it replaces, read before planning
// (one flow's planning runs on any core; the repository is read here).
std::map<std::string, Replaced> ReadReplaced(const Store& store, const std::map<std::string, FlowLocation>& at) {
  std::map<std::string, Replaced> out;
  for (const auto& [id, location] : at) {
    Flow current = ReadFlowAt(store, location);
    out[id] = Replaced{location, std::move(current.app_definition), std::move(current.env_variables)};
  }
  return out;
}

// What every flow's planning shares, read-only but for the canonical total.
struct PlanContext {
  const ImportRequest& request;
  const std::map<std::string, std::string>& rename;
  const std::map<std::string, std::string>& new_names;
  const std::map<std::string, Replaced>& replaced;  ///< by package flow id
  const std::set<std::string>& target_topics;
  const std::string& where;
  std::atomic<std::uint64_t>& canonical_total;  ///< bytes of canonical text reserved so far
};

// The canonical text of \a doc, within the entry limit and what is left of
// the total limit (reserved before it is written); problems go to \a plan.
std::string CanonicalWithin(const Json& doc, const std::string& file, const PlanContext& c, FlowPlan& plan) {
  const PackageLimits& limits = c.request.limits;
  try {
    return CanonicalJson(doc, static_cast<std::size_t>(std::min<std::uint64_t>(limits.max_entry_bytes, SIZE_MAX)),
                         [&](std::size_t size) {
                           std::uint64_t total = c.canonical_total.load();
                           do {
                             if (size > limits.max_total_bytes || total > limits.max_total_bytes - size) {
                               throw Error(ErrorCode::kInvalidData,
                                           "the package's documents in canonical form are larger than " +
                                               std::to_string(limits.max_total_bytes) + " bytes (the limit)");
                             }
                           } while (!c.canonical_total.compare_exchange_weak(total, total + size));
                         });
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidData) throw;
    plan.problems.push_back({file, "", "package/limit", e.what()});
    return {};
  }
}

// The topics a flow uses, mapped by --topic or kept, each one the target
// must have (a workspace listing no topics does not manage them, as in
// validation). Returns the topics the flow will use.
std::set<std::string> MapTopics(const std::set<std::string>& topics, const std::string& file, const PlanContext& c,
                                FlowPlan& plan) {
  std::set<std::string> expected;
  for (const auto& topic : topics) {
    auto it = c.request.topics.find(topic);
    std::string dst = it != c.request.topics.end() ? it->second : topic;
    if (it != c.request.topics.end()) {
      plan.used_mappings.insert(topic);
      plan.out.topics[topic] = dst;
    }
    expected.insert(dst);
    if (!c.target_topics.empty() && !c.target_topics.count(dst)) {
      plan.problems.push_back(
          {file, "", "import/missing-topic",
           it != c.request.topics.end()
               ? "topic '" + topic + "' is mapped to '" + dst + "', which " + c.where + " does not have"
               : "topic '" + topic + "' does not exist in " + c.where + "; map it with --topic " + topic + "=TOPIC"});
    }
  }
  return expected;
}

// What an overridden flow keeps of the one it replaces: endpoint, sharing
// and audit of its app definition, and its env variables (merged with the
// package's as --env-conflict says).
void KeepFromReplaced(const Replaced& current, const ImportRequest& request, Json& app, std::optional<Json>& env,
                      ImportedFlow& out) {
  try {
    Json current_app = ParseJson(current.app_definition, current.location.path);
    for (const char* key : {"endpoint", "sharing", "audit"}) {
      if (current_app.is_object() && current_app.contains(key)) app[key] = current_app[key];
    }
    if (env && !current.env_variables.empty()) {
      env = MergeEnv(*env, ParseJson(current.env_variables, current.location.path), request.env_conflict, out);
    } else if (!env && !current.env_variables.empty()) {
      env = ParseJson(current.env_variables, current.location.path);
    }
  } catch (const Error&) {
    // The replaced version's documents are unreadable: nothing to keep.
  }
}

// The credentials and secret variables the imported flow leaves for bind.
void ListUnbound(const FlowFacts& facts, const std::optional<Json>& env, ImportedFlow& out) {
  for (const auto& cred : facts.credentials) {
    if (cred.binding.empty()) out.unbound_credentials.push_back(cred.node);
  }
  if (env && env->is_object() && env->contains("variables") && (*env)["variables"].is_array()) {
    for (const auto& var : (*env)["variables"]) {
      if (IsTrue(var, "secret") && StringOr(var, "ref").empty()) out.unbound_secrets.push_back(StringOr(var, "name"));
    }
  }
}

// Plans one valid package flow: final id, name and group; topics mapped
// or existing; credential bindings and workspace-only fields stripped;
// subflow references renamed; env variables of an overridden flow merged;
// then the canonical text. The package's text of the flow is released.
FlowPlan PlanFlow(const PackageFlowInfo& info, PackagedFlow& pf, std::size_t memory, const PlanContext& c) {
  const ImportRequest& request = c.request;
  using Mode = ImportRequest::Mode;
  FlowPlan plan;
  auto problem = [&](const std::string& file, const std::string& rule, const std::string& message) {
    plan.problems.push_back({file, "", rule, message});
  };
  const std::string base = info.path + "/";
  JsonMemory json_memory(memory);
  FlowDocuments docs;
  try {
    docs = ParseDocuments(pf.flow, base, PackageJsonLimits(json_memory));
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidData) throw;
    problem(info.path, "json", e.what());  // read once already: only a smaller budget gets here
    return plan;
  }
  pf.flow = Flow{};  // parsed: the text is not needed any more
  Json app = std::move(docs.app);
  Json def = std::move(docs.def);
  std::optional<Json> env = std::move(docs.env);
  const FlowFormat* format = FindFormat(info.format);
  FlowFacts before = format->Facts(def);
  ImportedFlow& out = plan.out;
  out.source_id = info.id;
  out.id = c.rename.at(info.id);
  out.name = info.name;
  auto replaced = c.replaced.find(info.id);
  const Replaced* current = replaced == c.replaced.end() ? nullptr : &replaced->second;
  out.group = current ? current->location.group : info.group;
  out.action = current ? ImportedFlow::Action::kOverridden : ImportedFlow::Action::kAdded;

  const std::set<std::string> expected_topics =
      MapTopics(before.topics, base + std::string(kFlowDefinitionFile), c, plan);
  plan.components = before.components;

  // Never imported: credential bindings, secret references and
  // workspace-only fields.
  def = format->StripForExport(std::move(def), StripOptions{});
  app = StripApp(std::move(app));
  if (env) env = StripEnv(std::move(*env));
  if (request.mode == Mode::kAsNew) out.name = c.new_names.at(info.id);
  app["id"] = out.id;
  app["name"] = out.name;
  RenameReferences(app, c.rename);  // foreign references name flows in the app definition
  if (current) KeepFromReplaced(*current, request, app, env, out);
  for (const auto& ref : RenameSubflows(def, before.subflows, c.rename)) {
    problem(base + std::string(kFlowDefinitionFile), "import/rename",
            "cannot rename the reference of node '" + ref.node + "' to flow '" + ref.flow + "'");
  }
  RewriteTopics(def, request.topics);
  FlowFacts after = format->Facts(def);
  if (after.topics != expected_topics) {
    problem(base + std::string(kFlowDefinitionFile), "import/topic-mapping",
            "the topics of this " + info.format + " flow cannot be mapped");
  }
  ListUnbound(after, env, out);
  plan.subflows = std::move(after.subflows);

  Flow& final = plan.final;
  final.summary = {out.id, out.name, out.group, info.format};
  const std::string final_base = final.summary.path() + "/";
  final.app_definition = CanonicalWithin(app, final_base + std::string(kAppDefinitionFile), c, plan);
  app = Json();
  final.flow_definition = CanonicalWithin(def, final_base + std::string(kFlowDefinitionFile), c, plan);
  def = Json();
  if (env) final.env_variables = CanonicalWithin(*env, final_base + std::string(kEnvVariablesFile), c, plan);
  plan.planned = true;
  return plan;
}

// The folders where \a finals will live against the flow folders of the
// target (\a existing, named \a where): a flow folder never holds another
// flow's folder, either way round. A new folder inside an existing flow's
// folder is what writing the draft refuses; an existing flow's folder
// inside a new one would vanish from the workspace (a flow folder's
// sub-folders are not read as flows).
void CheckLayout(const std::vector<Flow>& finals, const std::map<std::string, FlowLocation>& existing,
                 const std::string& where, std::vector<Problem>& problems) {
  std::map<std::string, std::string> folders;  // flow folder -> whose
  for (const auto& [id, loc] : existing) folders.emplace(loc.path, "flow '" + id + "' of " + where);
  for (const Flow& flow : finals) folders.emplace(flow.summary.path(), "flow '" + flow.summary.id + "' imported");
  std::set<std::string> replaced;  // folders an imported flow writes again
  for (const Flow& flow : finals) {
    auto it = existing.find(flow.summary.id);
    if (it != existing.end() && it->second.path == flow.summary.path()) replaced.insert(flow.summary.path());
  }
  for (const Flow& flow : finals) {
    const std::string path = flow.summary.path();
    if (replaced.count(path)) continue;
    const std::string file = path + "/" + std::string(kAppDefinitionFile);
    for (std::size_t slash = path.find('/', kFlowsDir.size() + 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      auto holder = folders.find(path.substr(0, slash));
      if (holder == folders.end()) continue;
      problems.push_back({file, "", "import/layout",
                          "group '" + flow.summary.group + "' is inside flow folder '" + holder->first + "' (" +
                              holder->second + ")"});
    }
    for (auto inside = folders.lower_bound(path + "/");
         inside != folders.end() && inside->first.compare(0, path.size() + 1, path + "/") == 0; ++inside) {
      problems.push_back(
          {file, "", "import/layout",
           "flow folder '" + path + "' would hold flow folder '" + inside->first + "' (" + inside->second + ")"});
    }
  }
}

// An import planned to the last check, nothing written yet.
struct ImportPlan {
  ImportResult result;
  std::vector<Flow> finals;  ///< parallel to result.flows
};

// Every check import makes, in the order it makes them; the dry run and
// the import both come through here, so a dry run that passes means the
// import's checks pass. Throws kInvalidData listing every problem.
ImportPlan PlanImport(FlowRepository::Impl& impl, LoadedPackage&& loaded, const ImportRequest& request,
                      const std::string& label, const std::string& default_draft) {
  const std::string& ws = request.workspace;
  impl.RequireRole(ws, Role::kIntegrator);
  const std::string draft = request.draft.empty() ? default_draft : request.draft;
  RequireDraftName(draft);
  Store& store = impl.store;

  std::vector<Problem> problems = loaded.report.problems;
  auto problem = [&](const std::string& file, const std::string& rule, const std::string& message) {
    problems.push_back({file, "", rule, message});
  };
  const PackageManifest& manifest = loaded.report.manifest;

  DraftTarget target = impl.OpenDraft(ws, draft);
  const git_oid ws_head = impl.WorkspaceHead(ws);
  const auto ws_flows = impl.FlowsAt(ws_head);
  const auto draft_flows = target.head ? impl.FlowsAt(target.parent) : ws_flows;
  const Availability available(WorkspaceSettings::AtCommit(store, target.parent));
  const std::set<std::string>& target_topics = available.Topics();
  const std::string where = "workspace '" + ws + "'";

  // Which package flows.
  std::vector<std::size_t> chosen;
  if (request.flows.empty()) {
    for (std::size_t i = 0; i < manifest.flows.size(); ++i) chosen.push_back(i);
  } else {
    std::vector<std::string> all;
    for (const auto& f : manifest.flows) all.push_back(f.id);
    std::set<std::size_t> seen;
    for (const auto& id : request.flows) {
      auto it = std::find(all.begin(), all.end(), id);
      if (it == all.end()) {
        problem(label, "import/flows", "the package has no flow '" + Printable(id) + "' (it has " + Quoted(all) + ")");
      } else if (seen.insert(static_cast<std::size_t>(it - all.begin())).second) {
        chosen.push_back(static_cast<std::size_t>(it - all.begin()));
      }
    }
  }
  std::vector<std::string> chosen_ids;
  for (std::size_t i : chosen) chosen_ids.push_back(manifest.flows[i].id);

  // Options that depend on the package.
  using Mode = ImportRequest::Mode;
  std::optional<FlowLocation> override_location;
  if (request.mode == Mode::kOverride) {
    if (!IsValidId(request.override_flow)) {
      problem(label, "import/override", "invalid flow id '" + Printable(request.override_flow) + "' to override");
    } else if (!ws_flows.count(request.override_flow)) {
      problem(label, "import/override", "flow '" + request.override_flow + "' to override does not exist in " + where);
    } else {
      auto it = draft_flows.find(request.override_flow);
      override_location = it != draft_flows.end() ? it->second : ws_flows.at(request.override_flow);
    }
    if (chosen.size() != 1) {
      problem(label, "import/override",
              "--override replaces one flow but " + std::to_string(chosen.size()) + " are chosen (" +
                  Quoted(chosen_ids) + "); choose one with --flows");
    }
  }
  if ((!request.new_id.empty() || !request.new_name.empty()) && (request.mode != Mode::kAsNew || chosen.size() != 1)) {
    problem(label, "import/as-new", "--id and --name need --as-new and exactly one flow");
  }
  if (!request.new_id.empty() && !IsValidId(request.new_id)) {
    problem(label, "import/as-new", "invalid flow id '" + Printable(request.new_id) + "'");
  }

  // Final ids and names.
  std::set<std::string> taken;
  for (const auto& [id, loc] : ws_flows) taken.insert(id);
  for (const auto& [id, loc] : draft_flows) taken.insert(id);
  std::set<std::string> names_taken;
  if (request.mode == Mode::kAsNew) {
    for (const auto& [id, loc] : draft_flows) names_taken.insert(ReadFlowAt(store, loc).summary.name);
  }
  std::map<std::string, std::string> rename;
  std::map<std::string, std::string> new_names;
  std::map<std::string, FlowLocation> replaced_at;  // package id -> the flow it replaces
  if (override_location && chosen.size() == 1) replaced_at[manifest.flows[chosen[0]].id] = *override_location;
  for (std::size_t i : chosen) {
    const PackageFlowInfo& info = manifest.flows[i];
    std::string final_id = info.id;
    if (request.mode == Mode::kAdd) {
      if (taken.count(info.id)) {
        auto in_ws = ws_flows.find(info.id);
        std::string place = in_ws != ws_flows.end() ? where + " (" + in_ws->second.path + ")"
                                                    : "draft '" + draft + "' (" + draft_flows.at(info.id).path + ")";
        problems.push_back({info.path, "", "import/id-collision",
                            "flow '" + info.id + "' already exists in " + place + "; use --override " + info.id +
                                ", --as-new, or leave it out with --flows",
                            info.id});
      }
    } else if (request.mode == Mode::kOverride) {
      final_id = request.override_flow;
    } else if (request.mode == Mode::kOverrideExisting) {
      const FlowLocation* location = Find(draft_flows, info.id);
      if (!location) location = Find(ws_flows, info.id);
      if (location) replaced_at[info.id] = *location;
    } else {
      if (!request.new_id.empty() && chosen.size() == 1) {
        final_id = request.new_id;
        if (taken.count(final_id)) {
          problems.push_back(
              {info.path, "", "import/id-collision", "flow '" + final_id + "' already exists in " + where, info.id});
        }
      } else {
        final_id = UniqueId(info.id, taken);
      }
      taken.insert(final_id);
      std::string name =
          !request.new_name.empty() && chosen.size() == 1 ? request.new_name : UniqueName(info.name, names_taken);
      names_taken.insert(name);
      new_names[info.id] = name;
    }
    rename[info.id] = final_id;
  }

  // Each flow as it will be written, planned on all cores, each holding
  // what its documents can take parsed while it is planned.
  const std::map<std::string, Replaced> replaced = ReadReplaced(store, replaced_at);
  std::atomic<std::uint64_t> canonical_total{0};
  PlanContext context{request, rename, new_names, replaced, target_topics, where, canonical_total};
  std::vector<FlowPlan> plans(chosen.size());
  MemoryBudget budget(static_cast<std::size_t>(std::min<std::uint64_t>(request.limits.parse_budget(), SIZE_MAX)));
  ParallelFor(chosen.size(), [&](std::size_t k, std::size_t) {
    PackagedFlow& pf = loaded.flows[chosen[k]];
    if (!pf.valid) return;  // its problems are listed already
    std::size_t need = 0;
    for (const std::string* text : {&pf.flow.app_definition, &pf.flow.flow_definition, &pf.flow.env_variables}) {
      need = std::min<std::size_t>(SIZE_MAX / 2, need + MaxParsedBytes(text->size()));
    }
    MemoryBudget::Lease lease = budget.Acquire(need);
    plans[k] = PlanFlow(manifest.flows[chosen[k]], pf, lease.bytes(), context);
  });
  std::vector<Flow> finals;
  std::vector<ImportedFlow> planned;
  std::map<std::string, std::set<std::string>> component_users;
  std::set<std::string> used_mappings;
  std::vector<std::vector<SubflowRef>> subflow_refs;  // parallel to finals
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    FlowPlan& plan = plans[k];
    for (auto& p : plan.problems) problems.push_back(std::move(p));
    if (!plan.planned) continue;
    for (const auto& c : plan.components) component_users[c].insert(manifest.flows[chosen[k]].id);
    used_mappings.insert(plan.used_mappings.begin(), plan.used_mappings.end());
    subflow_refs.push_back(std::move(plan.subflows));
    finals.push_back(std::move(plan.final));
    planned.push_back(std::move(plan.out));
  }
  std::vector<FlowPlan>().swap(plans);
  std::vector<std::string> undeclared;
  for (const auto& [component, users] : component_users) {
    if (available.HasComponent(component)) continue;
    undeclared.push_back(component);
    if (!request.declare_components) {
      problem(label, "import/missing-component",
              "component '" + component + "' (used by " + Quoted(std::vector<std::string>(users.begin(), users.end())) +
                  ") is not available in " + where + "; declare it with --declare-components");
    }
  }
  for (const auto& [src, dst] : request.topics) {
    if (!used_mappings.count(src)) {
      problem(label, "import/topic-mapping",
              "--topic " + src + "=" + dst + ": no imported flow uses topic '" + src + "'");
    }
  }
  std::set<std::string> ids_after;
  for (const auto& [id, loc] : draft_flows) ids_after.insert(id);
  for (const auto& f : finals) ids_after.insert(f.summary.id);
  // Each flow was validated on its own when the package was read, and what
  // import changes (ids, names, topics, bindings removed) keeps it valid;
  // what remains is that its subflows exist where it will live.
  for (std::size_t k = 0; k < finals.size(); ++k) {
    const std::string def_file = finals[k].summary.path() + "/" + std::string(kFlowDefinitionFile);
    for (const auto& ref : subflow_refs[k]) {
      if (ref.flow.empty() || ids_after.count(ref.flow)) continue;
      problems.push_back({def_file, ref.pointer, "missing-subflow",
                          "node '" + ref.node + "' uses flow '" + ref.flow + "', which does not exist in " + where +
                              " nor in the package"});
    }
  }
  CheckLayout(finals, draft_flows, target.head ? "draft '" + draft + "'" : where, problems);
  {
    // Groups and flow folders that would clash with others of their folder
    // on the draft (flow/names.h); the package's own clashes were reported
    // when it was read.
    std::vector<FlowSummary> written;
    for (const Flow& flow : finals) written.push_back(flow.summary);
    for (const auto& clash : ClashesOfWrite(draft_flows, written)) {
      problems.push_back(NameClashProblem(clash));
    }
  }
  if (chosen.empty() && problems.empty()) problem(label, "import/flows", "the package has no flows");

  if (!problems.empty()) {
    // One problem is named in the one-line message; several are listed.
    const std::string refused = "import of '" + Printable(label) + "' refused: ";
    if (problems.size() == 1) {
      const std::string message = refused + problems[0].ToString() + "; " + where + " unchanged";
      throw Error::Listing(ErrorCode::kInvalidData, message, std::move(problems), Error::Lines::kInMessage);
    }
    const std::string message = refused + std::to_string(problems.size()) + " problem(s); " + where + " unchanged";
    throw Error::Listing(ErrorCode::kInvalidData, message, std::move(problems));
  }

  ImportPlan plan;
  ImportResult& result = plan.result;
  result.package = label;
  result.workspace = ws;
  result.draft = draft;
  result.dry_run = request.dry_run;
  result.created_draft = !target.head;
  result.source_workspace = manifest.workspace;
  result.source_commit = manifest.commit;
  result.flows = std::move(planned);
  if (request.declare_components) result.declared_components = std::move(undeclared);
  plan.finals = std::move(finals);
  return plan;
}

ImportResult ImportLoaded(FlowRepository& repo, LoadedPackage&& loaded, const ImportRequest& request,
                          const std::string& label, const std::string& default_draft) {
  ImportPlan plan = PlanImport(ImplOf(repo), std::move(loaded), request, label, default_draft);
  ImportResult& result = plan.result;
  if (request.dry_run) return result;
  // The declaration first, on the same draft: the flows' commit that
  // follows needs them, and a failed write leaves a draft that only
  // declares (publishing it alone changes no flow).
  if (!result.declared_components.empty()) {
    ImplOf(repo).EditSettingsList(result.workspace, result.draft, SettingsList::kComponents, result.declared_components,
                                  {});
  }
  WriteResult written =
      repo.PutFlows(result.workspace, result.draft, std::move(plan.finals), "import",
                    FlowRepository::GroupChoice::kAsGiven, FlowRepository::DocumentForm::kAlreadyCanonical);
  result.commit = written.draft.commit;
  result.created_draft = written.created_draft;
  return result;
}

}  // namespace

ImportResult ImportPackage(FlowRepository& repo, const ImportRequest& request) {
  ImplOf(repo).RequireRole(request.workspace, Role::kIntegrator);
  LoadedPackage loaded = LoadPackage(request.package, request.limits);
  return ImportLoaded(repo, std::move(loaded), request, request.package,
                      DraftNameFrom("import-", fs::path(request.package).stem().string()));
}

ImportResult CopyToWorkspace(FlowRepository& repo, const ExportRequest& source, const ImportRequest& target) {
  ImplOf(repo).RequireRole(target.workspace, Role::kIntegrator);
  BuiltPackage built = BuildPackage(ImplOf(repo), source, RetainText::kAll, ImplOf(repo).store.git_dir());
  std::map<std::string, std::string> entries;
  entries.emplace(std::string(kManifestName), std::move(built.manifest_text));
  for (auto& flow : built.flows) {
    for (auto& file : flow.files) {
      entries.emplace(flow.path + "/" + std::string(FileNameOf(file.kind)), std::move(file.kept));
    }
  }
  const std::string label = "workspace '" + source.workspace + "'";
  LoadedPackage loaded = CheckPackage(label, std::move(entries), target.limits);
  std::string what = source.selection.size() == 1 ? source.selection[0] : "flows";
  return ImportLoaded(repo, std::move(loaded), target, label,
                      DraftNameFrom("copy-", what + " from " + source.workspace));
}

}  // namespace flowrepo
