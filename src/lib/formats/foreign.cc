// From source documents to flows, and from flows back to source documents.
//
// A document is parsed once (ParseJson: depth and duplicate-key limits),
// recognised (or taken as the format asked for), checked whole by its
// format (pointers then name places in the source file) and scanned for
// secrets; only then is it named and, for a split Node-RED file, cut into
// tabs, subflows and shared config nodes. The definition stored is the
// document's JSON value; everything flowrepo adds goes to
// app_definition.json. Writing back (ForeignFiles) reverses the mapping:
// the stored value stripped, the parts of a split file concatenated.

#include "formats/foreign.h"

#include <algorithm>
#include <map>
#include <set>

#include "flow/names.h"
#include "flow/native_format.h"
#include "flowrepo/error.h"
#include "formats/format_util.h"
#include "formats/n8n_format.h"
#include "formats/node_red_format.h"
#include "parallel.h"
#include "validate/secrets.h"

namespace flowrepo {
namespace {

std::string BaseName(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Stem(const std::string& file_name) {
  std::string base = BaseName(file_name);
  if (base.size() > 5) {
    std::string ext = base.substr(base.size() - 5);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".json") base.resize(base.size() - 5);
  }
  return base;
}

// An id from the first of \a names that gives one, short enough for
// "-<n>" suffixes.
std::string IdBase(std::initializer_list<std::string> names, std::string_view fallback) {
  for (const auto& name : names) {
    std::string id = IdFromName(name);
    if (id.size() > 56) id.resize(56);
    while (!id.empty() && id.back() == '-') id.pop_back();
    if (IsValidId(id)) return id;
  }
  return std::string(fallback);
}

// A display name from a document's name: one line, without control or
// invisible characters (names.h), at most 200 bytes cut at a character
// boundary; empty when nothing fit for a display name remains. The
// document keeps its name as it is.
std::string CleanName(const std::string& name) {
  std::string out = WithoutHiddenCharacters(name);
  auto first = out.find_first_not_of(' ');
  out = first == std::string::npos ? std::string() : out.substr(first, out.find_last_not_of(' ') - first + 1);
  if (out.size() > 200) {
    std::size_t cut = 200;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return DisplayNameProblem(out).empty() ? out : std::string();
}

bool KeysLookQuoted(const Json& object) {
  if (object.empty()) return false;
  std::size_t quoted = 0;
  for (const auto& [key, value] : object.items()) {
    if (!key.empty() && key.front() == '"') ++quoted;
  }
  return quoted * 2 > object.size();
}

std::string JsonKind(const Json& doc) {
  switch (doc.type()) {
    case Json::value_t::string: return "a JSON string";
    case Json::value_t::boolean: return "a JSON boolean";
    case Json::value_t::null: return "JSON null";
    default: return "a JSON number";
  }
}

bool RecognizeNative(const Json& doc) {
  if (!doc.is_object() || doc.contains("connections")) return false;
  auto nodes = doc.find("nodes");
  if (nodes == doc.end() || !nodes->is_array()) return false;
  if (doc.contains("edges")) return true;
  if (nodes->empty()) return false;
  for (const auto& node : *nodes) {
    if (!NativeFormat::NodeTypes().count(StringOr(node, "type")) || StringOr(node, "id").empty()) {
      return false;
    }
  }
  return true;
}

// The format of \a doc, or why it is none.
struct Recognition {
  std::string format;
  std::string why_not;
};

Recognition Recognize(const Json& doc) {
  if (N8nFormat::Recognize(doc)) return {std::string(kN8nFormat), ""};
  if (NodeRedFormat::Recognize(doc)) return {std::string(kNodeRedFormat), ""};
  if (RecognizeNative(doc)) return {std::string(kNativeFormat), ""};
  if (doc.is_object()) {
    if (doc.empty()) return {"", "an empty JSON object"};
    if (KeysLookQuoted(doc)) {
      return {"",
              "its keys are quoted pieces of JSON text (\"\\\"nodes\\\"\"), not fields: a "
              "mangled export"};
    }
    if (doc.contains("nodes") && doc["nodes"].is_array()) {
      return {"",
              "an object with 'nodes' but neither a 'connections' object (n8n) nor "
              "'edges' (flowrepo)"};
    }
    return {"", "a JSON object without a 'nodes' array (n8n) that is not a Node-RED subflow"};
  }
  if (doc.is_array()) {
    if (doc.empty()) return {"", "an empty JSON array"};
    return {"",
            "a JSON array whose items are not all objects with string 'id' and 'type' "
            "(Node-RED nodes)"};
  }
  return {"", JsonKind(doc)};
}

// File paths, node and tab names in a refusal are what the user wrote: a
// secret there is masked.
RefusedFile Refusal(const std::string& file, std::string reason, std::string message,
                    std::vector<std::string> details = {}) {
  for (auto& d : details) d = MaskSecrets(d);
  return {MaskSecretsInPath(file), std::move(reason), MaskSecrets(message), std::move(details)};
}

std::string Detail(const Problem& p) {
  std::string out = p.pointer.empty() ? std::string("/") : p.pointer;
  out += ": " + p.message;
  if (!p.rule.empty()) out += " [" + p.rule + "]";
  return out;
}

// Refuses on \a problems: "invalid" when any is structural, else "secret".
std::optional<RefusedFile> RefuseOnProblems(const std::string& file, const std::string& what,
                                            const std::vector<Problem>& problems) {
  if (problems.empty()) return std::nullopt;
  bool structural = false;
  std::vector<std::string> details;
  std::vector<Problem> masked;
  for (Problem p : problems) {
    if (p.rule.rfind("secret", 0) != 0) structural = true;
    const bool same_file = p.file == file;
    MaskSecrets(p);
    details.push_back((same_file ? std::string() : p.file + ":") + Detail(p));
    p.file = same_file ? MaskSecretsInPath(file) : p.file;
    masked.push_back(std::move(p));
  }
  std::string first = problems.front().message;
  std::string message = structural
                            ? "invalid " + what + ": " + first +
                                  (problems.size() > 1 ? " (and " + std::to_string(problems.size() - 1) + " more)" : "")
                            : "plain-text secret in " + what + " (" + std::to_string(problems.size()) +
                                  " finding(s)); replace it with a credential or a secret reference";
  RefusedFile refused = Refusal(file, structural ? "invalid" : "secret", message, std::move(details));
  refused.problems = std::move(masked);
  return refused;
}

ForeignFlow MakeFlow(const std::string& format, const std::string& group, const std::string& name,
                     const std::string& id_base, const std::string& source_id, const std::string& description,
                     const std::string& file, const Json& definition) {
  ForeignFlow f;
  f.format = format;
  f.group = group;
  f.name = name;
  f.id_base = id_base;
  f.source_id = source_id;
  f.app = {{"name", name}, {"description", description}, {"format", format}};
  if (format != kNativeFormat) {
    f.app[std::string(kSourceIdField)] = source_id;
    f.app[std::string(kSourceFileField)] = BaseName(file);
  }
  f.definition = CanonicalJson(definition);
  const FlowFormat* handler = FindFormat(format);
  FlowFacts facts = handler->Facts(definition);
  for (auto& ref : facts.subflows) {
    if (ref.kind != SubflowRef::Kind::kFlow) f.refs.push_back(std::move(ref));
  }
  f.components = std::move(facts.components);
  if (format == kNodeRedFormat) {
    for (const auto& node : facts.nodes) f.node_ids.insert(node.key);
    if (definition.is_object()) f.node_ids.insert(StringOr(definition, "id"));
  }
  return f;
}

std::string NodeRedLabel(const Json& node, const char* field) {
  std::string label = StringOr(node, field);
  return label.empty() ? StringOr(node, "id") : label;
}

// One flow per tab, per subflow definition, and one for everything else
// (config nodes, and nodes of tabs missing from the file).
Conversion SplitNodeRed(const Json& doc, const std::string& file, const std::string& group) {
  Conversion out;
  std::string leaf = group.substr(group.find_last_of('/') + 1);
  std::map<std::string, std::size_t> part_of;  // tab or subflow id -> part
  struct Part {
    std::string kind;
    int order;
    const Json* head;
    Json nodes = Json::array();
  };
  std::vector<Part> parts;
  int tabs = 0, subflows = 0;
  for (const auto& node : doc) {
    std::string type = StringOr(node, "type");
    if (type == "tab" || type == "subflow") {
      bool tab = type == "tab";
      part_of.emplace(StringOr(node, "id"), parts.size());
      parts.push_back({tab ? "tab" : "subflow", tab ? tabs++ : subflows++, &node});
    }
  }
  Part config{"config", 0, nullptr};
  for (const auto& node : doc) {
    std::string id = StringOr(node, "id");
    std::string z = StringOr(node, "z");
    auto it = part_of.find(id);
    if (it == part_of.end() || parts[it->second].head != &node) it = part_of.find(z);
    (it == part_of.end() ? config : parts[it->second]).nodes.push_back(node);
  }
  if (!config.nodes.empty()) parts.push_back(std::move(config));
  // Tabs first, then subflows, then config: the order writing back uses.
  std::stable_sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) {
    auto rank = [](const std::string& k) { return k == "tab" ? 0 : k == "subflow" ? 1 : 2; };
    return rank(a.kind) < rank(b.kind);
  });
  // Config nodes are shared by id: a tab or subflow naming one in a
  // property uses the config flow.
  std::set<std::string> config_ids;
  for (const auto& part : parts) {
    if (part.kind != "config") continue;
    for (const auto& node : part.nodes) {
      if (NodeRedFormat::IsConfigNode(node)) config_ids.insert(StringOr(node, "id"));
    }
  }
  const NodeRedFormat format;
  for (const auto& part : parts) {
    std::string name, source_id, description;
    if (part.kind == "config") {
      name = leaf + " config nodes";
    } else {
      name = CleanName(NodeRedLabel(*part.head, part.kind == "tab" ? "label" : "name"));
      if (name.empty()) name = StringOr(*part.head, "id");
      source_id = StringOr(*part.head, "id");
      description = StringOr(*part.head, "info");
    }
    std::string what = part.kind == "config" ? std::string("config nodes") : part.kind + " '" + name + "'";
    std::vector<Problem> problems;
    format.Check(part.nodes, file + " (" + what + ")", problems);
    if (auto refused = RefuseOnProblems(file, what, problems)) {
      out.refused = std::move(refused);
      return out;
    }
    std::string id_base =
        IdBase({leaf + " " + (part.kind == "config" ? "config" : name)}, leaf.empty() ? "node-red-" + part.kind : leaf);
    ForeignFlow f =
        MakeFlow(std::string(kNodeRedFormat), group, name, id_base, source_id, description, file, part.nodes);
    f.app[std::string(kNodeRedPartField)] = {{"part", part.kind}, {"order", part.order}};
    if (part.kind != "config") {
      for (std::size_t i = 0; i < part.nodes.size(); ++i) {
        for (const auto& [key, value] : part.nodes[i].items()) {
          if (key == "id" || key == "z" || !value.is_string() || !config_ids.count(value.get<std::string>())) {
            continue;
          }
          f.refs.push_back({StringOr(part.nodes[i], "id"), "", "/" + std::to_string(i) + "/" + PointerToken(key),
                            value.get<std::string>(), SubflowRef::Kind::kForeign});
        }
      }
    }
    out.flows.push_back(std::move(f));
  }
  return out;
}

}  // namespace

