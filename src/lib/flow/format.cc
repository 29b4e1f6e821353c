#include "flow/format.h"

#include <memory>
#include <set>

#include "flow/native_format.h"
#include "formats/n8n_format.h"
#include "formats/node_red_format.h"

namespace flowrepo {
namespace {

const std::vector<std::unique_ptr<FlowFormat>>& Formats() {
  static const auto* formats = [] {
    auto* list = new std::vector<std::unique_ptr<FlowFormat>>();
    list->push_back(std::make_unique<NativeFormat>());
    list->push_back(std::make_unique<N8nFormat>());
    list->push_back(std::make_unique<NodeRedFormat>());
    return list;
  }();
  return *formats;
}

}  // namespace

const FlowFormat* FindFormat(std::string_view name) {
  for (const auto& f : Formats()) {
    if (f->name() == name) return f.get();
  }
  return nullptr;
}

void ResolveReferences(const Json& app, FlowFacts& facts) {
  auto refs = app.is_object() ? app.find("references") : app.end();
  if (!app.is_object() || refs == app.end() || !refs->is_object()) return;
  std::set<std::string> seen;
  for (auto& ref : facts.subflows) {
    if (ref.kind != SubflowRef::Kind::kForeign) continue;
    ref.flow = StringOr(*refs, ref.source);
    seen.insert(ref.source);
  }
  // What the document names only implicitly (Node-RED config nodes used by
  // a tab split from its flows file) is a reference all the same.
  for (const auto& [source, flow] : refs->items()) {
    if (!seen.count(source) && flow.is_string()) {
      facts.subflows.push_back({source, flow.get<std::string>(), "", source, SubflowRef::Kind::kForeign});
    }
  }
}

void RenameReferences(Json& app, const std::map<std::string, std::string>& rename) {
  if (!app.is_object()) return;
  auto refs = app.find("references");
  if (refs == app.end() || !refs->is_object()) return;
  for (auto& [source, flow] : refs->items()) {
    if (!flow.is_string()) continue;
    auto it = rename.find(flow.get<std::string>());
    if (it != rename.end()) flow = it->second;
  }
}

std::vector<SubflowRef> RenameSubflows(Json& definition, const std::vector<SubflowRef>& refs,
                                       const std::map<std::string, std::string>& rename) {
  std::vector<SubflowRef> failed;
  for (const auto& ref : refs) {
    auto it = rename.find(ref.flow);
    if (ref.kind != SubflowRef::Kind::kFlow || it == rename.end() || it->second == ref.flow) continue;
    try {
      Json::json_pointer pointer(ref.pointer);
      if (definition.contains(pointer) && definition[pointer] == ref.flow) definition[pointer] = it->second;
    } catch (const Json::exception&) {
      failed.push_back(ref);
    }
  }
  return failed;
}

std::vector<std::string> FormatNames() {
  std::vector<std::string> names;
  for (const auto& f : Formats()) names.emplace_back(f->name());
  return names;
}

}  // namespace flowrepo
