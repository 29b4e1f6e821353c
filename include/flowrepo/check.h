#ifndef FLOWREPO_CHECK_H_
#define FLOWREPO_CHECK_H_

// `flowrepo check`: the invariants of a flow repository that git itself
// does not know (docs/repository-format.md): version tags backed by their
// publish commits, version numbers without gaps, publish commits with all
// their tags, readable workspace settings, unique flow ids, work trees in
// step with their branches.

#include <string>
#include <vector>

namespace flowrepo {

/// The kind of a problem check found. The names CheckKindName gives are
/// stable: scripts read them from `check --json`.
enum class CheckKind {
  kUnbackedTag,       ///< "unbacked-tag": a version tag no publish commit of its workspace backs
  kInvalidTagName,    ///< "invalid-tag-name": a tag under refs/tags/<ws>/ not named <flow>/v<N>
  kMissingTag,        ///< "missing-tag": a publish commit names a version that has no tag
  kDuplicateVersion,  ///< "duplicate-version": two publish commits name the same version
  kVersionGap,        ///< "version-gap": a flow's versions are not v1..vN
  kInvalidTrailer,    ///< "invalid-trailer": a Flowrepo trailer of a publish commit does not parse
  kMissingSettings,   ///< "missing-settings": a workspace head without .flowrepo/workspace.json
  kInvalidSettings,   ///< "invalid-settings": .flowrepo/workspace.json does not parse
  kDuplicateFlowId,   ///< "duplicate-flow-id": two flow folders of a workspace head share an id
  kStaleWorkTree,     ///< "stale-work-tree": a killed process left a work tree behind its branch
};

/// "unbacked-tag", ... (see CheckKind).
const char* CheckKindName(CheckKind kind);

/// One problem: what is wrong, where, and a one-line message.
struct CheckProblem {
  CheckKind kind;
  std::string workspace;
  std::string ref;      ///< the tag, branch or commit concerned ("refs/tags/main/x/v2")
  std::string flow;     ///< the flow concerned, or empty
  std::string message;  ///< one line, lower-case, values quoted

  /// "<kind> <ref>: <message>".
  std::string ToString() const;
};

struct CheckOptions {
  enum class Repair {
    kNo,
    /// Create the tags that publish commits name but lack (never moves or
    /// deletes a ref). Needs the integrator role in the workspace.
    kMissingTags,
  };
  Repair repair = Repair::kNo;
};

/// What check looked at and found.
struct CheckReport {
  std::vector<std::string> workspaces;  ///< checked
  std::vector<std::string> skipped;     ///< workspaces the user has no role in
  int version_tags = 0;                 ///< tags named like versions
  int publish_commits = 0;              ///< publish (and creation) commits read
  std::vector<std::string> repaired;    ///< tags created by Repair::kMissingTags
  std::vector<CheckProblem> problems;   ///< empty when everything holds
  bool ok() const { return problems.empty(); }
};

}  // namespace flowrepo

#endif  // FLOWREPO_CHECK_H_
