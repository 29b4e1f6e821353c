#ifndef FLOWREPO_FLOW_FORMAT_H_
#define FLOWREPO_FLOW_FORMAT_H_

// What flowrepo understands of a flow definition, whatever its format. The
// native format and each foreign one (n8n, Node-RED) implement FlowFormat;
// validation, dependencies, stripping and diffs only talk to this interface.

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "flowrepo/validation.h"
#include "json/json_io.h"

namespace flowrepo {

struct SubflowRef {
  /// How a reference names its target.
  enum class Kind {
    kFlow,     ///< native: \a flow is a flow id
    kForeign,  ///< a foreign format's own id in \a source (an n8n workflow id, a
               ///< Node-RED subflow or link target id); \a flow is empty until
               ///< ResolveReferences maps it through app_definition.json
    kDynamic,  ///< computed when the flow runs (an n8n expression, kept in
               ///< \a source): never resolvable, never an error
  };
  std::string node;     ///< the referring node's id
  std::string flow;     ///< the referenced flow id
  std::string pointer;  ///< where the reference is in flow_definition.json
  std::string source;   ///< kForeign, kDynamic: the reference as written
  Kind kind = Kind::kFlow;
};

struct CredentialUse {
  std::string node;
  std::string type;     ///< what kind of credential the node needs
  std::string binding;  ///< the bound credential; empty when unbound
  std::string pointer;  ///< the binding's location in flow_definition.json
};

/// A node of a definition with a stable key for diffs.
struct NodeEntry {
  std::string key;      ///< node id (or name where a format has no ids)
  std::string pointer;  ///< "/nodes/3"
};

struct FlowFacts {
  std::vector<NodeEntry> nodes;
  std::vector<SubflowRef> subflows;
  std::vector<CredentialUse> credentials;
  std::set<std::string> components;  ///< "name@version" or a node type
  std::set<std::string> topics;
  /// Where each component / topic is first used ("/nodes/3/component");
  /// a format may leave these empty (problems then carry no pointer).
  std::map<std::string, std::string> component_pointers;
  std::map<std::string, std::string> topic_pointers;
};

/// What export keeps that it would otherwise strip.
struct StripOptions {
  bool keep_sample_data = false;  ///< e.g. n8n pinData
};

class FlowFormat {
 public:
  virtual ~FlowFormat() = default;
  /// The value of app_definition.json "format".
  virtual std::string_view name() const = 0;
  /// Appends every structural problem of \a definition; \a file names it.
  virtual void Check(const Json& definition, const std::string& file, std::vector<Problem>& problems) const = 0;
  /// Facts of a definition that passed Check.
  virtual FlowFacts Facts(const Json& definition) const = 0;
  /// \a definition without what must never leave a workspace: credential
  /// bindings and ids, instance ids, sample data (unless kept). Secret values
  /// elsewhere are refused by the secret scan, not stripped here.
  virtual Json StripForExport(Json definition, const StripOptions& options) const = 0;
};

/// Fills SubflowRef::flow of every kForeign reference in \a facts whose
/// source the flow's app definition maps to a flow id in its "references"
/// object ({"<source id>": "<flow id>"}, written when foreign flows are
/// added or imported). Unmapped references stay empty: they point outside
/// the repository and are reported by nobody. A mapped source the document
/// does not name (a config node a split Node-RED tab uses) is added as a
/// reference with no pointer.
void ResolveReferences(const Json& app, FlowFacts& facts);
/// Renames the flow ids an app definition's "references" map to
/// (\a rename: old id -> new id), as import does when flows get new ids.
void RenameReferences(Json& app, const std::map<std::string, std::string>& rename);

/// Makes the native references of \a definition (\a refs, from its facts)
/// to flows \a rename maps (old id -> new id) name the new ids, where the
/// old id still stands at their pointer. Returns the references that could
/// not be rewritten (a pointer the document does not have).
std::vector<SubflowRef> RenameSubflows(Json& definition, const std::vector<SubflowRef>& refs,
                                       const std::map<std::string, std::string>& rename);

/// The format named \a name, or nullptr.
const FlowFormat* FindFormat(std::string_view name);
/// Names of all known formats.
std::vector<std::string> FormatNames();

}  // namespace flowrepo

#endif  // FLOWREPO_FLOW_FORMAT_H_
