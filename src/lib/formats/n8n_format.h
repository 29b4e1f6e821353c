#ifndef FLOWREPO_FORMATS_N8N_FORMAT_H_
#define FLOWREPO_FORMATS_N8N_FORMAT_H_

// n8n workflows (docs/formats.md): an object with "nodes" (each with a
// unique "name", a "type", optional "id", "parameters", "credentials") and
// "connections" keyed by source node *name*; optional "pinData" (sample
// data), "meta", "settings", "name", "id", "tags", "versionId".

#include <string>

#include "flow/format.h"

namespace flowrepo {

/// app_definition.json "format" of n8n workflows.
inline constexpr std::string_view kN8nFormat = "n8n";

class N8nFormat : public FlowFormat {
 public:
  std::string_view name() const override;
  /// Structure, unique node names (connections use them) and ids, and
  /// connections from and to existing nodes.
  void Check(const Json& definition, const std::string& file, std::vector<Problem>& problems) const override;
  /// Nodes keyed by id, else name; sub-workflow references of
  /// executeWorkflow / toolWorkflow nodes (a workflow id, a resource
  /// locator, or an expression: kDynamic) and settings.errorWorkflow;
  /// credentials (binding: the credential id, else its name, else the
  /// legacy string); components "n8n:<node type>".
  FlowFacts Facts(const Json& definition) const override;
  /// Removes credential ids (type and name stay), "pinData" unless kept,
  /// and "meta.instanceId".
  Json StripForExport(Json definition, const StripOptions& options) const override;

  /// Whether \a document looks like an n8n workflow: an object with a
  /// "nodes" array and a "connections" object.
  static bool Recognize(const Json& document);
};

}  // namespace flowrepo

#endif  // FLOWREPO_FORMATS_N8N_FORMAT_H_
