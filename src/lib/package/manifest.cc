#include "package/manifest.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "escape.h"
#include "flow/names.h"
#include "flowrepo/flow.h"
#include "parallel.h"
#include "repo/layout.h"

namespace flowrepo {
namespace {

constexpr std::string_view kRule = "package/manifest";

bool IsFlowFile(std::string_view file) {
  return file == kFlowDefinitionFile || file == kAppDefinitionFile || file == kEnvVariablesFile;
}

std::string CheckPart(std::string_view part) {
  if (part.empty()) return "has an empty path part (directory entries are not allowed)";
  if (part == "." || part == "..") return "has a '" + std::string(part) + "' path part";
  if (part[0] == '.') return "has a hidden path part '" + Printable(part) + "'";
  if (part.back() == '.' || part.back() == ' ') return "has a path part ending in a dot or space";
  if (FoldCase(part) == "git~1") return "has a path part that names .git on Windows";
  if (IsWindowsDeviceName(part)) return "has a Windows device name '" + Printable(part) + "'";
  if (std::string why = CharacterProblem(part); !why.empty()) return why;
  return {};
}

// ---- JSON reading with problems -------------------------------------------

class ManifestReader {
 public:
  explicit ManifestReader(std::vector<Problem>& problems) : problems_(problems) {}

  void Add(const std::string& pointer, const std::string& message) {
    problems_.push_back({std::string(kManifestName), pointer, std::string(kRule), message});
  }
  const Json* Field(const Json& obj, const std::string& at, const char* key, Json::value_t type, bool required = true) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) Add(at + "/" + key, std::string("required field '") + key + "' is missing");
      return nullptr;
    }
    bool ok = it->type() == type || (type == Json::value_t::number_unsigned && it->is_number_integer() && *it >= 0);
    if (!ok) {
      Add(at + "/" + key, std::string("field '") + key + "' has the wrong type");
      return nullptr;
    }
    return &*it;
  }
  std::string String(const Json& obj, const std::string& at, const char* key, bool required = true) {
    const Json* v = Field(obj, at, key, Json::value_t::string, required);
    return v ? v->get<std::string>() : std::string();
  }
  std::vector<std::string> Strings(const Json& obj, const std::string& at, const char* key, bool required = true) {
    std::vector<std::string> out;
    const Json* v = Field(obj, at, key, Json::value_t::array, required);
    if (!v) return out;
    for (std::size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) {
        Add(at + "/" + key + "/" + std::to_string(i), "expected a string");
        continue;
      }
      out.push_back((*v)[i].get<std::string>());
    }
    return out;
  }
  FlowRequirements Requirements(const Json& obj, const std::string& at, bool with_flow) {
    FlowRequirements r;
    r.components = Strings(obj, at, "components");
    r.topics = Strings(obj, at, "topics");
    if (const Json* creds = Field(obj, at, "credentials", Json::value_t::array)) {
      for (std::size_t i = 0; i < creds->size(); ++i) {
        std::string item = at + "/credentials/" + std::to_string(i);
        CredentialRequirement c;
        if (with_flow) c.flow = String((*creds)[i], item, "flow");
        c.node = String((*creds)[i], item, "node");
        c.type = String((*creds)[i], item, "type");
        r.credentials.push_back(std::move(c));
      }
    }
    if (const Json* env = Field(obj, at, "env_variables", Json::value_t::array)) {
      for (std::size_t i = 0; i < env->size(); ++i) {
        std::string item = at + "/env_variables/" + std::to_string(i);
        EnvRequirement e;
        if (with_flow) e.flow = String((*env)[i], item, "flow");
        e.name = String((*env)[i], item, "name");
        if (const Json* s = Field((*env)[i], item, "secret", Json::value_t::boolean)) e.secret = *s;
        r.env_variables.push_back(std::move(e));
      }
    }
    return r;
  }

 private:
  std::vector<Problem>& problems_;
};

Json RequirementsToJson(const FlowRequirements& r, bool with_flow) {
  Json creds = Json::array();
  for (const auto& c : r.credentials) {
    Json item = {{"node", c.node}, {"type", c.type}};
    if (with_flow) item["flow"] = c.flow;
    creds.push_back(std::move(item));
  }
  Json env = Json::array();
  for (const auto& e : r.env_variables) {
    Json item = {{"name", e.name}, {"secret", e.secret}};
    if (with_flow) item["flow"] = e.flow;
    env.push_back(std::move(item));
  }
  return {{"components", r.components},
          {"topics", r.topics},
          {"credentials", std::move(creds)},
          {"env_variables", std::move(env)}};
}

}  // namespace

