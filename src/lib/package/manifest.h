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
  std::string group;           ///< flow files: the group path ("" at the top)
  std::string id;              ///< flow files: the flow id
  std::string file;            ///< flow files: "flow_definition.json", ...
  std::string folder() const;  ///< "flows/<group>/<id>"
};

/// Parses \a name, or returns std::nullopt with the reason in \a why.
std::optional<EntryName> ParseEntryName(std::string_view name, const PackageLimits& limits, std::string& why);

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
/// A flow read back from FlowToJson's form (what it cannot read is left
/// empty: the JSON is the exporter's own).
PackageFlowInfo FlowFromJson(const Json& flow);

/// A flow's place in the group hierarchy.
struct FlowInGroup {
  std::string_view id;
  std::string_view group;
};
/// The manifest's "groups" tree: {"flows": [ids], "groups": {"<name>": {...}}}.
Json GroupTree(const std::vector<FlowInGroup>& flows);
Json GroupTree(const std::vector<PackageFlowInfo>& flows);

/// A manifest made flow by flow, so that memory never holds every flow's
/// entry at once: \a head has everything but the flows and the flow-tagged
/// requirement lists (its flows, requirements.credentials and
/// requirements.env_variables are not read); flow i, in path order, gives
/// its entry and its credential and env variable requirements, each item
/// with its "flow". The functions are called from many threads at once.
struct ManifestSource {
  const PackageManifest& head;
  Json groups;  ///< GroupTree of the flows (O(flows): moved, not copied)
  std::size_t flow_count = 0;
  std::function<Json(std::size_t)> flow;
  std::function<std::vector<Json>(std::size_t)> credentials;
  std::function<std::vector<Json>(std::size_t)> env_variables;
};

/// CanonicalJson of the manifest \a source describes, made a block of flows
/// at a time on all cores: \a sink receives the text in order, in chunks,
/// the last with last = true. \a visit sees each part with the JSON pointer
/// it has in the document ("" for the head, "/flows/<i>",
/// "/requirements/credentials/<i>", ...), e.g. for the secret scan; it must
/// be thread-safe.
void WriteManifestText(ManifestSource source, const std::function<void(const Json&, const std::string&)>& visit,
                       const std::function<void(std::string_view chunk, bool last)>& sink);

/// Reads a manifest whose schema is kPackageSchema. Every missing or
/// malformed field becomes a problem in \a problems (file manifest.json).
PackageManifest ManifestFromJson(const Json& doc, std::vector<Problem>& problems);

/// Every group path of \a flows with all their parents, sorted.
std::vector<std::string> AllGroups(const std::vector<PackageFlowInfo>& flows);

}  // namespace flowrepo

#endif  // FLOWREPO_PACKAGE_MANIFEST_H_
