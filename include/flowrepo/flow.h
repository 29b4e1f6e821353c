#ifndef FLOWREPO_FLOW_H_
#define FLOWREPO_FLOW_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowrepo {

/// The native flow schema name written in app_definition.json "format".
inline constexpr std::string_view kNativeFormat = "flowrepo/flow@1";

/// The three files of a flow folder.
inline constexpr std::string_view kFlowDefinitionFile = "flow_definition.json";
inline constexpr std::string_view kAppDefinitionFile = "app_definition.json";
inline constexpr std::string_view kEnvVariablesFile = "env_variables.json";

/// Where a flow lives and what it is called, without its content.
struct FlowSummary {
  std::string id;
  std::string name;
  std::string group;   ///< "Finance/Retail"; empty for a top-level flow
  std::string format;  ///< "flowrepo/flow@1", "n8n", "node-red"
  /// "flows/<group>/<id>": the flow's folder in the repository tree.
  std::string path() const;
};

/// A flow with its three documents as canonical JSON text.
struct Flow {
  FlowSummary summary;
  std::string flow_definition;
  std::string app_definition;
  std::string env_variables;
};

/// How deep groups go: a group path has at most this many parts. It is the
/// depth a package can hold (an entry is flows/<group...>/<id>/<file>, at
/// most kMaxGroupDepth + 3 parts), enforced by every write (put, add,
/// copy, import), by validate and publish, and by export and package
/// reading alike, so a flow that can be written can be exported and
/// imported again.
inline constexpr std::size_t kMaxGroupDepth = 29;

/// True for workspace names and flow ids: [a-z0-9][a-z0-9._-]{0,63}, not
/// "drafts", no "..", not ending in "." or ".lock".
bool IsValidId(std::string_view id);
/// Why \a group cannot be a group path, or empty when it can: "" (the top)
/// or at most kMaxGroupDepth '/'-separated parts of at most 100 bytes, 512
/// in all, each of valid UTF-8 without control, invisible or
/// direction-changing characters (docs/reliability.md), '\\', ':', '*',
/// '?', '"', '<', '>', '|', a leading '.', a trailing '.' or space, or a
/// name Windows reserves ("con", "git~1").
std::string GroupProblem(std::string_view group);
/// GroupProblem(group) is empty.
bool IsValidGroup(std::string_view group);
/// A flow id derived from a display name ("Banking Assistant" ->
/// "banking-assistant"); empty when nothing usable remains.
std::string IdFromName(std::string_view name);

/// The one of \a candidates a user most likely meant by \a typed (at most
/// two edits away, ignoring ASCII case, and fewer than half its letters),
/// for "did you mean" hints; empty when none is close.
std::string ClosestName(const std::string& typed, const std::vector<std::string>& candidates);

/// Reads flows from the file system: \a dir is a flow folder (holding
/// app_definition.json) or a folder tree of them, whose sub-folder path
/// becomes the group (below \a group). Flow ids come from the folder names.
/// Throws kNotFound, kIo or kInvalidArgument.
std::vector<Flow> ReadFlowFolders(const std::string& dir, const std::string& group);

/// "FLOW", "FLOW@v3" or "FLOW@REF" as typed on the command line.
struct FlowSpec {
  std::string id;
  std::optional<int> version;
  std::string revision;  ///< a ref or commit; empty for the workspace head
};
/// Parses a FlowSpec. Throws kInvalidArgument.
FlowSpec ParseFlowSpec(std::string_view text);

}  // namespace flowrepo

#endif  // FLOWREPO_FLOW_H_