std::vector<std::string> AddFormatNames() { return {"auto", "n8n", "node-red", "native"}; }

std::string NormalizeFormatName(std::string_view name) {
  if (name == "auto" || name.empty()) return "";
  if (name == "native" || name == kNativeFormat) return std::string(kNativeFormat);
  if (name == kN8nFormat || name == kNodeRedFormat) return std::string(name);
  throw Error(ErrorCode::kInvalidArgument,
              "unknown format '" + std::string(name) + "'; use auto, n8n, node-red or native");
}

std::string DetectFormat(std::string_view text, std::string_view source) {
  Json doc = ParseJson(text, source);
  Recognition r = Recognize(doc);
  if (r.format.empty()) {
    throw Error(ErrorCode::kInvalidData, std::string(source) + ": not a flow of any known format: " + r.why_not);
  }
  return r.format;
}

Conversion ConvertDocument(std::string_view text, const std::string& file, const DocumentOptions& options) {
  const std::string wanted = NormalizeFormatName(options.format);
  Conversion out;
  Json doc;
  try {
    doc = ParseJson(text, file);
  } catch (const Error& e) {
    out.refused = Refusal(file, "json", e.what());
    return out;
  }
  Recognition r = Recognize(doc);
  std::string format = wanted.empty() ? r.format : wanted;
  if (format.empty()) {
    out.refused = Refusal(file, "not-a-flow", "not a flow of any known format: " + r.why_not);
    return out;
  }
  if (!r.format.empty() && r.format != format) {
    out.refused =
        Refusal(file, "not-a-flow", "not a flow of format '" + format + "': it looks like a " + r.format + " flow");
    return out;
  }
  if (options.split == SplitTabs::kYes && format != kNodeRedFormat) {
    out.refused = Refusal(file, "not-a-flow", "--split-tabs splits node-red flows files, not " + format + " flows");
    return out;
  }
  const FlowFormat* handler = FindFormat(format);
  std::vector<Problem> problems;
  handler->Check(doc, file, problems);
  ScanSecrets(doc, file, problems);
  const std::string what = format == kNativeFormat ? "flow" : format + " flow";
  if (auto refused = RefuseOnProblems(file, what, problems)) {
    out.refused = std::move(refused);
    return out;
  }

  const std::string stem = Stem(options.file_name.empty() ? file : options.file_name);
  if (format == kNodeRedFormat && options.split == SplitTabs::kYes && doc.is_array()) {
    bool has_tab = std::any_of(doc.begin(), doc.end(), [](const Json& n) { return StringOr(n, "type") == "tab"; });
    if (has_tab) {
      std::string group = options.group.empty() ? stem : options.group;
      if (std::string why = GroupProblem(group); !why.empty()) {
        out.refused = Refusal(file, "invalid", "cannot use '" + group + "' as a group (it " + why + "); pass --group");
        return out;
      }
      return SplitNodeRed(doc, file, group);
    }
  }

  std::string name, source_id, description;
  if (format == kN8nFormat) {
    name = StringOr(doc, "name");
    source_id = doc.contains("id") ? IdString(doc["id"]) : std::string();
    description = StringOr(doc, "description");
  } else if (format == kNodeRedFormat) {
    if (doc.is_object()) {  // a subflow module
      name = StringOr(doc, "name");
      source_id = StringOr(doc, "id");
      description = StringOr(doc, "info");
    } else {
      const Json* only_tab = nullptr;
      int tabs = 0;
      for (const auto& node : doc) {
        if (StringOr(node, "type") == "tab") {
          ++tabs;
          only_tab = &node;
        }
      }
      if (tabs == 1) {
        name = StringOr(*only_tab, "label");
        source_id = StringOr(*only_tab, "id");
        description = StringOr(*only_tab, "info");
      }
    }
  } else {
    description = "";
  }
  name = CleanName(name);
  if (name.empty()) name = CleanName(stem);
  if (name.empty()) name = "flow";
  std::string fallback = format == kN8nFormat ? "n8n-workflow" : format == kNodeRedFormat ? "node-red-flow" : "flow";
  out.flows.push_back(
      MakeFlow(format, options.group, name, IdBase({name, stem}, fallback), source_id, description, file, doc));
  return out;
}

