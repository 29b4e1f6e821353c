#ifndef FLOWREPO_HOOKS_H_
#define FLOWREPO_HOOKS_H_

// Git hooks: the checks behind hooks/pre-receive (roles, validity and
// immutable version tags on a shared repository) and installing the hook
// scripts into a repository. docs/validation-and-hooks.md describes both.

#include <string>
#include <string_view>
#include <vector>

namespace flowrepo {

/// One line of a pre-receive hook's input: "<old> <new> <ref>".
struct RefUpdate {
  std::string old_id;  ///< 40 zeros: the ref is created
  std::string new_id;  ///< 40 zeros: the ref is deleted
  std::string ref;
};

/// Parses the "<old> <new> <ref>" lines git gives a pre-receive hook.
/// Throws kInvalidArgument on a malformed line.
std::vector<RefUpdate> ParseRefUpdates(std::string_view text);

/// The decision on one ref.
struct RefVerdict {
  std::string ref;
  bool accepted = true;
  std::vector<std::string> reasons;  ///< why not; one line each
};

struct ReceiveReport {
  std::string user;
  std::vector<RefVerdict> refs;  ///< one per update, in input order
  bool ok() const {
    for (const auto& r : refs) {
      if (!r.accepted) return false;
    }
    return true;
  }
};

/// Decides whether \a user may push \a updates into the repository at
/// \a repository (a bare server repository; run from its pre-receive hook,
/// where the pushed objects are still in git's quarantine directory, which
/// is read through GIT_OBJECT_DIRECTORY / GIT_ALTERNATE_OBJECT_DIRECTORIES).
/// Roles are those of each workspace before the push:
/// - a workspace branch: integrator to update it, fast-forward only, admin
///   to change its roles, to create it (in a repository that has
///   workspaces) or to delete it; every flow it changes must be valid and
///   free of plain-text secrets; every publish commit it brings must name
///   each flow's next version number;
/// - a draft branch refs/heads/drafts/<ws>/...: integrator in <ws>;
/// - a version tag refs/tags/<ws>/<flow>/v<N> (any tag shaped
///   <id>/<id>/v<digits>, and any tag under the name of a workspace):
///   created by an integrator in <ws>, a workspace after the push, at a
///   publish commit on it naming "<flow> v<N>", with v<N-1> a version on
///   the server or tagged by the same push; never moved; deleted only when
///   no publish commit backs it, by an admin; other names under
///   refs/tags/<ws>/ are refused;
/// - any other ref is not flowrepo's and passes.
/// All \a updates are one push, judged together (git applies all or none).
/// Throws kNotFound (no repository) or kIo; refusals go into the report.
ReceiveReport CheckReceive(const std::string& repository, const std::string& user,
                           const std::vector<RefUpdate>& updates);

/// The pushing user of a push into \a repository. The identity the
/// transport authenticated comes first: GL_USERNAME (GitLab), GL_USER
/// (gitolite), REMOTE_USER (HTTP authentication, or set by an SSH forced
/// command). \a claimed (--user or FLOWREPO_USER, which a pusher may set
/// himself on a local push) counts only when none is set and the server
/// repository's git config has flowrepo.trustUserEnvironment = true.
/// Empty when there is no such identity. Throws kNotFound (no repository).
std::string PushingUser(const std::string& repository, const std::string& claimed);

/// Which hooks to install.
enum class HookSet {
  kClient,  ///< pre-commit, into a work tree's hooks directory
  kServer,  ///< pre-receive, into a (bare) server repository
};

enum class HookOverwrite { kNo, kYes };

/// The text of hook \a name ("pre-commit" or "pre-receive") calling the
/// flowrepo binary \a flowrepo (overridable with $FLOWREPO when it runs).
/// hooks/<name> in the source tree is HookScript(name, "flowrepo").
/// Throws kInvalidArgument for another name.
std::string HookScript(std::string_view name, const std::string& flowrepo);

/// Writes the hooks of \a set into the hooks directory of the repository
/// containing \a repository (core.hooksPath is honoured), executable.
/// Returns the paths written. A different existing hook is kept unless
/// \a overwrite is kYes (kAlreadyExists). Throws kNotFound, kIo.
std::vector<std::string> InstallHooks(const std::string& repository, HookSet set, const std::string& flowrepo,
                                      HookOverwrite overwrite);

}  // namespace flowrepo

#endif  // FLOWREPO_HOOKS_H_
