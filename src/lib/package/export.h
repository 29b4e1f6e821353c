#ifndef FLOWREPO_PACKAGE_EXPORT_H_
#define FLOWREPO_PACKAGE_EXPORT_H_

// Building a package from one commit: selection, dependencies, stripping,
// validation and the manifest, before anything is written. Shared by
// ExportPackage (which streams the entries into a zip file) and
// CopyToWorkspace (which imports them from memory).

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "flow/format.h"
#include "flowrepo/package.h"
#include "json/json_io.h"
#include "package/manifest.h"
#include "repo/repository_impl.h"
#include "spool.h"

namespace flowrepo {

/// kDeflatedInSpool keeps every entry deflated in the package's spool
/// (export: written once, copied into the zip after the manifest); kAll
/// keeps every entry's bytes uncompressed in memory (copy between
/// workspaces); kNone keeps none (export in a flow's own format reads the
/// blobs again).
enum class RetainText { kDeflatedInSpool, kAll, kNone };

/// The documents of a flow, in the order of their file names.
enum class DocKind : std::uint8_t { kApp, kEnv, kDefinition };
std::string_view FileNameOf(DocKind kind);

/// One file of a package being built.
struct BuiltFile {
  DocKind kind = DocKind::kDefinition;
  std::uint32_t crc32 = 0;
  std::uint64_t size = 0;
  git_oid blob{};  ///< the stored document it is made from
  /// RetainText::kAll: the bytes; kDeflatedInSpool: their deflated form
  /// until it goes to the spool (then empty); kNone: empty.
  std::string kept;
  Spool::Span deflated;  ///< kDeflatedInSpool: where kept went
};

/// One flow of a package being built. Its manifest entry waits in the
/// package's spool, not in memory, so that memory does not grow with the
/// number of flows by more than these few fields.
struct BuiltFlow {
  std::string path;  ///< "flows/<group>/<id>", or "flows/<id>"
  const FlowFormat* format = nullptr;
  std::optional<int> version;
  git_oid commit{};  ///< of that version, else the export's commit
  /// FlowToJson of the flow without version, commit and whether each
  /// dependency is included (known only once every flow is read).
  Spool::Span entry;
  /// The flow's requirement items, each with its "flow", as JSON arrays.
  Spool::Span credentials, env_variables;
  std::vector<BuiltFile> files;  ///< sorted by name

  std::string_view id() const;
  std::string_view group() const;
};

struct BuiltPackage {
  BuiltPackage(RetainText retain_text, const std::string& spool_directory)
      : retain(retain_text), spool(spool_directory) {}

  /// Everything but the flows (see flows and Info) and the flow-tagged
  /// requirement lists, which only manifest.json holds.
  PackageManifest manifest;
  std::uint64_t manifest_size = 0;
  std::uint32_t manifest_crc32 = 0;
  std::string manifest_text;      ///< RetainText::kAll only
  Spool::Span manifest_deflated;  ///< else: in the spool
  std::vector<BuiltFlow> flows;   ///< sorted by path
  std::set<std::string> in_package;
  std::vector<std::string> included;
  std::vector<std::string> referenced;
  StripOptions strip;
  RetainText retain;
  Spool spool;

  /// The manifest entry of \a flow, complete.
  Json EntryJson(const BuiltFlow& flow) const;
  PackageFlowInfo Info(const BuiltFlow& flow) const { return FlowFromJson(EntryJson(flow)); }
  /// The bytes of \a file (RetainText::kAll, or made again from its blob
  /// for kNone).
  std::string Text(const Store& store, const BuiltFlow& flow, const BuiltFile& file) const;
};

/// Reads, strips and validates the selected flows of one commit and builds
/// the manifest. Throws (kInvalidData listing every problem) when a flow is
/// invalid, a dependency is refused or a secret would be written.
/// \a spool_directory holds the temporary file the flows' manifest entries
/// wait in.
BuiltPackage BuildPackage(FlowRepository::Impl& impl, const ExportRequest& request, RetainText retain,
                          const std::string& spool_directory);

/// app_definition.json without the fields that never leave a workspace.
Json StripApp(Json app);
/// env_variables.json with secret variables reduced to their name and
/// flag; a variable holding a reference ("ref") is a secret variable.
/// Export writes no reference into a package and import takes none from
/// one: they arrive unbound.
Json StripEnv(Json env);

}  // namespace flowrepo

#endif  // FLOWREPO_PACKAGE_EXPORT_H_
