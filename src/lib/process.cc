#include "process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string_view>

extern char** environ;

namespace flowrepo {
namespace {

// Both ends close on exec; the child gets its end through dup2.
bool MakePipe(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0; }

std::string ReadAll(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

// Our environment with \a overrides ("NAME=value") replacing or adding.
std::vector<std::string> EnvironmentWith(const std::vector<std::string>& overrides) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = std::any_of(overrides.begin(), overrides.end(), [&](const std::string& o) {
      return o.size() > name.size() && o.compare(0, name.size(), name) == 0 && o[name.size()] == '=';
    });
    if (!replaced) out.emplace_back(entry);
  }
  out.insert(out.end(), overrides.begin(), overrides.end());
  return out;
}

std::vector<char*> Pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// A program running with a pipe to its stdin and one from its stdout.
struct Child {
  pid_t pid = -1;
  int to_child = -1;
  int from_child = -1;
};

// Starts \a argv (argv[0] looked up in PATH); std::nullopt when it cannot
// be started. Both ends close on exec.
std::optional<Child> StartChild(const std::vector<std::string>& argv, const ChildOptions& options) {
  int in[2], out[2];
  if (!MakePipe(in)) return std::nullopt;
  if (!MakePipe(out)) {
    close(in[0]);
    close(in[1]);
    return std::nullopt;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  if (options.merge_stderr) posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
  std::vector<char*> args = Pointers(argv);
  const std::vector<std::string> env = options.env.empty() ? std::vector<std::string>{} : EnvironmentWith(options.env);
  std::vector<char*> env_pointers = Pointers(env);
  Child child;
  int rc = posix_spawnp(&child.pid, args[0], &actions, nullptr, args.data(),
                        options.env.empty() ? environ : env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    return std::nullopt;
  }
  child.to_child = in[1];
  child.from_child = out[0];
  return child;
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv, const ChildOptions& options) {
  ProcessResult result;
  std::optional<Child> child = StartChild(argv, options);
  if (!child) return result;
  close(child->to_child);  // nothing to read: prompts go to the terminal
  result.out = ReadAll(child->from_child);
  close(child->from_child);
  int status = 0;
  while (waitpid(child->pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
  return result;
}

}  // namespace flowrepo
