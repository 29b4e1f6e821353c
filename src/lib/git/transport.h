#ifndef FLOWREPO_GIT_TRANSPORT_H_
#define FLOWREPO_GIT_TRANSPORT_H_

// Fetch and push through libgit2 (file, git://, HTTPS, SSH as Debian builds
// it), with credentials and trust taken from git's own mechanisms:
//
// - HTTP(S) user and password: `git credential fill` (the user's credential
//   helpers, or git's prompt), approved or rejected after the attempt as
//   git does. A password inside a URL is refused.
// - TLS: libgit2 checks certificates; `GIT_SSL_CAINFO` or `http.sslCAInfo`
//   name the trusted roots as they do for git.
// - SSH: keys from ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa; the
//   host key must be in ~/.ssh/known_hosts or /etc/ssh/ssh_known_hosts
//   (looked up with `ssh-keygen -F`, so hashed entries work).
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
/// URL or path). Throws Error(kRemote) naming the remote when it cannot be
/// reached or does not authenticate us.
void Fetch(git_repository* repo, const std::string& remote, const std::vector<std::string>& refspecs,
           const ServerLines& lines = {});

/// One ref to set on the server: \a dst to the commit or tag local ref
/// \a src names, only if the server's \a dst is \a expected (absent when
/// nullopt) when the update is made.
struct PushUpdate {
  std::string src;
  std::string dst;
  std::optional<git_oid> expected;
};

/// Pushes \a updates in one connection, each a compare-and-swap: libgit2
/// sends the value the server advertised as the old one, receive-pack
/// updates the ref only if it still has it, and a server whose advertised
/// value is not \a expected is not asked at all. Throws Error(kConflict)
/// naming the ref when the server's value differs (the caller fetches and
/// tries again), Error(kRemote) with the server's reason when it refused.
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
