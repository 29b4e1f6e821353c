#ifndef FLOWREPO_FORMATS_H_
#define FLOWREPO_FORMATS_H_

// Foreign flow formats: adding n8n workflows and Node-RED flows files to a
// repository as flows, and writing stored flows back as files of their own
// format. docs/formats.md describes each format's mapping.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flowrepo/flow.h"
#include "flowrepo/package.h"
#include "flowrepo/repository.h"
#include "flowrepo/validate.h"
#include "flowrepo/validation.h"

namespace flowrepo {

/// app_definition.json "format" of n8n workflows and Node-RED flows.
inline constexpr std::string_view kN8nFormatName = "n8n";
inline constexpr std::string_view kNodeRedFormatName = "node-red";

/// The format names `flow add --format` accepts: "auto", "n8n", "node-red",
/// "native" (= "flowrepo/flow@1").
std::vector<std::string> AddFormatNames();

/// The format of a parsed-from-\a text document: "n8n", "node-red" or
/// "flowrepo/flow@1". Throws kInvalidData, naming \a source, when the text is
/// not JSON or not a flow of any known format (for example "{}", or an
/// object whose keys are quoted JSON fragments), with the reason.
std::string DetectFormat(std::string_view text, std::string_view source);

/// Whether a Node-RED flows file becomes one flow or one flow per tab.
enum class SplitTabs {
  kNo,   ///< the whole file is one flow
  kYes,  ///< one flow per tab, one per subflow definition, one for the
         ///< config nodes shared by them (docs/formats.md, "split tabs")
};

/// How one document becomes flows.
struct DocumentOptions {
  std::string format = "auto";  ///< see AddFormatNames()
  std::string group;            ///< group of the flows
  std::string file_name;        ///< the source file's name ("flows.json"); names
                                ///< the flow when the document has no name
  SplitTabs split = SplitTabs::kNo;
};

/// The flows one document becomes, with ids derived from names (not yet
/// unique in any repository) and app_definition.json recording "format",
/// "name", "description", "source_id" (the document's own id) and
/// "source_file". flow_definition.json holds the document (or, split, the
/// tab's nodes) as the same JSON value. Throws kInvalidData (not JSON, not a
/// flow of the format, or invalid: every problem in details()) or
/// kInvalidArgument (unknown format).
std::vector<Flow> FlowsFromDocument(std::string_view text, const DocumentOptions& options);

/// Why a file was not added.
struct RefusedFile {
  std::string file;                  ///< as found (the path given, or below a directory given)
  std::string reason;                ///< "json", "not-a-flow", "invalid", "secret", "io"
  std::string message;               ///< one line
  std::vector<std::string> details;  ///< each problem, "pointer: message [rule]"
  std::vector<Problem> problems;     ///< the same problems whole (secrets masked)
};

struct AddedFlow {
  FlowSummary summary;
  std::string file;       ///< the source file
  std::string source_id;  ///< the id the document gave itself; may be empty
  enum class Action { kAdded, kUpdated };
  Action action = Action::kAdded;
  /// Foreign references mapped to flows ("<source id>" -> flow id), and
  /// those left unmapped: outside the repository, ambiguous, or expressions.
  std::vector<std::pair<std::string, std::string>> references;
  std::vector<std::string> unresolved;
};

struct AddFlowsRequest {
  std::string workspace = "main";
  std::string draft;  ///< required; created from the workspace head if missing
  /// Files and directories; a directory adds every *.json file below it,
  /// its sub-folder path becoming the group (below \a group).
  std::vector<std::string> paths;
  std::string format = "auto";
  std::string group;
  /// kKeepExisting (no --group given): a flow the draft already has keeps
  /// its group, wherever the file is; kAsGiven moves it to \a group.
  enum class Groups { kAsGiven, kKeepExisting };
  Groups groups = Groups::kAsGiven;
  std::string id;  ///< the flow id, when exactly one flow is added
  SplitTabs split = SplitTabs::kNo;
  /// Called now and then with files done and files in all; may be empty.
  std::function<void(std::size_t done, std::size_t total)> progress;
  /// How many of the flows added AddFlowsResult::flows lists (the first);
  /// all by default. A caller that shows a few keeps memory from growing
  /// with the files added, as ExportRequest::listed_flows.
  std::size_t listed_flows = SIZE_MAX;
};

struct AddFlowsResult {
  std::optional<WriteResult> write;  ///< none when nothing was added
  /// The first AddFlowsRequest::listed_flows flows added, in the order of
  /// the files.
  std::vector<AddedFlow> flows;
  std::size_t added = 0;       ///< flows new on the draft
  std::size_t updated = 0;     ///< flows the draft had, written again
  std::size_t unresolved = 0;  ///< flows with a reference left unresolved
  std::vector<RefusedFile> refused;
  /// Components the added flows use that the workspace did not list: they
  /// are added to the draft's .flowrepo/workspace.json (a commit before the
  /// flows' commit).
  std::vector<std::string> declared_components;
  std::size_t files = 0;  ///< files read
};

/// Adds foreign (or native) flow files to \a request.draft in one commit.
/// Every file is read, recognised, converted and checked (format integrity,
/// plain-text secrets) first; a file that fails is refused with its reason
/// and the others are still added. Flow ids are derived from the document's
/// name and made unique: a flow that already exists on the draft with the
/// same format, source id and name is updated instead; \a request.id names
/// the flow explicitly (one flow only). References to other flows (n8n
/// sub-workflows, Node-RED subflows and links) are mapped to flows added
/// together or already on the draft, by their source ids, and recorded in
/// app_definition.json "references". Needs the integrator role. Throws
/// kInvalidArgument (options), kNotFound (a path), kInvalidData (nothing
/// could be added: every refusal in details()), kConflict,
/// kPermissionDenied or kIo.
AddFlowsResult AddFlows(FlowRepository& repo, const AddFlowsRequest& request);

/// Checks flow files as AddFlows reads them (\a request's paths, format,
/// group and split; no repository, nothing written): every file read,
/// recognised, converted and checked for format integrity and plain-text
/// secrets. Each refused file gives a problem "add/<reason>" followed by
/// the problems behind it, as flow add reports them; the report's flows
/// are the files that would be added. Throws kNotFound (a path, or a
/// directory without *.json files) and kInvalidArgument (options).
ValidationReport ValidateSourceFiles(const AddFlowsRequest& request);

/// A file in a foreign format made from stored flows.
struct ForeignFile {
  std::string name;                ///< file name: the flow's source file, else its name + ".json"
  std::string format;              ///< "n8n" or "node-red"
  std::string content;             ///< the document, two-space indented JSON
  std::vector<std::string> flows;  ///< ids of the flows it holds
};

/// Writes \a flows back in their own format \a format ("n8n" or
/// "node-red"), stripped as export strips them: an n8n workflow per flow; a
/// Node-RED flows file per flow, except that the parts of one split flows
/// file (same group and source file) become one file again. Flows of other
/// formats are refused. Names are made unique ("a.json", "a-2.json").
/// Throws kInvalidArgument (a flow of another format, unknown format) or
/// kInvalidData (a document that does not parse).
std::vector<ForeignFile> ForeignFiles(const std::vector<Flow>& flows, std::string_view format,
                                      ExportRequest::SampleData sample_data = ExportRequest::SampleData::kStrip);

struct ForeignExportResult {
  std::string workspace;
  std::string commit;              ///< the source commit
  std::vector<std::string> paths;  ///< files written, in ForeignFiles order
  std::vector<ForeignFile> files;  ///< what they hold (content empty: it is in the files)
  std::size_t flow_count = 0;      ///< flows written
  /// The first ExportRequest::listed_flows flows written, as a package of
  /// the same request lists them.
  std::vector<PackageFlowInfo> flows;
};

/// Export in a foreign format: the flows \a request selects (with the same
/// selection, dependency policy, stripping and validation as ExportPackage)
/// written as \a format files by ForeignFiles. \a request.output is the
/// file to write when there is exactly one, else a folder (created when
/// missing); without it files go to \a request.directory. Nothing is written
/// when any file exists, unless request.overwrite is kYes. Throws as
/// ExportPackage and ForeignFiles do.
ForeignExportResult ExportForeign(FlowRepository& repo, const ExportRequest& request, std::string_view format);

}  // namespace flowrepo

#endif  // FLOWREPO_FORMATS_H_
