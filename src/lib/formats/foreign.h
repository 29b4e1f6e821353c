#ifndef FLOWREPO_FORMATS_FOREIGN_H_
#define FLOWREPO_FORMATS_FOREIGN_H_

// Turning one source document into flows (recognition, naming, splitting
// Node-RED tabs, checks), shared by AddFlows and FlowsFromDocument.

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "flow/format.h"
#include "flowrepo/formats.h"
#include "json/json_io.h"

namespace flowrepo {

/// app_definition.json fields written for foreign flows.
inline constexpr std::string_view kSourceIdField = "source_id";
inline constexpr std::string_view kSourceFileField = "source_file";
inline constexpr std::string_view kReferencesField = "references";
/// {"part": "tab"|"subflow"|"config", "order": n}: a part of a split
/// Node-RED flows file.
inline constexpr std::string_view kNodeRedPartField = "node_red";

/// One flow made from a document, before it gets its final id.
struct ForeignFlow {
  std::string format;  ///< app "format"
  std::string group;
  std::string name;
  std::string id_base;           ///< the id derived from the name
  std::string source_id;         ///< the document's own id; may be empty
  Json app;                      ///< without "id" and "references" yet
  std::string definition;        ///< canonical text of flow_definition.json
  std::vector<SubflowRef> refs;  ///< kForeign and kDynamic references
  std::set<std::string> components;
  /// Node-RED: ids of every node, so links and subflow instances between
  /// the parts of one split file can be mapped.
  std::set<std::string> node_ids;
};

struct Conversion {
  std::vector<ForeignFlow> flows;
  std::optional<RefusedFile> refused;
};

/// Converts the document \a text read from \a file. Never throws for the
/// document's content: a document that cannot be added comes back with
/// \a refused set. Throws kInvalidArgument for an unknown options.format.
Conversion ConvertDocument(std::string_view text, const std::string& file, const DocumentOptions& options);

/// "n8n", "node-red", "flowrepo/flow@1" for an --format value; "" for
/// "auto". Throws kInvalidArgument.
std::string NormalizeFormatName(std::string_view name);

/// \a app with "id" and "references" set: the app definition written.
Json FinalApp(Json app, const std::string& id, const std::map<std::string, std::string>& references);

/// FinalApp as canonical text.
std::string FinalAppDefinition(Json app, const std::string& id, const std::map<std::string, std::string>& references);

/// Appends to \a found the secrets publish would find in \a app, the final
/// app definition of the flow \a summary names (its name, source file name,
/// id and reference ids are new text; the source document was scanned
/// already). Lines as Problem::ToString, masked.
void ScanFinalApp(const Json& app, const FlowSummary& summary, std::vector<std::string>& found);

/// Throws kInvalidData listing \a found when it is not empty.
void ThrowOnSecretsInApps(const std::vector<std::string>& found);

/// A stored flow to write back in its own format: what naming its file
/// needs. Its definition is read only when its file is made.
struct ForeignSource {
  FlowSummary summary;
  std::string app_definition;
  bool definition_is_array = true;  ///< only array parts of a split file are joined
};

/// The files ForeignFiles makes from \a sources, planned from their app
/// definitions alone, so that an export can make and write one file at a
/// time. Throws as ForeignFiles does.
class ForeignFilePlan {
 public:
  /// Reads the definition of sources[i]; called on any thread.
  using DefinitionReader = std::function<std::string(std::size_t i)>;

  ForeignFilePlan(std::vector<ForeignSource> sources, std::string_view format, ExportRequest::SampleData sample_data);

  /// Name, format and flows of each file; content empty.
  const std::vector<ForeignFile>& files() const { return files_; }
  /// files(), moved out (files() is empty after; Content still works).
  std::vector<ForeignFile> TakeFiles() { return std::move(files_); }
  /// The document of files()[file], stripped, two-space indented. Const:
  /// files may be made on several threads at once.
  std::string Content(std::size_t file, const DefinitionReader& read) const;

 private:
  struct Unit {
    std::vector<std::size_t> flows;  ///< indices into sources_, in file order
    bool concatenated = false;       ///< parts of a split Node-RED file
  };
  /// What planning needs of a flow's app definition: the parsed
  /// definitions would make memory grow with the flows.
  struct AppFacts {
    std::string source_file;   ///< kSourceFileField; empty when absent
    std::optional<Json> part;  ///< kNodeRedPartField, when present
  };
  void GatherUnits(const std::vector<AppFacts>& apps, std::string_view format);
  void NameFiles(const std::vector<AppFacts>& apps, std::string_view format);

  std::vector<ForeignSource> sources_;
  const FlowFormat* handler_ = nullptr;
  StripOptions strip_;
  std::vector<Unit> units_;
  std::vector<ForeignFile> files_;
};

}  // namespace flowrepo

#endif  // FLOWREPO_FORMATS_FOREIGN_H_
