// Browser sessions: ids and CSRF tokens are 32 bytes of RAND_bytes in hex.
// The store keys each session by the SHA-256 of its id, so a lookup's
// timing says nothing about the ids of other sessions; the CSRF token is
// compared with CRYPTO_memcmp. Expiry is by idle time, checked on lookup
// and, for every session, whenever one is made.

#include "server/session.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>

#include "flowrepo/error.h"

namespace flowrepo::server {
namespace {

std::string Hex(const unsigned char* bytes, std::size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out;
}

std::string RandomHex() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw Error(ErrorCode::kInternal, "no random bytes for a session");
  return Hex(bytes, sizeof bytes);
}

std::string Sha256(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha256(), nullptr) != 1) {
    throw Error(ErrorCode::kInternal, "cannot hash a session id");
  }
  return Hex(digest, n);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

SessionStore::SessionStore(std::chrono::seconds idle, Clock clock, std::size_t max_sessions)
    : idle_(idle), clock_(std::move(clock)), max_sessions_(std::max<std::size_t>(max_sessions, 1)) {}

std::chrono::steady_clock::time_point SessionStore::Now() const {
  return clock_ ? clock_() : std::chrono::steady_clock::now();
}

void SessionStore::DropExpired(std::chrono::steady_clock::time_point now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = now - it->second.used >= idle_ ? sessions_.erase(it) : std::next(it);
  }
}

std::pair<std::string, Session> SessionStore::Create(const std::string& token, const std::string& user) {
  Session session{token, user, RandomHex()};
  const std::string id = RandomHex();
  const std::string key = Sha256(id);
  const auto now = Now();
  std::lock_guard lock(mutex_);
  DropExpired(now);
  while (sessions_.size() >= max_sessions_) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(),
                                   [](const auto& a, const auto& b) { return a.second.used < b.second.used; });
    sessions_.erase(oldest);
  }
  sessions_[key] = Entry{session, now};
  return {id, session};
}

std::optional<Session> SessionStore::Find(std::string_view id) {
  if (id.empty()) return std::nullopt;
  const std::string key = Sha256(id);
  const auto now = Now();
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::nullopt;
  if (now - it->second.used >= idle_) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.used = now;
  return it->second.session;
}

bool SessionStore::Remove(std::string_view id) {
  if (id.empty()) return false;
  const std::string key = Sha256(id);
  std::lock_guard lock(mutex_);
  return sessions_.erase(key) > 0;
}

std::size_t SessionStore::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::string CookieValue(std::string_view cookie_header, std::string_view name) {
  // "a=1; b=2": the first cookie of that name wins, as browsers send the
  // most specific path first.
  while (!cookie_header.empty()) {
    const std::size_t end = std::min(cookie_header.find(';'), cookie_header.size());
    const std::string_view pair = Trim(cookie_header.substr(0, end));
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && Trim(pair.substr(0, eq)) == name) {
      std::string_view value = Trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      return std::string(value);
    }
    cookie_header.remove_prefix(std::min(end + 1, cookie_header.size()));
  }
  return "";
}

// Built by append: GCC 12 warns falsely (-Warray-bounds) on a chain of
// operator+ on temporaries here.
std::string SessionCookieHeader(std::string_view id, Transport transport) {
  std::string out(kSessionCookie);
  out.append("=").append(id).append("; HttpOnly; SameSite=Strict; Path=/");
  if (transport == Transport::kHttps) out.append("; Secure");
  return out;
}

std::string ClearedSessionCookieHeader(Transport transport) {
  std::string out(kSessionCookie);
  out.append("=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
  if (transport == Transport::kHttps) out.append("; Secure");
  return out;
}

bool CsrfTokenMatches(const Session& session, std::string_view given) {
  const std::string& want = session.csrf_token;
  return !want.empty() && given.size() == want.size() && CRYPTO_memcmp(given.data(), want.data(), want.size()) == 0;
}

std::string SessionToken(SessionStore& store, std::string_view cookie_header, Method method,
                         std::string_view csrf_header) {
  const std::optional<Session> session = store.Find(CookieValue(cookie_header, kSessionCookie));
  if (!session) return "";
  if (method == Method::kChanging && !CsrfTokenMatches(*session, csrf_header)) {
    throw Error(ErrorCode::kPermissionDenied, csrf_header.empty()
                                                  ? "a request made with a session cookie needs its X-CSRF-Token header"
                                                  : "the X-CSRF-Token header is not this session's");
  }
  return session->token;
}

SessionStore& Sessions() {
  static SessionStore store;
  return store;
}

}  // namespace flowrepo::server
