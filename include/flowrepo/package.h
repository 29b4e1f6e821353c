#ifndef FLOWREPO_PACKAGE_H_
#define FLOWREPO_PACKAGE_H_

// Packages: zip files holding flows as docs/package-format.md describes.
// Export materialises chosen flows of one commit into a package; import
// verifies a package completely and commits its flows onto a draft; copy
// does both between two workspaces without a file in between.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flowrepo/repository.h"
#include "flowrepo/validation.h"

namespace flowrepo {

/// The "schema" of manifest.json this flowrepo writes and reads.
inline constexpr std::string_view kPackageSchema = "flowrepo/package@1";

/// Bounds on reading a package (import, verify). Decompressed bytes are
/// counted as they are read, whatever the zip headers claim, so a package
/// exceeding a limit is refused without ever holding more than the limit.
struct PackageLimits {
  std::uint64_t max_file_bytes = 1ull << 30;     ///< the package file (1 GiB)
  std::uint64_t max_entries = 100000;            ///< zip entries
  std::uint64_t max_entry_bytes = 64ull << 20;   ///< one decompressed entry (64 MiB)
  std::uint64_t max_total_bytes = 512ull << 20;  ///< all decompressed entries (512 MiB)
  /// Decompressed / compressed size of one entry; checked once an entry has
  /// produced more than 1 MiB, so small well-compressing files always pass.
  std::uint64_t max_ratio = 200;
  std::size_t max_name_bytes = 1024;  ///< one entry name
  // Entry names are at most kMaxGroupDepth + 3 parts deep: the group depth
  // limit of flowrepo/flow.h, which every write enforces too, not a limit
  // of its own.