Json FinalApp(Json app, const std::string& id, const std::map<std::string, std::string>& references) {
  app["id"] = id;
  if (!references.empty()) app[std::string(kReferencesField)] = references;
  return app;
}

std::string FinalAppDefinition(Json app, const std::string& id, const std::map<std::string, std::string>& references) {
  return CanonicalJson(FinalApp(std::move(app), id, references));
}

void ScanFinalApp(const Json& app, const FlowSummary& summary, std::vector<std::string>& found) {
  std::vector<Problem> problems;
  ScanSecrets(app, summary.path() + "/" + std::string(kAppDefinitionFile), problems);
  for (const auto& p : problems) found.push_back(p.ToString());
}

void ThrowOnSecretsInApps(const std::vector<std::string>& found) {
  if (found.empty()) return;
  throw Error(ErrorCode::kInvalidData,
              "no flow written: the app definitions flowrepo would write hold " + std::to_string(found.size()) +
                  " plain-text secret(s) (a name, file name or id); rename the source",
              found);
}

std::vector<Flow> FlowsFromDocument(std::string_view text, const DocumentOptions& options) {
  if (std::string why = GroupProblem(options.group); !why.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "invalid group '" + options.group + "': " + why);
  }
  const std::string file = options.file_name.empty() ? "document" : options.file_name;
  Conversion c = ConvertDocument(text, file, options);
  if (c.refused) {
    std::string message = c.refused->message;
    if (message.rfind(file + ":", 0) != 0) message = file + ": " + message;
    throw Error(ErrorCode::kInvalidData, message, c.refused->details);
  }
  std::vector<Flow> flows;
  std::vector<std::string> secrets;
  for (auto& f : c.flows) {
    Flow flow;
    flow.summary = {f.id_base, f.name, f.group, f.format};
    flow.flow_definition = f.definition;
    Json app = FinalApp(f.app, f.id_base, {});
    ScanFinalApp(app, flow.summary, secrets);
    flow.app_definition = CanonicalJson(app);
    flow.env_variables = CanonicalJson({{"variables", Json::array()}});
    flows.push_back(std::move(flow));
  }
  ThrowOnSecretsInApps(secrets);
  return flows;
}

