// n8n workflows as a FlowFormat.
//
// Connections are keyed by node name, so names must be unique and every
// connection must name existing nodes on both ends. Node ids are optional
// (older exports have none); when present they must be unique too, since
// they key the node-by-node diff. References to other workflows are kept as
// n8n writes them (kForeign with the n8n workflow id); the flow's
// app_definition.json maps them to flow ids (ResolveReferences).

#include "formats/n8n_format.h"

#include <map>

#include "formats/format_util.h"

namespace flowrepo {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsSubWorkflowNode(std::string_view type) {
  return EndsWith(type, ".executeWorkflow") || EndsWith(type, ".toolWorkflow");
}

// The workflow an executeWorkflow / toolWorkflow parameter names: a plain
// id, an expression ("={{ ... }}"), or a resource locator
// {"__rl": true, "mode": "list"|"id"|"url", "value": ...}.
void AddWorkflowRef(const Json& value, const std::string& node, const std::string& pointer, FlowFacts& facts) {
  if (value.is_object()) {
    auto v = value.find("value");
    if (v == value.end()) return;
    std::string text = IdString(*v);
    if (StringOr(value, "mode") == "url" && text.rfind('=', 0) != 0) {
      // ".../workflow/<id>" (possibly followed by a query or more path).
      auto at = text.find("/workflow/");
      if (at == std::string::npos) return;
      text = text.substr(at + 10);
      text = text.substr(0, text.find_first_of("/?#"));
    }
    AddWorkflowRef(Json(text), node, pointer + "/value", facts);
    return;
  }
  std::string text = IdString(value);
  if (text.empty()) return;
  if (text[0] == '=') {
    if (text.find("{{") != std::string::npos) {
      facts.subflows.push_back({node, "", pointer, text, SubflowRef::Kind::kDynamic});
      return;
    }
    text = text.substr(1);  // "=abc" is the literal abc
    if (text.empty()) return;
  }
  facts.subflows.push_back({node, "", pointer, text, SubflowRef::Kind::kForeign});
}

}  // namespace

std::string_view N8nFormat::name() const { return kN8nFormat; }

bool N8nFormat::Recognize(const Json& doc) {
  if (!doc.is_object()) return false;
  auto nodes = doc.find("nodes");
  auto connections = doc.find("connections");
  return nodes != doc.end() && nodes->is_array() && connections != doc.end() && connections->is_object();
}

void N8nFormat::Check(const Json& def, const std::string& file, std::vector<Problem>& problems) const {
  auto problem = [&](std::string pointer, std::string rule, std::string message) {
    problems.push_back({file, std::move(pointer), std::move(rule), std::move(message)});
  };
  if (!def.is_object()) {
    problem("", "schema", "n8n workflow must be a JSON object");
    return;
  }
  auto nodes = def.find("nodes");
  if (nodes == def.end() || !nodes->is_array()) {
    problem("/nodes", "schema", "required array 'nodes' is missing");
    return;
  }
  std::map<std::string, std::size_t> names, ids;
  for (std::size_t i = 0; i < nodes->size(); ++i) {
    const Json& node = (*nodes)[i];
    const std::string at = "/nodes/" + std::to_string(i);
    if (!node.is_object()) {
      problem(at, "schema", "node must be an object");
      continue;
    }
    std::string name = StringOr(node, "name");
    if (name.empty()) {
      problem(at + "/name", "schema", "node has no string 'name'");
    } else if (auto [it, fresh] = names.emplace(name, i); !fresh) {
      problem(at + "/name", "duplicate-node-name",
              "duplicate node name '" + name + "' (also /nodes/" + std::to_string(it->second) +
                  "); connections name nodes by name");
    }
    if (StringOr(node, "type").empty()) {
      problem(at + "/type", "schema", "node '" + name + "' has no string 'type'");
    }
    if (node.contains("id")) {
      std::string id = StringOr(node, "id");
      if (!node["id"].is_string()) {
        problem(at + "/id", "schema", "node '" + name + "' has an 'id' that is not a string");
      } else if (!id.empty()) {
        if (auto [it, fresh] = ids.emplace(id, i); !fresh) {
          problem(at + "/id", "duplicate-node-id",
                  "duplicate node id '" + id + "' (also /nodes/" + std::to_string(it->second) + ")");
        }
      }
    }
    if (node.contains("parameters") && !node["parameters"].is_object()) {
      problem(at + "/parameters", "schema", "parameters of node '" + name + "' must be an object");
    }
    if (node.contains("credentials")) {
      const Json& creds = node["credentials"];
      if (!creds.is_object()) {
        problem(at + "/credentials", "schema", "credentials of node '" + name + "' must be an object");
      } else {
        for (const auto& [type, ref] : creds.items()) {
          if (!ref.is_object() && !ref.is_string()) {
            problem(at + "/credentials/" + PointerToken(type), "schema",
                    "credential '" + type + "' of node '" + name + "' must be an object or a string");
          }
        }
      }
    }
  }
  auto connections = def.find("connections");
  if (connections == def.end() || !connections->is_object()) {
    problem("/connections", "schema", "required object 'connections' is missing");
    return;
  }
  for (const auto& [source, outputs] : connections->items()) {
    const std::string at = "/connections/" + PointerToken(source);
    if (!names.count(source)) {
      problem(at, "dangling-connection", "connection from '" + source + "', which is not a node of this workflow");
    }
    if (!outputs.is_object()) {
      problem(at, "schema", "connections of '" + source + "' must be an object");
      continue;
    }
    for (const auto& [kind, slots] : outputs.items()) {
      const std::string kind_at = at + "/" + PointerToken(kind);
      if (!slots.is_array()) {
        problem(kind_at, "schema", "'" + kind + "' connections of '" + source + "' must be an array");
        continue;
      }
      for (std::size_t s = 0; s < slots.size(); ++s) {
        const Json& slot = slots[s];
        if (slot.is_null()) continue;  // an output with nothing attached
        if (!slot.is_array()) {
          problem(kind_at + "/" + std::to_string(s), "schema", "connection output must be an array");
          continue;
        }
        for (std::size_t t = 0; t < slot.size(); ++t) {
          const std::string target_at = kind_at + "/" + std::to_string(s) + "/" + std::to_string(t);
          std::string target = slot[t].is_object() ? StringOr(slot[t], "node") : std::string();
          if (target.empty()) {
            problem(target_at, "schema", "connection has no string 'node'");
          } else if (!names.count(target)) {
            problem(target_at + "/node", "dangling-connection",
                    "connection from '" + source + "' to '" + target + "', which is not a node of this workflow");
          }
        }
      }
    }
  }
}