  /// Memory the parsed form of the JSON documents checked at once may take
  /// together: four times the entry limit (256 MiB by default). One
  /// document (or the three of one flow) needing more is refused, and
  /// documents are parsed in parallel only while their worst cases fit
  /// in it together. With the decompressed entries (at most
  /// max_total_bytes) and, for an import, the canonical documents to be
  /// written (at most max_total_bytes again), this bounds the memory of
  /// reading a package (docs/reliability.md).
  std::uint64_t parse_budget() const { return max_entry_bytes > UINT64_MAX / 4 ? UINT64_MAX : 4 * max_entry_bytes; }
};

/// What export does with flows the selected ones use (subflow nodes) but
/// that are not selected themselves.
enum class DependencyPolicy {
  kInclude,    ///< add them to the package, transitively
  kReference,  ///< list them in the manifest as requirements of the target
  kFail,       ///< refuse the export, naming each
};

/// "include", "reference", "fail".
const char* DependencyPolicyName(DependencyPolicy policy);
/// Parses a DependencyPolicyName. Throws kInvalidArgument.
DependencyPolicy ParseDependencyPolicy(std::string_view name);

struct PackageFileInfo {
  std::string name;    ///< "flow_definition.json"
  std::string sha256;  ///< lower-case hex of the bytes in the package
  std::uint64_t size = 0;
};

/// A subflow reference of a packaged flow.
struct FlowDependency {
  std::string flow;       ///< the flow used
  std::string node;       ///< the node using it
  bool included = false;  ///< whether the package holds that flow
};

struct CredentialRequirement {
  std::string flow;  ///< set in package-wide lists only
  std::string node;
  std::string type;
};

struct EnvRequirement {
  std::string flow;  ///< set in package-wide lists only
  std::string name;
  bool secret = false;  ///< a secret: the package has its name only
};

/// What the target workspace must supply for a flow (or a whole package).
struct FlowRequirements {
  std::vector<std::string> components;             ///< "name@version", sorted
  std::vector<std::string> topics;                 ///< sorted
  std::vector<CredentialRequirement> credentials;  ///< unbound in the package
  std::vector<EnvRequirement> env_variables;
};

/// One flow as manifest.json describes it.
struct PackageFlowInfo {
  std::string id;
  std::string name;
  std::string group;
  std::string format;
  std::string path;  ///< "flows/<group>/<id>"
  /// The published version whose content this is; none when the content is
  /// not a published version (an export from a draft).
  std::optional<int> version;
  std::string commit;  ///< the commit of that version, else the export commit
  std::vector<PackageFileInfo> files;
  std::vector<FlowDependency> dependencies;
  FlowRequirements requirements;
  bool dependency = false;  ///< added because a selected flow uses it
};

/// manifest.json (docs/package-format.md).
struct PackageManifest {
  std::string schema;
  std::string tool_version;
  std::string workspace;  ///< source workspace
  std::string commit;     ///< source commit
  /// How the package was made, enough to make it again.
  std::vector<std::string> selection;
  std::vector<std::string> exclude;
  bool all = false;
  std::string dependency_policy;            ///< "include", "reference", "fail"
  std::optional<int> version;               ///< set for a single-version export
  std::vector<PackageFlowInfo> flows;       ///< sorted by path
  std::vector<std::string> groups;          ///< every group path, sorted
  FlowRequirements requirements;            ///< union over the flows
  std::vector<std::string> required_flows;  ///< used but not included
};

/// What reading a package found. Never holds a secret value.
struct PackageReport {
  std::string path;
  PackageManifest manifest;       ///< as far as it could be read
  std::vector<Problem> problems;  ///< every problem; empty: valid
  std::uint64_t entries = 0;      ///< zip entries
  std::uint64_t bytes = 0;        ///< decompressed bytes read
  bool ok() const { return problems.empty(); }
};

/// Checks the package at \a path without importing it: zip structure and
/// entry names, limits, manifest (schema, every listed file present with its
/// sha256 and size, nothing unlisted), every flow valid on its own (JSON,
/// schema, graph, subflows inside the package or declared as required), and
/// no secret anywhere. Content problems go into the report; throws only
/// kNotFound (no such file), kInvalidArgument (not a regular file) or kIo
/// (unreadable).
PackageReport VerifyPackage(const std::string& path, const PackageLimits& limits = {});

struct ExportRequest {
  std::string workspace = "main";
  /// Flow ids and group paths; a group selects every flow in it and in its
  /// sub-groups. A trailing '/' ("Finance/") always means a group. An item
  /// that names no flow or group is read as a list "A,B" (a group's name
  /// may hold a comma: it is taken whole).
  std::vector<std::string> selection;
  bool all = false;  ///< select every flow
  /// Flow ids and group paths left out of the selection, read as selection.
  std::vector<std::string> exclude;
  /// A workspace, draft, ref or full commit id instead of the workspace head.
  std::string at;
  /// Default: kInclude; kReference for a single-version export.
  std::optional<DependencyPolicy> dependencies;
  /// Set: a single-version export of the one selected flow, from its
  /// version tag (0: the latest published version).
  std::optional<int> version;
  /// The package file. Empty: "<Flow Name>.zip" for a single version, else
  /// "export.studiopkg" or "export <n>.studiopkg" (smallest free n), in
  /// \a directory.
  std::string output;
  std::string directory = ".";
  enum class Overwrite { kNo, kYes };
  /// Whether an existing file may be replaced (never for automatic names).
  Overwrite overwrite = Overwrite::kNo;
  /// Whether sample data (n8n "pinData") is written; stripped by default.
  enum class SampleData { kStrip, kKeep };
  SampleData sample_data = SampleData::kStrip;
  /// Called now and then with flows done and flows in all; may be empty.
  std::function<void(std::size_t done, std::size_t total)> progress;
  /// How many of the flows written ExportResult::flows (and
  /// ForeignExportResult::flows) lists (the first, by path); all by
  /// default. A caller that shows a few keeps memory from growing with the
  /// package.
  std::size_t listed_flows = SIZE_MAX;
};

struct ExportResult {
  std::string path;  ///< the package written
  std::string workspace;
  std::string commit;          ///< the source commit
  std::size_t flow_count = 0;  ///< flows written
  /// The first ExportRequest::listed_flows flows written, by path; their
  /// files and requirements are left empty (the package's manifest has
  /// them): holding every flow's at once would make memory grow with the
  /// package.
  std::vector<PackageFlowInfo> flows;
  std::vector<std::string> included_dependencies;    ///< added because selected flows use them
  std::vector<std::string> referenced_dependencies;  ///< used but left out
  std::uint64_t bytes = 0;                           ///< size of the package file
  std::string sha256;                                ///< of the package file
};

/// Writes a package of the selected flows at one commit. Everything is read,
/// stripped (credential bindings, secret variable values and references,
/// endpoint, sharing, audit) and validated before anything is written; an
/// invalid flow or any secret left in what would be written fails the
/// export with every problem listed (kInvalidData), and no file is left
/// behind. The file is written to a temporary name in the target folder and
/// renamed into place. Needs the integrator role. Throws kInvalidArgument,
/// kNotFound, kAlreadyExists (output exists), kInvalidData,
/// kPermissionDenied or kIo.
ExportResult ExportPackage(FlowRepository& repo, const ExportRequest& request);

struct ImportRequest {
  std::string package;  ///< path of the package file
  std::string workspace = "main";
  std::string draft;               ///< empty: "import-<package file name>"
  std::vector<std::string> flows;  ///< only these package flows; empty: all
  enum class Mode {
    kAdd,       ///< new flows; an id that exists in the workspace is refused
    kOverride,  ///< the one imported flow replaces override_flow
    kAsNew,     ///< new flows under unique ids and names
    /// Each package flow whose id exists in the target (the draft, else
    /// the workspace) replaces that flow as kOverride does; the others are
    /// added as kAdd adds them. Promotes a group to a workspace that has
    /// some of its flows already.
    kOverrideExisting,
  };
  Mode mode = Mode::kAdd;
  /// kOverride: the existing flow; the imported one takes its id and group,
  /// so publishing makes its next version (kOverrideExisting: likewise for
  /// every flow it replaces).
  std::string override_flow;
  std::string new_id;    ///< kAsNew with one flow: its id (default: unique)
  std::string new_name;  ///< kAsNew with one flow: its name (default: unique)
  /// Topic in the package -> topic of the target workspace.
  std::map<std::string, std::string> topics;
  /// For env variables the replaced flow already has.
  enum class EnvConflict { kKeep, kOverwrite };
  EnvConflict env_conflict = EnvConflict::kKeep;
  bool dry_run = false;  ///< check and plan only; write nothing
  /// Components the flows use and the target lacks are declared in its
  /// settings by a commit on the same draft, instead of refusing the
  /// import (publish lists them as settings changes).
  bool declare_components = false;
  PackageLimits limits;
};

struct ImportedFlow {
  std::string source_id;  ///< id in the package
  std::string id;         ///< id in the workspace
  std::string name;
  std::string group;
  enum class Action { kAdded, kOverridden };
  Action action = Action::kAdded;
  /// Nodes whose credential must be bound ('flowrepo bind') before publish.
  std::vector<std::string> unbound_credentials;
  /// Secret variables without a reference ('flowrepo bind --secret'): a
  /// package never supplies one, and publish refuses the flow until bound.
  std::vector<std::string> unbound_secrets;
  std::map<std::string, std::string> topics;  ///< mappings applied
  std::vector<std::string> kept_env;          ///< target values kept
  std::vector<std::string> overwritten_env;   ///< target values replaced
};

struct ImportResult {
  std::string package;
  std::string workspace;
  std::string draft;
  bool dry_run = false;
  bool created_draft = false;  ///< (would) create the draft
  std::string commit;          ///< the draft head; empty for a dry run
  std::string source_workspace;
  std::string source_commit;
  std::vector<ImportedFlow> flows;
  /// With declare_components: what the draft declares (or would).
  std::vector<std::string> declared_components;
};

/// Verifies the package and the target completely (package problems as
/// VerifyPackage finds them, components the target workspace lacks, topics
/// neither mapped nor existing, id collisions, subflows missing in the
/// target, option mistakes) and throws kInvalidData listing every problem
/// before anything is written. Then commits the flows onto a draft branch
/// only: never the workspace branch. Credential bindings are never imported.
/// Needs the integrator role. Throws kNotFound, kIo, kInvalidArgument,
/// kInvalidData, kConflict or kPermissionDenied.
ImportResult ImportPackage(FlowRepository& repo, const ImportRequest& request);

/// Export of \a source (output ignored) imported at once with \a target
/// (package ignored; target.workspace is the destination), without a file
/// in between. Needs the integrator role in both workspaces.
ImportResult CopyToWorkspace(FlowRepository& repo, const ExportRequest& source, const ImportRequest& target);

struct BindRequest {
  std::string workspace = "main";
  std::string draft;
  /// The flow to bind; empty: every flow the draft changes (\a types only).
  std::string flow;
  std::map<std::string, std::string> credentials;  ///< node id -> credential name
  std::map<std::string, std::string> secrets;      ///< secret variable -> reference ("vault:...")
  /// Credential type -> credential name: every unbound node needing that
  /// type ("slackApi") is bound to it; nodes already bound are left alone.
  std::map<std::string, std::string> types;
};

/// Binds credentials to nodes (named, or every unbound node of a type) and
/// references to secret variables of \a request.flow, or by type of every
/// flow the draft changes, on an existing draft, in one commit. A
/// credential or reference that looks like a secret value itself is
/// refused. Throws kNotFound (draft, flow), kInvalidArgument (a node that
/// needs no credential, a type no unbound node needs, a variable that is
/// not secret, a malformed name or reference) or kPermissionDenied.
WriteResult BindCredentials(FlowRepository& repo, const BindRequest& request);

/// A node that needs a credential and has none.
struct UnboundNode {
  std::string node;
  std::string type;     ///< the kind of credential it needs
  std::string pointer;  ///< where the binding goes in flow_definition.json
};

/// What one flow still needs bound before it can be published.
struct UnboundFlow {
  std::string flow;
  std::string path;  ///< "flows/<group>/<id>"
  std::vector<UnboundNode> credentials;
  std::vector<std::string> secrets;  ///< secret variables without a reference
};

/// The flows \a draft changes that publish would refuse for unbound
/// credentials or secret references, sorted by id. Needs the viewer role.
/// Throws kNotFound.
std::vector<UnboundFlow> ListUnbound(const FlowRepository& repo, std::string_view workspace, std::string_view draft);

/// \a name made safe as a file name on common file systems: no path
/// separators, reserved or control characters, reserved device names or
/// trailing dots and spaces; at most 100 bytes. Empty input gives "flow".
std::string SafeFileName(std::string_view name);

}  // namespace flowrepo

#endif  // FLOWREPO_PACKAGE_H_
