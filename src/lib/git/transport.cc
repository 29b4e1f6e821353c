#include "git/transport.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>

#include "flowrepo/error.h"
#include "git/handles.h"
#include "process.h"

namespace flowrepo::git {
namespace {

using RemotePtr = std::unique_ptr<git_remote, Free<git_remote_free>>;

// A URL with no scheme and no "host:" part is a path.
bool IsPath(std::string_view url) {
  if (url.find("://") != std::string_view::npos) return false;
  auto colon = url.find(':');
  return colon == std::string_view::npos || url.find('/') < colon;
}

std::string RepoDir(git_repository* repo) {
  const char* work = git_repository_workdir(repo);
  return work ? work : git_repository_path(repo);
}

// The URL \a remote (a configured remote's name, or a URL or path) pushes
// or fetches from, for messages and the password check.
std::string RemoteUrl(git_repository* repo, const std::string& remote, bool push) {
  git_remote* raw = nullptr;
  if (git_remote_lookup(&raw, repo, remote.c_str()) < 0) return remote;
  RemotePtr named(raw);
  const char* url =
      push && git_remote_pushurl(named.get()) ? git_remote_pushurl(named.get()) : git_remote_url(named.get());
  return url ? url : remote;
}

// git's own progress, not a message: "Compressing objects: 100% (44/44),
// done.", "Enumerating objects: 67, done.", "Total 67 (delta 25), ...".
bool IsProgress(std::string_view line) {
  if (line.rfind("Total ", 0) == 0 && line.find("(delta ") != std::string_view::npos) return true;
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  bool counted = line.find("% (") != std::string_view::npos || line.ends_with(", done.");
  return counted && std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon),
                                [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == ' '; });
}

// What a git command said (its stderr merged into its stdout).
struct GitReport {
  std::vector<std::string> refused;  // push: "<ref>: <reason>", the atomic fallout left out
  std::vector<std::string> errors;   // "fatal:" and "error:" lines, and ssh's own
  std::string all;
};

// Passes the server's lines ("remote: ...") to \a lines and collects the
// rest: the refs `push --porcelain` refused, and the errors.
GitReport ReadGitOutput(const std::string& output, const ServerLines& lines) {
  GitReport report;
  report.all = output;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.rfind("remote: ", 0) == 0) {
      std::string_view text = std::string_view(line).substr(8);
      if (lines && !text.empty() && !IsProgress(text)) lines(text);
    } else if (line.rfind("!\t", 0) == 0) {
      // "!<TAB>src:dst<TAB>[rejected] (reason)"
      auto tab = line.find('\t', 2);
      std::string refs = line.substr(2, tab - 2);
      std::string dst = refs.substr(refs.find(':') + 1);
      std::string summary = tab == std::string::npos ? "" : line.substr(tab + 1);
      if (summary.find("atomic push failed") == std::string::npos) report.refused.push_back(dst + ": " + summary);
    } else if (line.rfind("fatal: ", 0) == 0 || line.rfind("error: ", 0) == 0) {
      report.errors.push_back(line.substr(line.find(' ') + 1));
    }
  }
  return report;
}

// Why git could not talk to the server, in one line: the usual causes
// named with what to do, anything else as git said it.
std::string Reason(const GitReport& report) {
  const std::string& all = report.all;
  auto has = [&](std::string_view text) { return all.find(text) != std::string::npos; };
  if (has("certificate verification failed") || has("SSL certificate problem")) {
    return "its TLS certificate is not trusted (name the CA with http.sslCAInfo or GIT_SSL_CAINFO)";
  }
  if (has("Authentication failed") || has("could not read Username") || has("could not read Password")) {
    return "authentication failed (git's credential helpers supply the user and password: git help credentials)";
  }
  if (has("REMOTE HOST IDENTIFICATION HAS CHANGED")) {
    return "its SSH host key is not the one in known_hosts: someone may be impersonating the server";
  }
  if (has("Host key verification failed") || has("host key is known for")) {
    return "its SSH host key is not in ~/.ssh/known_hosts (add it with ssh-keyscan after checking it)";
  }
  if (has("Permission denied (publickey")) return "the server refused the SSH key (ssh-agent or ~/.ssh/id_*)";
  if (!report.errors.empty()) return report.errors.front();
  return "git failed";
}

