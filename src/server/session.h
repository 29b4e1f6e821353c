#ifndef FLOWREPO_SERVER_SESSION_H_
#define FLOWREPO_SERVER_SESSION_H_

// Browser sessions of `flowrepo serve` (docs/server.md, "Web page"): a
// login with an API token makes a session whose id travels as an HttpOnly,
// SameSite=Strict cookie, and whose CSRF token the page sends back as
// X-CSRF-Token on every state-changing request. A session keeps the API
// token it was made from and the server looks that token up on every
// request, exactly as for a bearer token, so revoking the token ends its
// sessions at their next request.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace flowrepo::server {

/// The cookie that carries a session id.
inline constexpr std::string_view kSessionCookie = "flowrepo_session";
/// The header that carries a session's CSRF token.
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

/// What a session stands for. Never sent to a client but csrf_token.
struct Session {
  std::string token;  ///< the API token it was made from (secret)
  std::string user;   ///< the token's user at login
  std::string csrf_token;
};

/// Whether a request may change state, and so needs the CSRF token.
enum class Method { kSafe, kChanging };

/// Sessions in memory: lost when the server stops (the page logs in
/// again). Thread-safe. Ids are kept only as their SHA-256, so that
/// looking one up leaks nothing of another through timing.
class SessionStore {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  /// Sessions unused for \a idle expire; \a clock is the steady clock
  /// unless a test gives its own. At most \a max_sessions live at once:
  /// making one more first drops the expired, then the least recently used.
  explicit SessionStore(std::chrono::seconds idle = std::chrono::hours(12), Clock clock = {},
                        std::size_t max_sessions = 10000);

  /// A new session for \a token of \a user; returns its id (64 hex digits
  /// of RAND_bytes) and the session. Throws kInternal when the random
  /// generator fails.
  std::pair<std::string, Session> Create(const std::string& token, const std::string& user);
  /// The session with id \a id, marked used now; none when unknown or
  /// expired (an expired one is removed).
  std::optional<Session> Find(std::string_view id);
  /// Ends the session \a id; false when there was none.
  bool Remove(std::string_view id);
  /// Live sessions (expired ones not yet dropped included).
  std::size_t size() const;

 private:
  struct Entry {
    Session session;
    std::chrono::steady_clock::time_point used;
  };
  std::chrono::steady_clock::time_point Now() const;
  void DropExpired(std::chrono::steady_clock::time_point now);

  std::chrono::seconds idle_;
  Clock clock_;
  std::size_t max_sessions_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> sessions_;  // by SHA-256 of the id
};

/// The value of cookie \a name in a Cookie header; empty when absent.
std::string CookieValue(std::string_view cookie_header, std::string_view name);

/// The Set-Cookie value that gives the browser session \a id; \a secure
/// adds Secure (the server speaks TLS).
enum class Transport { kHttp, kHttps };
std::string SessionCookieHeader(std::string_view id, Transport transport);
/// The Set-Cookie value that makes the browser forget the session cookie.
std::string ClearedSessionCookieHeader(Transport transport);

/// Whether \a given is the session's CSRF token, compared in constant time.
bool CsrfTokenMatches(const Session& session, std::string_view given);

/// The API token of the session a request's cookie names, for a request
/// that has no bearer token. Empty when there is no cookie, or it names no
/// live session. Throws kPermissionDenied when the session is live, the
/// request changes state and \a csrf_header is not its CSRF token.
std::string SessionToken(SessionStore& store, std::string_view cookie_header, Method method,
                         std::string_view csrf_header);

/// The sessions of this process: one server per process serves them.
SessionStore& Sessions();

}  // namespace flowrepo::server

#endif  // FLOWREPO_SERVER_SESSION_H_
