#ifndef FLOWREPO_PACKAGE_EXPORT_H_
#define FLOWREPO_PACKAGE_EXPORT_H_

// Building a package from one commit: selection, dependencies, stripping,
// validation and the manifest, before anything is written. Shared by
// ExportPackage (which streams the entries into a zip file) and
// CopyToWorkspace (which imports them from memory).

#include <functional>
#include <string>
#include <vector>

#include "flowrepo/package.h"
#include "json/json_io.h"
#include "repo/repository_impl.h"

namespace flowrepo {

/// One zip entry of a package being built.
struct BuiltEntry {
  std::string name;
  std::uint64_t size = 0;
  std::string sha256;
  std::uint32_t crc32 = 0;
  std::string text;      ///< the bytes (RetainText::kAll only)
  std::string deflated;  ///< zip::Deflate of the bytes, while within the memory budget
  /// Makes the bytes again (from the blob) when neither is kept.
  std::function<std::string()> regenerate;
};

struct BuiltPackage {
  PackageManifest manifest;
  std::vector<BuiltEntry> entries;  ///< manifest.json, then flow files by path
  std::vector<std::string> included;
  std::vector<std::string> referenced;
};

/// kWithinBudget keeps entries deflated up to a memory budget (export);
/// kAll keeps every entry's bytes uncompressed (copy between workspaces).
enum class RetainText { kWithinBudget, kAll };

/// Reads, strips and validates the selected flows of one commit and builds
/// the manifest. Throws (kInvalidData listing every problem) when a flow is
/// invalid, a dependency is refused or a secret would be written.
BuiltPackage BuildPackage(FlowRepository::Impl& impl, const ExportRequest& request,
                          RetainText retain);

/// app_definition.json without the fields that never leave a workspace.
Json StripApp(Json app);
/// env_variables.json with secret variables reduced to their name.
Json StripEnv(Json env);

}  // namespace flowrepo

#endif  // FLOWREPO_PACKAGE_EXPORT_H_
