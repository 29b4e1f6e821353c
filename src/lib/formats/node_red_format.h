#ifndef FLOWREPO_FORMATS_NODE_RED_FORMAT_H_
#define FLOWREPO_FORMATS_NODE_RED_FORMAT_H_

// Node-RED flows (docs/formats.md): a JSON array of node objects, each with
// an "id" and a "type"; "z" names the tab or subflow holding a node (config
// nodes have none), "wires" the nodes each output connects to. Tabs are
// nodes of type "tab", subflow definitions of type "subflow" and their
// instances of type "subflow:<id>"; link nodes connect across tabs by id.
// A subflow module's subflow.json (one subflow definition object whose
// "flow" holds its nodes) is read as well.

#include <string>

#include "flow/format.h"

namespace flowrepo {

/// app_definition.json "format" of Node-RED flows.
inline constexpr std::string_view kNodeRedFormat = "node-red";

class NodeRedFormat : public FlowFormat {
 public:
  std::string_view name() const override;
  /// Structure, unique ids, wires (and subflow port wires) to existing ids.
  /// A "z" naming a tab that is not in the document is fine (an export of
  /// selected nodes); so are link targets outside it.
  void Check(const Json& definition, const std::string& file, std::vector<Problem>& problems) const override;
  /// Nodes keyed by id; references (kForeign) to subflows defined elsewhere
  /// ("subflow:<id>" instances) and to link targets outside the document
  /// ("link out" / "link call"); config nodes as credentials (bound to
  /// themselves); components "node-red:<type>".
  FlowFacts Facts(const Json& definition) const override;
  /// Removes every node's "credentials" object and the values of "cred"
  /// environment variables of tabs and subflows.
  Json StripForExport(Json definition, const StripOptions& options) const override;

  /// Whether \a document looks like Node-RED: a non-empty array of objects
  /// with string "id" and "type", or a subflow module object.
  static bool Recognize(const Json& document);
  /// True for the subflow module form (an object, not an array).
  static bool IsSubflowModule(const Json& document);
  /// True for a node without "z" that is not a tab, subflow or group: a
  /// config node, shared by the nodes that name its id.
  static bool IsConfigNode(const Json& node);
};

}  // namespace flowrepo

#endif  // FLOWREPO_FORMATS_NODE_RED_FORMAT_H_
