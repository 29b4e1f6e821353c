#include "flow/native_format.h"

#include <map>

#include "flowrepo/flow.h"

namespace flowrepo {

std::string_view NativeFormat::name() const { return kNativeFormat; }

const std::set<std::string>& NativeFormat::NodeTypes() {
  static const std::set<std::string> types = {"start",   "end",     "api",       "condition", "ai",  "script",
                                              "subflow", "publish", "subscribe", "transform", "wait"};
  return types;
}

void NativeFormat::Check(const Json& def, const std::string& file, std::vector<Problem>& problems) const {
  auto problem = [&](std::string pointer, std::string rule, std::string message) {
    problems.push_back({file, std::move(pointer), std::move(rule), std::move(message)});
  };
  if (!def.is_object()) {
    problem("", "schema", "flow definition must be a JSON object");
    return;
  }
  if (def.contains("mode") && def["mode"] != "sync" && def["mode"] != "async") {
    problem("/mode", "schema", "mode must be \"sync\" or \"async\"");
  }
  for (const char* list : {"inputs", "outputs"}) {
    if (def.contains(list) && !def[list].is_array()) {
      problem(std::string("/") + list, "schema", std::string(list) + " must be an array");
    }
  }
  auto nodes = def.find("nodes");
  if (nodes == def.end() || !nodes->is_array()) {
    problem("/nodes", "schema", "required array 'nodes' is missing");
    return;
  }
  std::map<std::string, std::size_t> ids;
  for (std::size_t i = 0; i < nodes->size(); ++i) {
    const Json& node = (*nodes)[i];
    std::string at = "/nodes/" + std::to_string(i);
    if (!node.is_object()) {
      problem(at, "schema", "node must be an object");
      continue;
    }
    std::string id = StringOr(node, "id");
    if (id.empty()) {
      problem(at + "/id", "schema", "node has no string 'id'");
    } else if (!IsValidId(id)) {
      problem(at + "/id", "node-id", "invalid node id '" + id + "'");
    } else if (auto [it, fresh] = ids.emplace(id, i); !fresh) {
      problem(at + "/id", "duplicate-node-id",
              "duplicate node id '" + id + "' (also /nodes/" + std::to_string(it->second) + ")");
    }
    std::string type = StringOr(node, "type");
    if (type.empty()) {
      problem(at + "/type", "schema", "node '" + id + "' has no string 'type'");
    } else if (!NodeTypes().count(type)) {
      problem(at + "/type", "node-type", "node '" + id + "' has unknown type '" + type + "'");
    }
    if (type == "subflow" && StringOr(node.value("config", Json::object()), "flow").empty()) {
      problem(at + "/config/flow", "schema", "subflow node '" + id + "' names no flow");
    }
    if ((type == "publish" || type == "subscribe") && StringOr(node.value("config", Json::object()), "topic").empty()) {
      problem(at + "/config/topic", "schema", type + " node '" + id + "' names no topic");
    }
  }
  auto edges = def.find("edges");
  if (edges == def.end()) return;
  if (!edges->is_array()) {
    problem("/edges", "schema", "edges must be an array");
    return;
  }
  for (std::size_t i = 0; i < edges->size(); ++i) {
    const Json& edge = (*edges)[i];
    std::string at = "/edges/" + std::to_string(i);
    if (!edge.is_object()) {
      problem(at, "schema", "edge must be an object");
      continue;
    }
    for (const char* end : {"from", "to"}) {
      std::string target = StringOr(edge, end);
      if (target.empty()) {
        problem(at + "/" + end, "schema", std::string("edge has no string '") + end + "'");
      } else if (!ids.count(target)) {
        problem(at + "/" + end, "dangling-edge",
                std::string("edge ") + end + " '" + target + "' is not a node of this flow");
      }
    }
  }
}

FlowFacts NativeFormat::Facts(const Json& def) const {
  FlowFacts facts;
  if (!def.is_object() || !def.contains("nodes") || !def["nodes"].is_array()) return facts;
  const Json& nodes = def["nodes"];
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Json& node = nodes[i];
    if (!node.is_object()) continue;
    std::string at = "/nodes/" + std::to_string(i);
    std::string id = StringOr(node, "id");
    facts.nodes.push_back({id, at});
    std::string type = StringOr(node, "type");
    const Json config = node.value("config", Json::object());
    if (type == "subflow") {
      std::string flow = StringOr(config, "flow");
      if (!flow.empty()) facts.subflows.push_back({id, flow, at + "/config/flow"});
    }
    if (type == "publish" || type == "subscribe") {
      std::string topic = StringOr(config, "topic");
      if (!topic.empty()) {
        facts.topics.insert(topic);
        facts.topic_pointers.emplace(topic, at + "/config/topic");
      }
    }
    std::string component = StringOr(node, "component");
    if (!component.empty()) {
      facts.components.insert(component);
      facts.component_pointers.emplace(component, at + "/component");
    }
    if (node.contains("credential") && node["credential"].is_object()) {
      const Json& c = node["credential"];
      facts.credentials.push_back({id, StringOr(c, "type"), StringOr(c, "binding"), at + "/credential/binding"});
    }
  }
  return facts;
}

Json NativeFormat::StripForExport(Json def, const StripOptions&) const {
  if (!def.is_object() || !def.contains("nodes") || !def["nodes"].is_array()) return def;
  for (auto& node : def["nodes"]) {
    if (node.is_object() && node.contains("credential") && node["credential"].is_object()) {
      node["credential"].erase("binding");
    }
  }
  return def;
}

}  // namespace flowrepo
