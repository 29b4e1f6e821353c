#ifndef FLOWREPO_PROCESS_H_
#define FLOWREPO_PROCESS_H_

// Running git (fetch, push) and reading what it prints.

#include <string>
#include <vector>

namespace flowrepo {

/// How a child runs besides its arguments.
struct ChildOptions {
  bool merge_stderr = false;     ///< its stderr goes where its stdout goes
  std::vector<std::string> env;  ///< "NAME=value" set on top of ours
};

struct ProcessResult {
  int exit_status = -1;  ///< -1 when it could not be started or was killed
  std::string out;       ///< what it wrote to stdout (and stderr, merged)
};

/// Runs \a argv (argv[0] looked up in PATH) with an empty stdin and its
/// stderr inherited unless \a options merge it; prompts (git credentials,
/// ssh) use the terminal itself. Never throws for the program's failure:
/// the caller decides what a status means.
ProcessResult RunProcess(const std::vector<std::string>& argv, const ChildOptions& options = {});

}  // namespace flowrepo

#endif  // FLOWREPO_PROCESS_H_
