#ifndef FLOWREPO_GIT_TRANSPORT_H_
#define FLOWREPO_GIT_TRANSPORT_H_

// Fetch and push by running git itself: git's transports (a path, file://,
// git://, HTTP(S), SSH), its credential helpers, TLS settings
// (http.sslCAInfo, GIT_SSL_CAINFO), ssh command and configuration
// (core.sshCommand, ~/.ssh), proxies and URL rewriting all apply as they do
// to the user's own git commands, and git's `push --atomic` makes a push
// all or nothing, which libgit2 1.5 cannot ask for. A password inside a URL
// is refused: it would be stored in .git/config.
//
// What the server writes (hook refusals included) reaches the caller line
// by line, as git shows it after "remote: ".

#include <git2.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowrepo::git {

/// Receives each line the server wrote on its side band.
using ServerLines = std::function<void(std::string_view line)>;

/// Fetches \a refspecs from \a remote (a configured remote's name, or a
/// URL or path) in one transaction, removing the refs they map that the
/// server no longer has. Throws Error(kRemote) naming the remote and the
/// reason when it cannot be reached, is not trusted or does not
/// authenticate us.
void Fetch(git_repository* repo, const std::string& remote, const std::vector<std::string>& refspecs,
           const ServerLines& lines = {});

/// One ref to set on the server: \a dst to \a src (a local ref name or an
/// object id in hex; empty deletes \a dst), only if the server's \a dst is
/// \a expected (absent when nullopt) when the update is made.
struct PushUpdate {
  std::string src;
  std::string dst;
  std::optional<git_oid> expected;
};

/// Pushes \a updates as one atomic update, by `git push --atomic` with a
/// lease on each: all are made or none, and receive-pack checks each old
/// value under the ref's lock. Throws Error(kConflict) naming the ref when
/// the server's value differs (the caller fetches and tries again),
/// Error(kRemote) with the server's reason when it refused or could not be
/// reached. What git prints after "remote: " goes to \a lines.
void Push(git_repository* repo, const std::string& remote, const std::vector<PushUpdate>& updates,
          const ServerLines& lines = {});

/// \a url as a clone records it: a relative path made absolute (as git
/// clone does), anything else unchanged.
std::string UrlToRecord(const std::string& url);

/// Throws Error(kInvalidArgument) when \a url carries a password: it would
/// be stored in .git/config and shown by `git remote -v`.
void RequireNoPasswordInUrl(std::string_view url);

}  // namespace flowrepo::git

#endif  // FLOWREPO_GIT_TRANSPORT_H_
