#ifndef FLOWREPO_VALIDATE_H_
#define FLOWREPO_VALIDATE_H_

// `flowrepo validate`: checking flows (on disk, at a revision, or staged in
// the git index) and packages, with every problem listed by file and JSON
// pointer. docs/validation-and-hooks.md describes the checks and rules.

#include <string>
#include <string_view>
#include <vector>

#include "flowrepo/repository.h"
#include "flowrepo/validation.h"

namespace flowrepo {

/// What a validation looked at and every problem it found.
struct ValidationReport {
  std::string target;                 ///< "folder 'x'", "'main' at 1a2b3c4", "staged changes"
  std::vector<std::string> flows;     ///< flow folders checked ("flows/Finance/kyc-check")
  std::vector<std::string> packages;  ///< package files checked
  std::vector<std::string> removed;   ///< flows the staged changes delete
  std::vector<Problem> problems;      ///< empty when everything passed
  bool ok() const { return problems.empty(); }
};

/// Where the flows being checked will live: subflow targets, components and
/// topics are checked against it.
struct ValidationTarget {
  std::string repository;  ///< a directory in a repository; empty: none
  std::string workspace = "main";
};

/// Flow folders on disk: \a dir is a flow folder, a folder tree of them (its
/// sub-folders are groups), or a work tree root holding flows/ and
/// .flowrepo/workspace.json. Problems name the files on disk. When
/// \a target names a repository with that workspace, subflows, components
/// and topics are checked against the workspace head plus the folder's
/// flows; without one, subflows are checked only when \a dir is a work tree
/// root, components and topics only against a workspace.json found in it.
/// Reads only local files: no role is needed. Throws kNotFound, kIo.
ValidationReport ValidateFolder(const std::string& dir, const ValidationTarget& target);

/// Every flow and the settings of \a workspace at \a revision (a draft,
/// workspace, ref or full commit id; empty: the workspace head). Needs the
/// viewer role. Throws kNotFound, kPermissionDenied.
ValidationReport ValidateRevision(const FlowRepository& repo, std::string_view workspace, std::string_view revision);

/// Only what the git index changes relative to HEAD in the work tree of
/// \a repository: the flow folders touched, the workspace settings when
/// staged, and staged package files (*.studiopkg, *.zip). Subflow targets
/// and availability are checked against the index. Honours GIT_INDEX_FILE
/// (as set by `git commit <paths>`). The cost follows the size of the
/// change: the index and HEAD's tree are compared, and only the changed
/// flows are read. No role is needed. Throws kNotFound, kInvalidArgument
/// (bare repository).
ValidationReport ValidateStaged(const std::string& repository);

/// How thoroughly a package is checked.
enum class PackageCheck {
  kContents,      ///< layout, manifest, hashes, flows, no secrets
  kReproducible,  ///< also re-export the recorded source and compare bytes
};

/// A package file (*.studiopkg or a flowrepo *.zip): layout, manifest,
/// hashes, every flow's schema and no secret anywhere. With
/// PackageCheck::kReproducible, \a source (a repository holding the
/// package's source commit) re-exports the recorded commit and selection and
/// the bytes must be identical. Throws kNotFound, kIo; kInvalidArgument when
/// kReproducible is asked without a repository.
ValidationReport ValidatePackage(const std::string& path, PackageCheck check, FlowRepository* source);

/// True for file names validate treats as packages (*.studiopkg, *.zip).
bool IsPackagePath(std::string_view path);

}  // namespace flowrepo

#endif  // FLOWREPO_VALIDATE_H_