Json GroupTree(const std::vector<FlowInGroup>& flows) {
  Json root = {{"flows", Json::array()}, {"groups", Json::object()}};
  for (const auto& f : flows) {
    Json* node = &root;
    std::size_t start = 0;
    while (!f.group.empty() && start <= f.group.size()) {
      std::size_t end = f.group.find('/', start);
      if (end == std::string::npos) end = f.group.size();
      std::string part(f.group.substr(start, end - start));
      Json& groups = (*node)["groups"];
      if (!groups.contains(part)) groups[part] = {{"flows", Json::array()}, {"groups", Json::object()}};
      node = &groups[part];
      start = end + 1;
    }
    (*node)["flows"].push_back(std::string(f.id));
  }
  return root;
}

Json GroupTree(const std::vector<PackageFlowInfo>& flows) {
  std::vector<FlowInGroup> in_groups;
  in_groups.reserve(flows.size());
  for (const auto& f : flows) in_groups.push_back({f.id, f.group});
  return GroupTree(in_groups);
}

namespace {

// Walks a group tree, collecting "group -> flow ids"; false when malformed.
bool ReadGroupTree(const Json& node, const std::string& path, int depth,
                   std::map<std::string, std::set<std::string>>& out) {
  if (depth > 64 || !node.is_object() || !node.contains("flows") || !node["flows"].is_array() ||
      !node.contains("groups") || !node["groups"].is_object()) {
    return false;
  }
  auto& ids = out[path];
  for (const auto& id : node["flows"]) {
    if (!id.is_string()) return false;
    ids.insert(id.get<std::string>());
  }
  for (const auto& [name, child] : node["groups"].items()) {
    if (!ReadGroupTree(child, path.empty() ? name : path + "/" + name, depth + 1, out)) return false;
  }
  return true;
}

// One entry of the manifest's flows array, at \a at; \a ids collects the
// ids seen so far, to report one listed twice.
PackageFlowInfo ReadFlowEntry(ManifestReader& r, const Json& f, const std::string& at, std::set<std::string>& ids) {
  PackageFlowInfo info;
  info.id = r.String(f, at, "id");
  info.name = r.String(f, at, "name");
  info.group = r.String(f, at, "group");
  info.format = r.String(f, at, "format");
  info.path = r.String(f, at, "path");
  info.commit = r.String(f, at, "commit");
  if (const Json* dep = r.Field(f, at, "dependency", Json::value_t::boolean, false)) {
    info.dependency = *dep;
  }
  if (f.contains("version") && !f["version"].is_null()) {
    if (f["version"].is_number_integer() && f["version"] > 0 && f["version"] < 1000000000) {
      info.version = f["version"].get<int>();
    } else {
      r.Add(at + "/version", "version must be a positive integer or null");
    }
  }
  bool usable = true;  // id and group valid: the path can be checked
  if (!IsValidId(info.id)) {
    r.Add(at + "/id", "invalid flow id '" + Printable(info.id) + "'");
    usable = false;
  } else if (!ids.insert(info.id).second) {
    r.Add(at + "/id", "flow '" + info.id + "' is listed twice");
  }
  if (std::string why = GroupProblem(info.group); !why.empty()) {
    r.Add(at + "/group", "invalid group '" + Printable(info.group) + "': " + why);
    usable = false;
  }
  FlowSummary summary{info.id, info.name, info.group, info.format};
  if (usable && info.path != summary.path()) {
    r.Add(at + "/path",
          "path '" + Printable(info.path) + "' does not match group and id ('" + Printable(summary.path()) + "')");
  }
  if (const Json* files = r.Field(f, at, "files", Json::value_t::object)) {
    for (const auto& [name, file] : files->items()) {
      std::string file_at = at + "/files/" + name;
      if (!IsFlowFile(name)) {
        r.Add(file_at, "unknown file '" + Printable(name) + "'");
        continue;
      }
      PackageFileInfo fi;
      fi.name = name;
      fi.sha256 = r.String(file, file_at, "sha256");
      if (fi.sha256.size() != 64 || fi.sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
        r.Add(file_at + "/sha256", "sha256 must be 64 lower-case hex digits");
      }
      if (const Json* size = r.Field(file, file_at, "size", Json::value_t::number_unsigned)) {
        fi.size = size->get<std::uint64_t>();
      }
      info.files.push_back(std::move(fi));
    }
    for (std::string_view required : {kAppDefinitionFile, kFlowDefinitionFile}) {
      if (!files->contains(required)) {
        r.Add(at + "/files", "flow '" + Printable(info.id) + "' lists no " + std::string(required));
      }
    }
  }
  if (const Json* deps = r.Field(f, at, "dependencies", Json::value_t::array)) {
    for (std::size_t k = 0; k < deps->size(); ++k) {
      std::string dep_at = at + "/dependencies/" + std::to_string(k);
      FlowDependency d;
      d.flow = r.String((*deps)[k], dep_at, "flow");
      d.node = r.String((*deps)[k], dep_at, "node");
      if (const Json* inc = r.Field((*deps)[k], dep_at, "included", Json::value_t::boolean)) {
        d.included = *inc;
      }
      info.dependencies.push_back(std::move(d));
    }
  }
  if (const Json* req = r.Field(f, at, "requirements", Json::value_t::object)) {
    info.requirements = r.Requirements(*req, at + "/requirements", false);
  }
  return info;
}

}  // namespace