FlowFacts N8nFormat::Facts(const Json& def) const {
  FlowFacts facts;
  if (!def.is_object() || !def.contains("nodes") || !def["nodes"].is_array()) return facts;
  const Json& nodes = def["nodes"];
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Json& node = nodes[i];
    if (!node.is_object()) continue;
    const std::string at = "/nodes/" + std::to_string(i);
    const std::string name = StringOr(node, "name");
    const std::string id = StringOr(node, "id");
    facts.nodes.push_back({id.empty() ? name : id, at});
    const std::string type = StringOr(node, "type");
    if (!type.empty()) facts.components.insert("n8n:" + type);
    const Json params = node.value("parameters", Json::object());
    if (IsSubWorkflowNode(type) && params.is_object()) {
      // "source" other than the database ("parameter", "localFile", "url")
      // runs a workflow given inline or elsewhere, not by id.
      std::string source = StringOr(params, "source", "database");
      if (source == "database" && params.contains("workflowId")) {
        AddWorkflowRef(params["workflowId"], name, at + "/parameters/workflowId", facts);
      }
    }
    auto creds = node.find("credentials");
    if (creds == node.end() || !creds->is_object()) continue;
    for (const auto& [ctype, ref] : creds->items()) {
      const std::string cat = at + "/credentials/" + PointerToken(ctype);
      if (ref.is_string()) {
        facts.credentials.push_back({name, ctype, ref.get<std::string>(), cat});
      } else if (ref.is_object()) {
        std::string cid = ref.contains("id") ? IdString(ref["id"]) : std::string();
        std::string binding = cid.empty() ? StringOr(ref, "name") : cid;
        // Binding writes the id; n8n matches a reference without one by name.
        facts.credentials.push_back({name, ctype, binding, cat + "/id"});
      }
    }
  }
  auto settings = def.find("settings");
  if (settings != def.end() && settings->is_object() && settings->contains("errorWorkflow")) {
    AddWorkflowRef((*settings)["errorWorkflow"], "settings", "/settings/errorWorkflow", facts);
  }
  return facts;
}

Json N8nFormat::StripForExport(Json def, const StripOptions& options) const {
  if (!def.is_object()) return def;
  if (!options.keep_sample_data) def.erase("pinData");
  if (auto meta = def.find("meta"); meta != def.end() && meta->is_object()) {
    meta->erase("instanceId");
  }
  if (auto nodes = def.find("nodes"); nodes != def.end() && nodes->is_array()) {
    for (auto& node : *nodes) {
      if (!node.is_object()) continue;
      auto creds = node.find("credentials");
      if (creds == node.end() || !creds->is_object()) continue;
      for (auto& [type, ref] : creds->items()) {
        if (ref.is_object()) ref.erase("id");
      }
    }
  }
  return def;
}

}  // namespace flowrepo
