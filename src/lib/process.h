#ifndef FLOWREPO_PROCESS_H_
#define FLOWREPO_PROCESS_H_

// Running a helper program git users already configure (`git credential`,
// `ssh-keygen`) and reading what it prints.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace flowrepo {

/// A program running with a pipe to its stdin and one from its stdout; its
/// stderr is inherited. The caller closes both ends and waits for pid.
struct Child {
  pid_t pid = -1;
  int to_child = -1;
  int from_child = -1;
};

/// Starts \a argv (argv[0] looked up in PATH); std::nullopt when it cannot
/// be started. Both ends close on exec.
std::optional<Child> StartChild(const std::vector<std::string>& argv);

struct ProcessResult {
  int exit_status = -1;  ///< -1 when it could not be started or was killed
  std::string out;       ///< what it wrote to stdout
};

/// Runs \a argv (argv[0] looked up in PATH) with \a input on its stdin and
/// its stderr inherited, so prompts reach the user's terminal. Never throws
/// for the program's failure: the caller decides what a status means.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& input = "");

}  // namespace flowrepo

#endif  // FLOWREPO_PROCESS_H_
