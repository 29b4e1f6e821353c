#ifndef FLOWREPO_FLOW_NATIVE_FORMAT_H_
#define FLOWREPO_FLOW_NATIVE_FORMAT_H_

#include "flow/format.h"

namespace flowrepo {

/// flowrepo/flow@1 (docs/flow-schema.md): nodes with ids and types, edges
/// between them, subflow nodes naming a flow id, credential bindings,
/// components "name@version", publish/subscribe topics.
class NativeFormat : public FlowFormat {
 public:
  std::string_view name() const override;
  void Check(const Json& definition, const std::string& file, std::vector<Problem>& problems) const override;
  FlowFacts Facts(const Json& definition) const override;
  /// Removes every node's credential "binding" (the type stays).
  Json StripForExport(Json definition, const StripOptions& options) const override;

  /// The node types flowrepo knows.
  static const std::set<std::string>& NodeTypes();
};

}  // namespace flowrepo

#endif  // FLOWREPO_FLOW_NATIVE_FORMAT_H_
