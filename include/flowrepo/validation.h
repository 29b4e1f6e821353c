#ifndef FLOWREPO_VALIDATION_H_
#define FLOWREPO_VALIDATION_H_

#include <cstddef>
#include <string>
#include <vector>

namespace flowrepo {

/// The deepest nesting of arrays and objects accepted in any JSON document
/// flowrepo reads: flows, workspace settings, package manifests.
inline constexpr std::size_t kDefaultMaxJsonDepth = 128;

/// Raises (or lowers) that nesting limit for the rest of the process (the
/// CLI's --max-json-depth). It applies to every read, so that a flow
/// accepted once is accepted by every later command of the process; call it
/// before any other work.
void SetMaxJsonDepth(std::size_t depth);

/// One problem found in a flow or package.
struct Problem {
  std::string file;     ///< "flows/Finance/banking/flow_definition.json"
  std::string pointer;  ///< JSON pointer inside the file ("/nodes/2/id"), may be empty
  std::string rule;     ///< stable rule id ("duplicate-node-id", "secret/github-pat")
  std::string message;  ///< one line, lower-case, never contains a secret value
  /// The flow's id when the problem is about one flow and \a file does not
  /// show it (a package entry, a folder); may be empty.
  std::string flow;
  /// "file:pointer: message [rule]"
  std::string ToString() const;
};

}  // namespace flowrepo

#endif  // FLOWREPO_VALIDATION_H_