// Runs git in \a repo; messages in git's own words whatever the user's
// language, since they are read here.
ProcessResult RunGit(git_repository* repo, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-C", RepoDir(repo)});
  return RunProcess(args, {.merge_stderr = true, .env = {"LC_ALL=C"}});
}

std::vector<std::string> PushArguments(const std::string& remote, const std::vector<PushUpdate>& updates) {
  // Only the refs named: no tags followed, whatever push.followTags says.
  std::vector<std::string> args = {"push", "--atomic", "--porcelain", "--no-follow-tags"};
  for (const auto& u : updates) {
    args.push_back("--force-with-lease=" + u.dst + ":" + (u.expected ? OidHex(*u.expected) : ""));
  }
  args.push_back(remote);
  for (const auto& u : updates) args.push_back(u.src + ":" + u.dst);
  return args;
}

}  // namespace

void RequireNoPasswordInUrl(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return;
  std::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find('/'));
  auto at = authority.rfind('@');
  if (at != std::string_view::npos && authority.substr(0, at).find(':') != std::string_view::npos) {
    throw Error(ErrorCode::kInvalidArgument,
                "the remote URL carries a password: remove it and let a git credential helper supply it "
                "(git help credentials)");
  }
}

std::string UrlToRecord(const std::string& url) {
  return IsPath(url) ? std::filesystem::absolute(url).lexically_normal().string() : url;
}

void Fetch(git_repository* repo, const std::string& remote, const std::vector<std::string>& refspecs,
           const ServerLines& lines) {
  const std::string url = RemoteUrl(repo, remote, /*push=*/false);
  RequireNoPasswordInUrl(url);
  // All refs in one transaction; refs the server no longer has go.
  std::vector<std::string> args = {"fetch",
                                   "--atomic",
                                   "--prune",
                                   "--no-tags",
                                   "--no-write-fetch-head",
                                   "--no-auto-maintenance",
                                   "--no-recurse-submodules",
                                   remote};
  args.insert(args.end(), refspecs.begin(), refspecs.end());
  ProcessResult r = RunGit(repo, args);
  GitReport report = ReadGitOutput(r.out, lines);
  if (r.exit_status < 0) throw Error(ErrorCode::kRemote, "cannot fetch from '" + url + "': git could not be run");
  if (r.exit_status != 0) throw Error(ErrorCode::kRemote, "cannot fetch from '" + url + "': " + Reason(report));
}

void Push(git_repository* repo, const std::string& remote, const std::vector<PushUpdate>& updates,
          const ServerLines& lines) {
  const std::string url = RemoteUrl(repo, remote, /*push=*/true);
  RequireNoPasswordInUrl(url);
  ProcessResult r = RunGit(repo, PushArguments(remote, updates));
  GitReport report = ReadGitOutput(r.out, lines);
  if (r.exit_status == 0) return;
  if (r.exit_status < 0) throw Error(ErrorCode::kRemote, "cannot push to '" + url + "': git could not be run");
  if (report.refused.empty()) throw Error(ErrorCode::kRemote, "cannot push to '" + url + "': " + Reason(report));
  const std::string& first = report.refused.front();
  // The lease failed before sending, or receive-pack lost a race to another push.
  for (const char* race : {"stale info", "failed to lock", "cannot lock ref", "failed to update ref"}) {
    if (first.find(race) != std::string::npos) {
      throw Error(ErrorCode::kConflict, "the server '" + url + "' refused " + first + " (another push won)");
    }
  }
  throw Error(ErrorCode::kRemote, "the server '" + url + "' refused " + first, report.refused);
}

}  // namespace flowrepo::git