// ---- writing back ----------------------------------------------------------

namespace {

std::string SafeName(std::string name) {
  std::string out;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == ':' || c == '*' || c == '?' || c == '"' || c == '<' ||
        c == '>' || c == '|') {
      out += '_';
    } else {
      out += static_cast<char>(c);
    }
  }
  while (!out.empty() && (out.back() == '.' || out.back() == ' ')) out.pop_back();
  while (!out.empty() && (out.front() == '.' || out.front() == ' ')) out.erase(out.begin());
  if (out.size() > 100) out.resize(100);
  return out.empty() ? "flow" : out;
}

bool StartsAnArray(const std::string& text) {
  auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string::npos && text[first] == '[';
}

}  // namespace

ForeignFilePlan::ForeignFilePlan(std::vector<ForeignSource> sources, std::string_view format,
                                 ExportRequest::SampleData sample_data)
    : sources_(std::move(sources)) {
  if (format != kN8nFormat && format != kNodeRedFormat) {
    throw Error(ErrorCode::kInvalidArgument,
                "cannot write flows as '" + std::string(format) + "'; use n8n or node-red");
  }
  handler_ = FindFormat(format);
  strip_.keep_sample_data = sample_data == ExportRequest::SampleData::kKeep;
  std::vector<AppFacts> apps;
  apps.reserve(sources_.size());
  std::vector<std::string> others;
  for (ForeignSource& source : sources_) {
    Json app = ParseJson(source.app_definition, source.summary.path() + "/" + std::string(kAppDefinitionFile));
    std::string().swap(source.app_definition);  // planned from its facts
    std::string flow_format = StringOr(app, "format", std::string(kNativeFormat));
    if (flow_format != format) others.push_back("'" + source.summary.id + "' (" + flow_format + ")");
    AppFacts facts{StringOr(app, std::string(kSourceFileField)), std::nullopt};
    if (auto part = app.find(std::string(kNodeRedPartField)); part != app.end()) facts.part = std::move(*part);
    apps.push_back(std::move(facts));
  }
  if (!others.empty()) {
    std::string list;
    for (const auto& o : others) list += (list.empty() ? "" : ", ") + o;
    throw Error(ErrorCode::kInvalidArgument, "cannot write as " + std::string(format) + ": " +
                                                 std::to_string(others.size()) + " flow(s) of another format: " + list);
  }
  GatherUnits(apps, format);
  NameFiles(apps, format);
}

