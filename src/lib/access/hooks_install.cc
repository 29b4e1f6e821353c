// Hook scripts and `flowrepo hooks install`. The scripts only call the
// flowrepo binary: every decision is made by the library (validate.cc for
// pre-commit, receive.cc for pre-receive), where it is unit-tested.

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "file_io.h"
#include "flowrepo/error.h"
#include "flowrepo/hooks.h"
#include "repo/store.h"

namespace flowrepo {
namespace {

namespace fs = std::filesystem;

// For a word inside "${FLOWREPO:-...}": escape what double quotes and
// parameter expansion treat specially.
std::string DoubleQuoted(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"' || c == '$' || c == '`' || c == '}') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string HookScript(std::string_view name, const std::string& flowrepo) {
  const std::string binary = DoubleQuoted(flowrepo);
  if (name == "pre-commit") {
    return "#!/usr/bin/env bash\n"
           "# flowrepo pre-commit hook: validates what the commit changes (flow folders\n"
           "# under flows/, .flowrepo/workspace.json, staged *.studiopkg and *.zip\n"
           "# packages) and blocks the commit listing every problem with its file and\n"
           "# JSON pointer. Install with 'flowrepo hooks install'; $FLOWREPO overrides\n"
           "# the flowrepo binary. Skip once with 'git commit --no-verify'.\n"
           "set -u\n"
           "FLOWREPO=\"${FLOWREPO:-" +
           binary +
           "}\"\n"
           "exec \"$FLOWREPO\" validate --staged\n";
  }
  if (name == "pre-receive") {
    return "#!/usr/bin/env bash\n"
           "# flowrepo pre-receive hook for a shared repository: refuses pushes that\n"
           "# update a workspace branch, draft or version tag without the role, change\n"
           "# roles without admin, rewrite a workspace branch, move or delete a version\n"
           "# tag, or bring invalid flows or plain-text secrets onto a workspace branch.\n"
           "# The pushing user is the one the transport authenticated: $GL_USERNAME\n"
           "# (GitLab), $GL_USER (gitolite), $REMOTE_USER (HTTP authentication, SSH\n"
           "# forced command); $FLOWREPO_USER only with git config\n"
           "# flowrepo.trustUserEnvironment true. Install with\n"
           "# 'flowrepo hooks install --server'; $FLOWREPO overrides the binary.\n"
           "set -u\n"
           "FLOWREPO=\"${FLOWREPO:-" +
           binary +
           "}\"\n"
           "exec \"$FLOWREPO\" hook pre-receive\n";
  }
  throw Error(ErrorCode::kInvalidArgument,
              "unknown hook '" + std::string(name) + "' (expected pre-commit or pre-receive)");
}

std::vector<std::string> InstallHooks(const std::string& repository, HookSet set, const std::string& flowrepo,
                                      HookOverwrite overwrite) {
  Store store = Store::Open(repository);
  fs::path dir;
  std::string configured = store.ConfigString("core.hooksPath");
  if (!configured.empty()) {
    dir = configured;
    if (dir.is_relative()) {
      // Relative to the work tree (or the git directory when bare), as git does.
      const char* workdir = git_repository_workdir(store.raw());
      dir = fs::path(workdir ? workdir : store.git_dir()) / dir;
    }
  } else {
    dir = fs::path(store.git_dir()) / "hooks";
  }
  const std::string name = set == HookSet::kServer ? "pre-receive" : "pre-commit";
  const std::string text = HookScript(name, flowrepo);
  fs::path path = (dir / name).lexically_normal();
  std::error_code ec;
  if (fs::exists(path, ec)) {
    if (TryReadFile(path) != text && overwrite == HookOverwrite::kNo) {
      throw Error(ErrorCode::kAlreadyExists, "hook '" + path.string() + "' exists; pass --force to replace it");
    }
  }
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorCode::kIo, "cannot create '" + dir.string() + "': " + ec.message());
  fs::path temp = path;
  temp += ".flowrepo-tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw Error(ErrorCode::kIo, "cannot write '" + temp.string() + "'");
  }
  if (::chmod(temp.c_str(), 0755) != 0) throw Error(ErrorCode::kIo, "cannot make '" + temp.string() + "' executable");
  fs::rename(temp, path, ec);
  if (ec) throw Error(ErrorCode::kIo, "cannot write '" + path.string() + "': " + ec.message());
  return {path.string()};
}

}  // namespace flowrepo
