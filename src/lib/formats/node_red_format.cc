// Node-RED flows as a FlowFormat.
//
// Every element is a node with an id; "wires" connect nodes inside one tab
// or subflow, so a wire to an id that is not in the document is an error.
// "z" may name a tab that is not in the document (an export of selected
// nodes, or one tab of a split flows file), and link nodes may point at
// nodes elsewhere: those are references, mapped to flows by the flow's
// app_definition.json like subflows defined in another flow.

#include "formats/node_red_format.h"

#include <map>
#include <set>

#include "formats/format_util.h"

namespace flowrepo {
namespace {

// (pointer, node) for every node of the document, in order.
std::vector<std::pair<std::string, const Json*>> Nodes(const Json& doc) {
  std::vector<std::pair<std::string, const Json*>> out;
  if (doc.is_array()) {
    for (std::size_t i = 0; i < doc.size(); ++i) out.emplace_back("/" + std::to_string(i), &doc[i]);
  } else if (NodeRedFormat::IsSubflowModule(doc)) {
    const Json& flow = doc["flow"];
    for (std::size_t i = 0; i < flow.size(); ++i) {
      out.emplace_back("/flow/" + std::to_string(i), &flow[i]);
    }
  }
  return out;
}

bool IsLayoutConfig(std::string_view type) {
  return type == "global-config" || type.rfind("ui_", 0) == 0 || type.rfind("ui-", 0) == 0;
}

void StripNode(Json& node) {
  if (!node.is_object()) return;
  node.erase("credentials");
  auto env = node.find("env");
  if (env == node.end() || !env->is_array()) return;
  for (auto& var : *env) {
    if (var.is_object() && StringOr(var, "type") == "cred") var.erase("value");
  }
}

}  // namespace

std::string_view NodeRedFormat::name() const { return kNodeRedFormat; }

bool NodeRedFormat::IsSubflowModule(const Json& doc) {
  return doc.is_object() && StringOr(doc, "type") == "subflow" && !StringOr(doc, "id").empty() &&
         doc.contains("flow") && doc["flow"].is_array();
}

bool NodeRedFormat::Recognize(const Json& doc) {
  if (IsSubflowModule(doc)) return true;
  if (!doc.is_array() || doc.empty()) return false;
  for (const auto& node : doc) {
    if (!node.is_object() || StringOr(node, "id").empty() || StringOr(node, "type").empty()) {
      return false;
    }
  }
  return true;
}

bool NodeRedFormat::IsConfigNode(const Json& node) {
  if (!node.is_object() || !StringOr(node, "z").empty()) return false;
  std::string type = StringOr(node, "type");
  return !type.empty() && type != "tab" && type != "subflow" && type != "group";
}

void NodeRedFormat::Check(const Json& def, const std::string& file, std::vector<Problem>& problems) const {
  auto problem = [&](std::string pointer, std::string rule, std::string message) {
    problems.push_back({file, std::move(pointer), std::move(rule), std::move(message)});
  };
  if (def.is_object()) {
    if (!IsSubflowModule(def)) {
      problem("", "schema",
              "node-red flows must be a JSON array of nodes (or a subflow module object with "
              "'id', 'type' \"subflow\" and a 'flow' array)");
      return;
    }
  } else if (!def.is_array()) {
    problem("", "schema", "node-red flows must be a JSON array of nodes");
    return;
  }
  auto nodes = Nodes(def);
  std::map<std::string, std::string> ids;  // id -> pointer
  if (def.is_object()) ids.emplace(StringOr(def, "id"), "");
  for (const auto& [at, node] : nodes) {
    if (!node->is_object()) {
      problem(at, "schema", "node must be an object");
      continue;
    }
    std::string id = StringOr(*node, "id");
    if (id.empty()) {
      problem(at + "/id", "schema", "node has no string 'id'");
    } else if (auto [it, fresh] = ids.emplace(id, at); !fresh) {
      problem(at + "/id", "duplicate-node-id",
              "duplicate node id '" + id + "' (also " + (it->second.empty() ? "/" : it->second) + ")");
    }
    if (StringOr(*node, "type").empty()) {
      problem(at + "/type", "schema", "node '" + id + "' has no string 'type'");
    }
  }
  auto check_targets = [&](const std::string& at, const std::string& from, const Json& node) {
    // Output wires: [[id, ...], ...]
    if (node.contains("wires")) {
      const Json& wires = node["wires"];
      if (!wires.is_array()) {
        problem(at + "/wires", "schema", "wires of node '" + from + "' must be an array");
      } else {
        for (std::size_t p = 0; p < wires.size(); ++p) {
          if (!wires[p].is_array()) {
            problem(at + "/wires/" + std::to_string(p), "schema",
                    "wires of node '" + from + "' must be arrays of node ids");
            continue;
          }
          for (std::size_t w = 0; w < wires[p].size(); ++w) {
            const std::string wat = at + "/wires/" + std::to_string(p) + "/" + std::to_string(w);
            const Json& target = wires[p][w];
            if (!target.is_string()) {
              problem(wat, "schema", "wire of node '" + from + "' is not a node id");
            } else if (!ids.count(target.get<std::string>())) {
              problem(
                  wat, "dangling-wire",
                  "wire from '" + from + "' to '" + target.get<std::string>() + "', which is not a node of this flow");
            }
          }
        }
      }
    }
    // Subflow ports: "in": [{"wires": [{"id": ...}]}], "out": [{"wires": [{"id": ..., "port": 0}]}]
    for (const char* side : {"in", "out"}) {
      if (StringOr(node, "type") != "subflow" || !node.contains(side) || !node[side].is_array()) {
        continue;
      }
      const Json& ports = node[side];
      for (std::size_t p = 0; p < ports.size(); ++p) {
        if (!ports[p].is_object() || !ports[p].contains("wires") || !ports[p]["wires"].is_array()) {
          continue;
        }
        const Json& wires = ports[p]["wires"];
        for (std::size_t w = 0; w < wires.size(); ++w) {
          std::string target = wires[w].is_object() ? StringOr(wires[w], "id") : std::string();
          const std::string wat = at + "/" + side + "/" + std::to_string(p) + "/wires/" + std::to_string(w) + "/id";
          if (!target.empty() && !ids.count(target)) {
            problem(wat, "dangling-wire",
                    "subflow '" + from + "' port wire to '" + target + "', which is not a node of this flow");
          }
        }
      }
    }
  };
  if (def.is_object()) check_targets("", StringOr(def, "id"), def);
  for (const auto& [at, node] : nodes) {
    if (node->is_object()) check_targets(at, StringOr(*node, "id"), *node);
  }
}

FlowFacts NodeRedFormat::Facts(const Json& def) const {
  FlowFacts facts;
  auto nodes = Nodes(def);
  std::set<std::string> ids, subflows;
  if (def.is_object()) {
    ids.insert(StringOr(def, "id"));
    subflows.insert(StringOr(def, "id"));
  }
  for (const auto& [at, node] : nodes) {
    std::string id = StringOr(*node, "id");
    ids.insert(id);
    if (StringOr(*node, "type") == "subflow") subflows.insert(id);
  }
  for (const auto& [at, node] : nodes) {
    if (!node->is_object()) continue;
    const std::string id = StringOr(*node, "id");
    const std::string type = StringOr(*node, "type");
    facts.nodes.push_back({id, at});
    if (type.rfind("subflow:", 0) == 0) {
      std::string target = type.substr(8);
      if (!subflows.count(target)) {
        facts.subflows.push_back({id, "", at + "/type", target, SubflowRef::Kind::kForeign});
      }
    } else if (!type.empty() && type != "tab" && type != "subflow" && type != "group" && type != "junction") {
      facts.components.insert("node-red:" + type);
    }
    if ((type == "link out" || type == "link call") && node->contains("links") && (*node)["links"].is_array()) {
      const Json& links = (*node)["links"];
      for (std::size_t l = 0; l < links.size(); ++l) {
        if (!links[l].is_string() || ids.count(links[l].get<std::string>())) continue;
        facts.subflows.push_back(
            {id, "", at + "/links/" + std::to_string(l), links[l].get<std::string>(), SubflowRef::Kind::kForeign});
      }
    }
    if (IsConfigNode(*node) && !IsLayoutConfig(type)) {
      // Bound to itself: its secrets live in the Node-RED runtime.
      facts.credentials.push_back({id, type, id, at + "/id"});
    }
  }
  return facts;
}

Json NodeRedFormat::StripForExport(Json def, const StripOptions&) const {
  if (def.is_array()) {
    for (auto& node : def) StripNode(node);
  } else if (IsSubflowModule(def)) {
    StripNode(def);
    for (auto& node : def["flow"]) StripNode(node);
  }
  return def;
}

}  // namespace flowrepo