std::string EntryName::folder() const { return std::string(kFlowsDir) + "/" + (group.empty() ? "" : group + "/") + id; }

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string Printable(std::string_view text) {
  bool utf8 = IsValidUtf8(text);
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= 200) {
      out += "...";
      break;
    }
    if (c < 0x20 || c == 0x7f || c == '\\' || (c >= 0x80 && !utf8)) {
      AppendHexEscaped(out, c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string FoldCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<EntryName> ParseEntryName(std::string_view name, const PackageLimits& limits, std::string& why) {
  auto fail = [&](std::string reason) -> std::optional<EntryName> {
    why = "entry name " + std::move(reason);
    return std::nullopt;
  };
  if (name.empty()) return fail("is empty");
  if (name.size() > limits.max_name_bytes) {
    return fail("is longer than " + std::to_string(limits.max_name_bytes) + " bytes");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return fail("has a control character");
  }
  if (!IsValidUtf8(name)) return fail("is not valid UTF-8");
  if (name.find('\\') != std::string_view::npos) return fail("has a backslash");
  if (name[0] == '/') return fail("is absolute");
  if (name.find(':') != std::string_view::npos) return fail("has a ':' (drive or stream name)");
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = name.find('/', start);
    parts.push_back(name.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  // flows/<group...>/<id>/<file>: the group depth limit, checked before
  // any part is looked at.
  if (parts.size() > kMaxGroupDepth + 3) {
    return fail("is deeper than " + std::to_string(kMaxGroupDepth + 3) + " folders (groups at most " +
                std::to_string(kMaxGroupDepth) + " deep)");
  }
  for (std::string_view part : parts) {
    std::string problem = CheckPart(part);
    if (!problem.empty()) return fail(problem);
  }
  EntryName entry;
  if (name == kManifestName) {
    entry.manifest = true;
    return entry;
  }
  const char* allowed =
      "is not allowed: a package holds manifest.json and "
      "flows/<group>/<flow-id>/{flow_definition,app_definition,env_variables}.json only";
  if (parts.size() < 3 || parts[0] != kFlowsDir || !IsFlowFile(parts.back())) return fail(allowed);
  entry.file = std::string(parts.back());
  entry.id = std::string(parts[parts.size() - 2]);
  if (!IsValidId(entry.id)) return fail("has an invalid flow id '" + Printable(entry.id) + "'");
  for (std::size_t i = 1; i + 2 < parts.size(); ++i) {
    if (!entry.group.empty()) entry.group += "/";
    entry.group += std::string(parts[i]);
  }
  if (std::string bad = GroupProblem(entry.group); !bad.empty()) {
    return fail("has an invalid group '" + Printable(entry.group) + "': " + bad);
  }
  return entry;
}

std::vector<std::string> AllGroups(const std::vector<PackageFlowInfo>& flows) {
  std::set<std::string> groups;
  for (const auto& f : flows) {
    if (f.group.empty()) continue;
    for (std::size_t pos = 0;; ++pos) {
      pos = f.group.find('/', pos);
      groups.insert(f.group.substr(0, pos));
      if (pos == std::string::npos) break;
    }
  }
  return {groups.begin(), groups.end()};
}

Json FlowToJson(const PackageFlowInfo& f) {
  Json files = Json::object();
  for (const auto& file : f.files) files[file.name] = {{"sha256", file.sha256}, {"size", file.size}};
  Json deps = Json::array();
  for (const auto& d : f.dependencies) {
    deps.push_back({{"flow", d.flow}, {"node", d.node}, {"included", d.included}});
  }
  return {{"id", f.id},
          {"name", f.name},
          {"group", f.group},
          {"format", f.format},
          {"path", f.path},
          {"version", f.version ? Json(*f.version) : Json()},
          {"commit", f.commit},
          {"dependency", f.dependency},
          {"files", std::move(files)},
          {"dependencies", std::move(deps)},
          {"requirements", RequirementsToJson(f.requirements, false)}};
}

namespace {

// Everything but the flows array and the flow-tagged requirement lists,
// which hold the values given.
Json ManifestHead(const PackageManifest& m, Json flows, Json groups, Json credentials, Json env) {
  Json requirements = RequirementsToJson(m.requirements, true);
  requirements["credentials"] = std::move(credentials);
  requirements["env_variables"] = std::move(env);
  requirements["flows"] = m.required_flows;
  return {{"schema", m.schema},
          {"tool", {{"name", "flowrepo"}, {"version", m.tool_version}}},
          {"source", {{"workspace", m.workspace}, {"commit", m.commit}}},
          {"export",
           {{"selection", m.selection},
            {"exclude", m.exclude},
            {"all", m.all},
            {"dependencies", m.dependency_policy},
            {"version", m.version ? Json(*m.version) : Json()}}},
          {"flows", std::move(flows)},
          {"groups", std::move(groups)},
          {"requirements", std::move(requirements)}};
}

// Writes the items of one array of the canonical document, nested \a depth
// levels deep (dump(2) indents them by two spaces a level), made a block of
// flows at a time on all cores. \a items_of(i) gives flow i's items.
void WriteArray(std::size_t flows, const std::function<std::vector<Json>(std::size_t)>& items_of,
                const std::string& pointer, int depth,
                const std::function<void(const Json&, const std::string&)>& visit,
                const std::function<void(std::string_view, bool)>& sink) {
  constexpr std::size_t kBlock = 1024;
  const std::string indent(2 * static_cast<std::size_t>(depth), ' ');
  std::size_t written = 0;  // items so far: their index in the array
  for (std::size_t begin = 0; begin < flows; begin += kBlock) {
    std::size_t end = std::min(begin + kBlock, flows);
    std::vector<std::vector<Json>> items(end - begin);
    ParallelFor(items.size(), [&](std::size_t k, std::size_t) { items[k] = items_of(begin + k); });
    std::vector<std::size_t> first(items.size());
    for (std::size_t k = 0; k < items.size(); ++k) {
      first[k] = written;
      written += items[k].size();
    }
    std::vector<std::string> parts(items.size());
    ParallelFor(items.size(), [&](std::size_t k, std::size_t) {
      std::string& part = parts[k];
      for (std::size_t j = 0; j < items[k].size(); ++j) {
        const std::size_t index = first[k] + j;
        visit(items[k][j], pointer + "/" + std::to_string(index));
        std::string dumped = items[k][j].dump(2, ' ', false, Json::error_handler_t::strict);
        part.reserve(part.size() + dumped.size() + dumped.size() / 8);
        part += index == 0 ? "\n" : ",\n";
        part += indent;
        for (char c : dumped) {
          part += c;
          if (c == '\n') part += indent;
        }
      }
      items[k].clear();
    });
    std::string block;
    for (const auto& part : parts) block += part;
    sink(block, false);
  }
  sink(written == 0 ? "]" : "\n" + indent.substr(2) + "]", false);
}

}  // namespace

Json ManifestToJson(const PackageManifest& m) {
  Json flows = Json::array();
  for (const auto& f : m.flows) flows.push_back(FlowToJson(f));
  Json requirements = RequirementsToJson(m.requirements, true);
  return ManifestHead(m, std::move(flows), GroupTree(m.flows), std::move(requirements["credentials"]),
                      std::move(requirements["env_variables"]));
}

void WriteManifestText(ManifestSource source, const std::function<void(const Json&, const std::string&)>& visit,
                       const std::function<void(std::string_view chunk, bool last)>& sink) {
  // The head is written with placeholders for the three long arrays; each
  // is then written item by item where its placeholder was, so the text
  // equals CanonicalJson of the whole document without ever holding it.
  struct Streamed {
    std::string placeholder;
    std::string pointer;
    int depth;
    const std::function<std::vector<Json>(std::size_t)>* items_of;
  };
  std::function<std::vector<Json>(std::size_t)> flow_items = [&](std::size_t i) {
    return std::vector<Json>{source.flow(i)};
  };
  const Streamed streamed[] = {{"\x01flows\x01", "/flows", 2, &flow_items},
                               {"\x01credentials\x01", "/requirements/credentials", 3, &source.credentials},
                               {"\x01env_variables\x01", "/requirements/env_variables", 3, &source.env_variables}};
  std::string text;
  {
    const Json head = ManifestHead(source.head, streamed[0].placeholder, std::move(source.groups),
                                   streamed[1].placeholder, streamed[2].placeholder);
    visit(head, "");
    text = CanonicalJson(head);
  }  // the group tree holds every flow id: gone before the long arrays
  std::size_t from = 0;
  for (const Streamed& array : streamed) {
    const std::string quoted = Json(array.placeholder).dump();
    const std::size_t at = text.find(quoted, from);
    sink(std::string_view(text).substr(from, at - from), false);
    sink("[", false);
    WriteArray(source.flow_count, *array.items_of, array.pointer, array.depth, visit, sink);
    from = at + quoted.size();
  }
  sink(std::string_view(text).substr(from), true);
}

PackageFlowInfo FlowFromJson(const Json& flow) {
  std::vector<Problem> ignored;
  ManifestReader reader(ignored);
  std::set<std::string> ids;
  return ReadFlowEntry(reader, flow, "", ids);
}

PackageManifest ManifestFromJson(const Json& doc, std::vector<Problem>& problems) {
  ManifestReader r(problems);
  PackageManifest m;
  if (!doc.is_object()) {
    r.Add("", "manifest must be a JSON object");
    return m;
  }
  m.schema = r.String(doc, "", "schema");
  if (const Json* tool = r.Field(doc, "", "tool", Json::value_t::object)) {
    m.tool_version = r.String(*tool, "/tool", "version");
  }
  if (const Json* source = r.Field(doc, "", "source", Json::value_t::object)) {
    m.workspace = r.String(*source, "/source", "workspace");
    m.commit = r.String(*source, "/source", "commit");
  }
  if (const Json* ex = r.Field(doc, "", "export", Json::value_t::object)) {
    m.selection = r.Strings(*ex, "/export", "selection");
    m.exclude = r.Strings(*ex, "/export", "exclude");
    if (const Json* all = r.Field(*ex, "/export", "all", Json::value_t::boolean)) m.all = *all;
    m.dependency_policy = r.String(*ex, "/export", "dependencies");
    if (ex->contains("version") && (*ex)["version"].is_number_integer()) {
      m.version = (*ex)["version"].get<int>();
    }
  }
  std::set<std::string> ids;
  if (const Json* flows = r.Field(doc, "", "flows", Json::value_t::array)) {
    for (std::size_t i = 0; i < flows->size(); ++i) {
      const Json& f = (*flows)[i];
      std::string at = "/flows/" + std::to_string(i);
      if (!f.is_object()) {
        r.Add(at, "flow entry must be an object");
        continue;
      }
      m.flows.push_back(ReadFlowEntry(r, f, at, ids));
    }
  }
  if (const Json* req = r.Field(doc, "", "requirements", Json::value_t::object)) {
    m.requirements = r.Requirements(*req, "/requirements", true);
    m.required_flows = r.Strings(*req, "/requirements", "flows");
  }
  m.groups = AllGroups(m.flows);
  // Groups (or a group and a flow folder) of one folder whose names clash
  // (flow/names.h): no repository could hold them both.
  std::vector<FlowPlace> places;
  for (const auto& f : m.flows) {
    if (IsValidId(f.id) && IsValidGroup(f.group)) places.push_back({f.group, f.id});
  }
  for (const auto& clash : FindNameClashes({}, places)) {
    problems.push_back({std::string(kManifestName), "/groups", "name-clash", clash.Message()});
  }
  if (const Json* tree = r.Field(doc, "", "groups", Json::value_t::object)) {
    std::map<std::string, std::set<std::string>> listed;
    if (!ReadGroupTree(*tree, "", 0, listed)) {
      r.Add("/groups", "group tree is malformed");
    } else {
      for (const auto& f : m.flows) {
        if (!IsValidId(f.id) || !IsValidGroup(f.group)) continue;  // reported above
        auto it = listed.find(f.group);
        if (it == listed.end() || !it->second.count(f.id)) {
          r.Add("/groups",
                "group tree does not list flow '" + Printable(f.id) + "' in group '" + Printable(f.group) + "'");
        }
      }
    }
  }
  return m;
}

}  // namespace flowrepo