// Split Node-RED parts gather by (group, source file), in part order;
// everything else is a file of its own.
void ForeignFilePlan::GatherUnits(const std::vector<AppFacts>& apps, std::string_view format) {
  auto part_of = [&](std::size_t i) -> const Json* { return apps[i].part ? &*apps[i].part : nullptr; };
  std::map<std::string, std::size_t> split_unit;
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    const Json* part = part_of(i);
    if (format == kNodeRedFormat && part && part->is_object() && sources_[i].definition_is_array) {
      std::string key = sources_[i].summary.group + "\n" + apps[i].source_file;
      auto [it, fresh] = split_unit.emplace(key, units_.size());
      if (fresh) units_.push_back({{}, true});
      units_[it->second].flows.push_back(i);
    } else {
      units_.push_back({{i}, part != nullptr});
    }
  }
  auto rank = [&](std::size_t i) {
    const Json* part = part_of(i);
    std::string kind = part ? StringOr(*part, "part") : "";
    int order = part && part->is_object() && part->contains("order") && (*part)["order"].is_number_integer()
                    ? (*part)["order"].get<int>()
                    : 0;
    return std::pair(kind == "tab" ? 0 : kind == "subflow" ? 1 : 2, order);
  };
  for (Unit& unit : units_) {
    if (unit.concatenated) {
      std::stable_sort(unit.flows.begin(), unit.flows.end(),
                       [&](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
    }
  }
}

// A file is named after its first flow's source file, else its name;
// names are made unique ("a.json", "a-2.json").
void ForeignFilePlan::NameFiles(const std::vector<AppFacts>& apps, std::string_view format) {
  files_.resize(units_.size());
  std::set<std::string> taken;
  for (std::size_t u = 0; u < units_.size(); ++u) {
    ForeignFile& file = files_[u];
    file.format = std::string(format);
    for (std::size_t i : units_[u].flows) file.flows.push_back(sources_[i].summary.id);
    const std::size_t first = units_[u].flows[0];
    std::string name = apps[first].source_file;
    if (name.empty()) name = SafeName(sources_[first].summary.name) + ".json";
    name = SafeName(name);
    if (taken.count(name)) {
      const std::string stem = Stem(name);
      int n = 2;
      while (taken.count(stem + "-" + std::to_string(n) + ".json")) ++n;
      name = stem + "-" + std::to_string(n) + ".json";
    }
    taken.insert(name);
    file.name = name;
  }
}

std::string ForeignFilePlan::Content(std::size_t file, const DefinitionReader& read) const {
  const Unit& unit = units_[file];
  auto definition = [&](std::size_t i) {
    return ParseJson(read(i), sources_[i].summary.path() + "/" + std::string(kFlowDefinitionFile));
  };
  Json document;
  if (unit.concatenated) {
    document = Json::array();
    for (std::size_t i : unit.flows) {
      for (auto& node : definition(i)) document.push_back(std::move(node));
    }
  } else {
    document = definition(unit.flows[0]);
  }
  document = handler_->StripForExport(std::move(document), strip_);
  return document.dump(2, ' ', false, Json::error_handler_t::strict) + "\n";
}

std::vector<ForeignFile> ForeignFiles(const std::vector<Flow>& flows, std::string_view format,
                                      ExportRequest::SampleData sample_data) {
  std::vector<ForeignSource> sources;
  sources.reserve(flows.size());
  for (const Flow& flow : flows) {
    sources.push_back({flow.summary, flow.app_definition, StartsAnArray(flow.flow_definition)});
  }
  ForeignFilePlan plan(std::move(sources), format, sample_data);
  std::vector<ForeignFile> files = plan.files();
  // Parsing and writing the documents is the cost: on all cores.
  ParallelFor(files.size(), [&](std::size_t u, std::size_t) {
    files[u].content = plan.Content(u, [&](std::size_t i) { return flows[i].flow_definition; });
  });
  return files;
}

}  // namespace flowrepo
