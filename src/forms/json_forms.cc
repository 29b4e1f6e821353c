#include "forms/json_forms.h"

namespace flowrepo::forms {
namespace {

// A change's side: compact JSON, or text that is not JSON (a group path),
// kept as a string so that the document stays valid JSON.
Json AsJson(const std::string& side) {
  Json parsed = Json::parse(side, nullptr, false);
  return parsed.is_discarded() ? Json(side) : parsed;
}

Json TextOrNull(const std::string& s) { return s.empty() ? Json() : Json(s); }

// The flow a problem's file belongs to: the folder holding one of a flow's
// documents ("flows/Finance/kyc-check/flow_definition.json": "kyc-check").
std::string FlowOfFile(const std::string& file) {
  const auto slash = file.rfind('/');
  if (slash == std::string::npos || slash == 0) return "";
  const std::string name = file.substr(slash + 1);
  if (name != "app_definition.json" && name != "flow_definition.json" && name != "env_variables.json") return "";
  const auto parent = file.rfind('/', slash - 1);
  return file.substr(parent == std::string::npos ? 0 : parent + 1,
                     slash - (parent == std::string::npos ? 0 : parent + 1));
}

}  // namespace

Json RenamedJson(const std::vector<std::pair<std::string, std::string>>& renamed) {
  Json out = Json::array();
  for (const auto& [from, to] : renamed) out.push_back({{"from", from}, {"to", to}});
  return out;
}

Json ToJson(const DraftInfo& d) {
  Json out = {{"workspace", d.workspace},
              {"name", d.name},
              {"ref", d.ref},
              {"commit", d.commit},
              {"base", d.base},
              {"changed_flows", d.changed_flows},
              {"removed_flows", d.removed_flows},
              {"renamed", RenamedJson(d.renamed)}};
  AddSettingsChanges(out, d.settings_changes);
  return out;
}

Json ToJson(const SettingsChange& c) {
  return {{"kind", SettingsChangeKindName(c.kind)}, {"key", c.key},         {"before", TextOrNull(c.before)},
          {"after", TextOrNull(c.after)},           {"message", c.message}, {"needs_admin", c.needs_admin}};
}

Json ToJson(const Removal& r) {
  return {{"commit", r.commit},
          {"author", r.author},
          {"time", r.time},
          {"note", r.note},
          {"renamed_to", TextOrNull(r.renamed_to)}};
}

void AddSettingsChanges(Json& out, const std::vector<SettingsChange>& changes) {
  Json list = Json::array();
  bool role_changes = false;
  for (const auto& c : changes) {
    list.push_back(ToJson(c));
    role_changes |= c.needs_admin;
  }
  out["settings_changes"] = std::move(list);
  out["role_changes"] = role_changes;
}

Json ToJson(const WriteResult& w) {
  return {{"draft", ToJson(w.draft)}, {"flows", w.flows}, {"created_draft", w.created_draft}};
}

Json ToJson(const FlowSummary& s) {
  return {{"id", s.id}, {"name", s.name}, {"group", s.group}, {"format", s.format}, {"path", s.path()}};
}

Json ToJson(const Version& v) {
  return {{"flow", v.flow},     {"version", v.number}, {"tag", v.tag},  {"commit", v.commit},
          {"author", v.author}, {"time", v.time},      {"note", v.note}};
}

Json ToJson(const WorkspaceInfo& ws) { return {{"name", ws.name}, {"commit", ws.commit}, {"flows", ws.flow_count}}; }

Json CreatedJson(const WorkspaceInfo& ws) {
  Json out = ToJson(ws);
  out["completed_earlier_create"] = ws.completed_earlier_create;
  return out;
}

Json FlowJson(const Flow& flow, const std::string& only_file) {
  const std::pair<const char*, const std::string*> docs[] = {{"app_definition.json", &flow.app_definition},
                                                             {"flow_definition.json", &flow.flow_definition},
                                                             {"env_variables.json", &flow.env_variables}};
  Json out = ToJson(flow.summary);
  out["files"] = Json::object();
  for (const auto& [name, text] : docs) {
    if (!only_file.empty() && name != only_file) continue;
    out["files"][name] = text->empty() ? Json() : Json::parse(*text);
  }
  return out;
}

Json ToJson(const History& h) {
  Json versions = Json::array();
  for (const auto& v : h.versions) versions.push_back(ToJson(v));
  Json removed = Json::array();
  for (const auto& r : h.removed) removed.push_back(ToJson(r));
  return {{"workspace", h.workspace}, {"flow", h.flow},     {"versions", versions},
          {"removed", removed},       {"drafts", h.drafts}, {"ignored_tags", h.ignored_tags}};
}

const char* ChangeKindName(Change::Kind kind) {
  switch (kind) {
    case Change::Kind::kAdded: return "added";
    case Change::Kind::kRemoved: return "removed";
    case Change::Kind::kChanged: return "changed";
  }
  return "changed";
}

Json ToJson(const FlowDiff& d) {
  Json changes = Json::array();
  for (const auto& c : d.changes) {
    Json j = {{"kind", ChangeKindName(c.kind)}, {"file", c.file}, {"pointer", c.pointer}};
    if (!c.node.empty()) j["node"] = c.node;
    if (!c.before.empty()) j["before"] = AsJson(c.before);
    if (!c.after.empty()) j["after"] = AsJson(c.after);
    changes.push_back(j);
  }
  return {{"flow", d.flow}, {"from", d.from}, {"to", d.to}, {"changes", changes}};
}

Json ToJson(const PublishResult& r) {
  Json versions = Json::array();
  for (const auto& v : r.versions) versions.push_back(ToJson(v));
  Json out = {{"workspace", r.workspace},
              {"draft", r.draft},
              {"commit", r.commit},
              {"versions", versions},
              {"removed", r.removed},
              {"renamed", RenamedJson(r.renamed)},
              {"completed_earlier_publish", r.completed_earlier_publish},
              {"published_with_draft", TextOrNull(r.published_with_draft)},
              {"draft_kept_in", r.draft_kept_in},
              {"remote", TextOrNull(r.remote)},
              {"attempts", r.attempts},
              {"warnings", r.warnings}};
  AddSettingsChanges(out, r.settings_changes);
  return out;
}

Json RolesJson(const std::vector<RoleAssignment>& roles) {
  Json out = Json::array();
  for (const auto& r : roles) out.push_back({{"user", r.user}, {"role", RoleName(r.role)}});
  return out;
}

Json ToJson(const RoleChange& c) {
  return {{"workspace", c.workspace}, {"commit", c.commit}, {"changed", c.changed}, {"roles", RolesJson(c.roles)}};
}

Json ToJson(const PackageFlowInfo& f) {
  Json deps = Json::array();
  for (const auto& d : f.dependencies) {
    deps.push_back({{"flow", d.flow}, {"node", d.node}, {"included", d.included}});
  }
  return {{"id", f.id},          {"name", f.name},
          {"group", f.group},    {"format", f.format},
          {"path", f.path},      {"version", f.version ? Json(*f.version) : Json()},
          {"commit", f.commit},  {"dependency", f.dependency},
          {"dependencies", deps}};
}

Json ToJson(const ExportResult& r) {
  Json flows = Json::array();
  for (const auto& f : r.flows) flows.push_back(ToJson(f));
  return Json{{"path", r.path},
              {"workspace", r.workspace},
              {"commit", r.commit},
              {"bytes", r.bytes},
              {"sha256", r.sha256},
              {"flows", flows},
              {"included_dependencies", r.included_dependencies},
              {"referenced_dependencies", r.referenced_dependencies}};
}

Json ToJson(const ImportResult& r) {
  Json flows = Json::array();
  for (const auto& f : r.flows) {
    flows.push_back({{"source_id", f.source_id},
                     {"id", f.id},
                     {"name", f.name},
                     {"group", f.group},
                     {"action", f.action == ImportedFlow::Action::kAdded ? "added" : "overridden"},
                     {"unbound_credentials", f.unbound_credentials},
                     {"unbound_secrets", f.unbound_secrets},
                     {"topics", f.topics},
                     {"kept_env", f.kept_env},
                     {"overwritten_env", f.overwritten_env}});
  }
  return {{"package", r.package},
          {"workspace", r.workspace},
          {"draft", r.draft},
          {"dry_run", r.dry_run},
          {"created_draft", r.created_draft},
          {"commit", r.commit},
          {"source", {{"workspace", r.source_workspace}, {"commit", r.source_commit}}},
          {"declared_components", r.declared_components},
          {"flows", flows}};
}

Json UnboundJson(const std::string& draft, const std::vector<UnboundFlow>& flows) {
  std::map<std::string, int> by_type;
  Json out = Json::array();
  for (const auto& f : flows) {
    Json nodes = Json::array();
    for (const auto& n : f.credentials) {
      nodes.push_back({{"node", n.node}, {"type", n.type}, {"pointer", n.pointer}});
      ++by_type[n.type];
    }
    out.push_back({{"flow", f.flow}, {"path", f.path}, {"credentials", nodes}, {"secrets", f.secrets}});
  }
  Json types = Json::object();
  for (const auto& [type, count] : by_type) types[type] = count;
  return Json{{"draft", draft}, {"flows", out}, {"types", types}};
}

Json ErrorJson(const Error& e) {
  Json out = {{"error", {{"code", ErrorCodeName(e.code())}, {"message", e.what()}}}};
  if (!e.details().empty()) out["error"]["details"] = e.details();
  if (!e.problems().empty()) {
    Json problems = Json::array();
    for (const auto& p : e.problems()) {
      problems.push_back({{"flow", p.flow.empty() ? FlowOfFile(p.file) : p.flow},
                          {"file", p.file},
                          {"pointer", p.pointer},
                          {"rule", p.rule},
                          {"message", p.message}});
    }
    out["error"]["problems"] = std::move(problems);
  }
  return out;
}

std::string Dump(const Json& j) { return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n"; }

}  // namespace flowrepo::forms
