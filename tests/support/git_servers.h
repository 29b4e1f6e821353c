#ifndef FLOWREPO_TESTS_SUPPORT_GIT_SERVERS_H_
#define FLOWREPO_TESTS_SUPPORT_GIT_SERVERS_H_

// Real git servers on free loopback ports, started and stopped by a test:
// git daemon, git http-backend behind lighttpd over TLS with basic
// authentication, and sshd with one key per user. Each user gets a home
// directory whose git config and ~/.ssh make flowrepo (and git) reach the
// server as that user, the way a real user's machine would. A server that
// does not start fails the test (throws), it never skips.

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace flowrepo::testing {

/// A port on 127.0.0.1 that was free a moment ago.
int FreePort();

/// A process running in the background until destroyed (SIGTERM, then
/// waited for). Its stdout and stderr go to \a log.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
             const std::string& log);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

 private:
  pid_t pid_ = -1;
};

/// One transport to a directory of bare repositories.
class GitServer {
 public:
  virtual ~GitServer() = default;
  /// "path", "file", "git", "https" or "ssh".
  virtual std::string name() const = 0;
  /// The URL of repository \a repo (a path under the served directory).
  virtual std::string Url(const std::string& repo) const = 0;
  /// Whether the server itself authenticates users (https, ssh): then the
  /// hook sees that identity whatever the pusher claims.
  virtual bool authenticates() const { return false; }
  /// Prepares \a home for \a user (git config user.email, credentials,
  /// keys, trusted CA and host keys), as that user's machine would be.
  virtual void AddUser(const std::string& user, const std::string& home) = 0;
  /// Starts serving (after the users are added).
  virtual void Start() = 0;
};

/// \a kind is one of name()'s values; \a root is the directory of bare
/// repositories, \a dir a scratch directory for the server's files.
std::unique_ptr<GitServer> MakeGitServer(const std::string& kind, const std::string& root, const std::string& dir);

}  // namespace flowrepo::testing

#endif  // FLOWREPO_TESTS_SUPPORT_GIT_SERVERS_H_
