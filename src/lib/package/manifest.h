#ifndef FLOWREPO_PACKAGE_MANIFEST_H_
#define FLOWREPO_PACKAGE_MANIFEST_H_

// manifest.json and the names a package may hold (docs/package-format.md).
// Entry names are checked against an allowlist: only manifest.json and
// flows/<group...>/<id>/<file>.json with valid ids and groups, nothing
// hidden, no '..', no absolute or backslashed names, no names that mean
// something else on Windows or macOS file systems.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flowrepo/package.h"
#include "flowrepo/validation.h"
#include "json/json_io.h"

namespace flowrepo {

inline constexpr std::string_view kManifestName = "manifest.json";

/// A package entry name taken apart.
struct EntryName {
  bool manifest = false;
  std::string group;  ///< flow files: the group path ("" at the top)
  std::string id;     ///< flow files: the flow id
  std::string file;   ///< flow files: "flow_definition.json", ...
  std::string folder() const;  ///< "flows/<group>/<id>"
};

/// Parses \a name, or returns std::nullopt with the reason in \a why.
std::optional<EntryName> ParseEntryName(std::string_view name, const PackageLimits& limits,
                                        std::string& why);

/// \a text with control characters, invalid UTF-8 and backslashes escaped
/// as \xNN, cut at 200 bytes: safe to put in a one-line message.
std::string Printable(std::string_view text);

/// True for well-formed UTF-8 (no overlong forms, surrogates or values
/// above U+10FFFF).
bool IsValidUtf8(std::string_view text);

/// ASCII lower case, for detecting names that collide on case-insensitive
/// file systems.
std::string FoldCase(std::string_view text);

/// The manifest as JSON; CanonicalJson of it is what a package holds.
Json ManifestToJson(const PackageManifest& manifest);
/// One flow of the manifest as JSON.
Json FlowToJson(const PackageFlowInfo& flow);
/// CanonicalJson(ManifestToJson(manifest)), made a block of flows at a
/// time so that memory never holds the whole document: \a sink receives the
/// text in order, in chunks, the last with last = true. \a visit sees each
/// part with the JSON pointer it has in the document ("" for the top level
/// without the flows, "/flows/<i>" for each flow), e.g. for the secret scan;
/// flows' parts are made on all cores, so \a visit must be thread-safe.
void WriteManifestText(const PackageManifest& manifest,
                       const std::function<void(const Json&, const std::string&)>& visit,
                       const std::function<void(std::string_view chunk, bool last)>& sink);

/// Reads a manifest whose schema is kPackageSchema. Every missing or
/// malformed field becomes a problem in \a problems (file manifest.json).
PackageManifest ManifestFromJson(const Json& doc, std::vector<Problem>& problems);

/// Every group path of \a flows with all their parents, sorted.
std::vector<std::string> AllGroups(const std::vector<PackageFlowInfo>& flows);

}  // namespace flowrepo

#endif  // FLOWREPO_PACKAGE_MANIFEST_H_
