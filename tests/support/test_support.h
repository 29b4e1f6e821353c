#ifndef FLOWREPO_TESTS_SUPPORT_TEST_SUPPORT_H_
#define FLOWREPO_TESTS_SUPPORT_TEST_SUPPORT_H_

// Shared helpers: a temporary directory per test (kept when the test
// fails), running the flowrepo binary and git, and building flows.

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "flowrepo/error.h"
#include "flowrepo/flow.h"
#include "flowrepo/repository.h"

namespace flowrepo::testing {

/// A fresh directory under $TMPDIR for the current test; removed after the
/// test unless it failed (the path is printed then).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& child) const { return path_ + "/" + child; }

 private:
  std::string path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs \a command through /bin/sh in \a cwd, capturing output.
RunResult Shell(const std::string& command, const std::string& cwd = ".");
/// Runs the built flowrepo binary with \a args (already shell-quoted).
RunResult Flowrepo(const std::string& args, const std::string& cwd = ".");
std::string Quote(const std::string& s);

/// Asserts `git fsck --full` is clean in \a repo.
void ExpectFsckClean(const std::string& repo);
/// `git for-each-ref` output: a fingerprint of all refs.
std::string RefsSnapshot(const std::string& repo);

/// A new repository at \a path, \a admin its first admin.
FlowRepository InitRepository(const std::string& path, const std::string& admin,
                              InitOptions::Layout layout = InitOptions::Layout::kWorkTree);

/// A valid native flow with \a nodes extra api nodes between start and end.
Flow MakeFlow(const std::string& id, const std::string& group = "", int nodes = 1, const std::string& subflow = "");

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

/// Expects \a fn to throw Error with \a code and, when given, \a message.
void ExpectError(ErrorCode code, const std::string& message, const std::function<void()>& fn);

std::string SourceDir();

}  // namespace flowrepo::testing

#endif  // FLOWREPO_TESTS_SUPPORT_TEST_SUPPORT_H_
