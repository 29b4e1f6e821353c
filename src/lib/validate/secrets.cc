// The secret scanner.
//
// Scanning must be cheap: every string of every flow goes through it at
// publish, export, import and in hooks. So there is no std::regex here.
// Each format rule starts with a literal prefix ("ghp_", "AKIA", "://");
// a 256-entry table maps the first byte of every prefix to its rules, the
// text is walked once, and only at a byte that starts some prefix are the
// rules compared and, on a prefix match, their hand-written matchers run.
// The matchers follow the gitleaks / detect-secrets patterns cited in
// RELIABILITY.md 4.3, with word boundaries, exact lengths, an entropy floor
// where the pattern alone is weak, and a placeholder check so documentation
// examples and all-X values pass.
//
// On top of the formats, field context: a string under a key-like field
// name ("password", "apiKey", "clientSecret", an env variable named
// API_TOKEN, a header named Authorization) is a secret when it is not a
// reference and looks like one (any non-placeholder password; a
// high-entropy token; a connection string with a password part).

#include "validate/secrets.h"

#include <array>
#include <bitset>
#include <cmath>
#include <cstdint>
#include <optional>

namespace flowrepo {
namespace {

// ---- character classes and small helpers ---------------------------------

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
inline bool IsAlpha(char c) { return IsUpper(c) || IsLower(c); }
inline bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
inline bool IsWord(char c) { return IsAlnum(c) || c == '_'; }
inline bool IsWordDash(char c) { return IsWord(c) || c == '-'; }
inline bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
inline bool IsLowerHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }
inline bool IsBase64(char c) { return IsAlnum(c) || c == '+' || c == '/' || c == '='; }
inline bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
inline char ToLower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

template <class Pred>
std::size_t Span(std::string_view s, std::size_t pos, Pred pred, std::size_t max = std::string_view::npos) {
  std::size_t n = 0;
  while (pos + n < s.size() && n < max && pred(s[pos + n])) ++n;
  return n;
}

// \b before a token that starts with a word character.
inline bool BoundaryBefore(std::string_view s, std::size_t at) { return at == 0 || !IsWord(s[at - 1]); }
inline bool BoundaryBeforeAlnum(std::string_view s, std::size_t at) { return at == 0 || !IsAlnum(s[at - 1]); }
inline bool BoundaryAfter(std::string_view s, std::size_t end) { return end >= s.size() || !IsWord(s[end]); }
inline bool BoundaryAfterAlnum(std::string_view s, std::size_t end) { return end >= s.size() || !IsAlnum(s[end]); }

bool StartsWith(std::string_view s, std::size_t at, std::string_view prefix) {
  return s.size() >= at + prefix.size() && s.compare(at, prefix.size(), prefix) == 0;
}

bool StartsWithNoCase(std::string_view s, std::size_t at, std::string_view lower_prefix) {
  if (s.size() < at + lower_prefix.size()) return false;
  for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
    if (ToLower(s[at + i]) != lower_prefix[i]) return false;
  }
  return true;
}

bool ContainsNoCase(std::string_view s, std::string_view lower_needle) {
  if (lower_needle.size() > s.size()) return false;
  for (std::size_t i = 0; i + lower_needle.size() <= s.size(); ++i) {
    if (StartsWithNoCase(s, i, lower_needle)) return true;
  }
  return false;
}

// Shannon entropy in bits per character.
double Entropy(std::string_view s) {
  if (s.empty()) return 0;
  std::array<int, 256> counts{};
  for (unsigned char c : s) ++counts[c];
  double h = 0;
  const double n = static_cast<double>(s.size());
  for (int c : counts) {
    if (c == 0) continue;
    double p = c / n;
    h -= p * std::log2(p);
  }
  return h;
}

// Documentation examples and fill-in values: "AKIAIOSFODNN7EXAMPLE",
// "ghp_xxxxxxxx...", "<your-token>", "sk_live_0000000000", "********".
bool LooksPlaceholder(std::string_view token) {
  if (token.empty()) return true;
  std::array<bool, 256> seen{};
  int distinct = 0;
  std::size_t run = 1, longest = 1;
  for (std::size_t i = 0; i < token.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(token[i]);
    if (!seen[c]) {
      seen[c] = true;
      ++distinct;
    }
    if (i > 0) {
      run = token[i] == token[i - 1] ? run + 1 : 1;
      if (run > longest) longest = run;
    }
  }
  if (distinct <= 3 || longest >= 8) return true;
  for (std::string_view word : {"example", "your", "<", "[", "changeme", "placeholder", "redacted",
                                "dummy", "replace_me", "replaceme", "insert_", "xxxx", "****", "...",
                                "fake", "undefined", "null"}) {
    if (ContainsNoCase(token, word)) return true;
  }
  return false;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsHex(s[i])) return false;
  }
  return true;
}

// Decodes base64 or base64url (padding optional); std::nullopt on a bad
// character. Used to look inside JWT headers and Basic credentials.
std::optional<std::string> DecodeBase64(std::string_view s) {
  auto value = [](char c) -> int {
    if (IsUpper(c)) return c - 'A';
    if (IsLower(c)) return c - 'a' + 26;
    if (IsDigit(c)) return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

// ---- format rules ----------------------------------------------------------

using Matcher = bool (*)(std::string_view s, std::size_t at, std::size_t prefix_len);

struct FormatRule {
  std::string_view id;
  std::string_view prefix;
  Matcher match;
};

// prefix + exactly/at least n chars of a class, then checks.
template <bool (*Class)(char)>
std::string_view Body(std::string_view s, std::size_t from, std::size_t max = std::string_view::npos) {
  return s.substr(from, Span(s, from, Class, max));
}

bool MatchAwsKeyId(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBefore(s, at)) return false;
  std::size_t from = at + plen;
  if (plen == 3) {  // "A3T" + [A-Z0-9]
    if (from >= s.size() || !(IsUpper(s[from]) || IsDigit(s[from]))) return false;
    ++from;
  }
  auto cls = [](char c) { return IsUpper(c) || (c >= '2' && c <= '7'); };
  std::size_t n = Span(s, from, cls, 17);
  if (n != 16 || !BoundaryAfter(s, from + n)) return false;
  std::string_view token = s.substr(at, from + n - at);
  return Entropy(token) >= 3.0 && !LooksPlaceholder(token);
}

template <std::size_t N>
bool MatchAlnumExactlyAtLeast(std::string_view s, std::size_t at, std::size_t plen) {
  std::string_view body = Body<IsAlnum>(s, at + plen);
  return body.size() >= N && !LooksPlaceholder(body.substr(0, N));
}

bool MatchGithubFineGrained(std::string_view s, std::size_t at, std::size_t plen) {
  std::string_view body = Body<IsWord>(s, at + plen);
  return body.size() >= 82 && !LooksPlaceholder(body);
}

bool MatchGitlab(std::string_view s, std::size_t at, std::size_t plen) {
  std::string_view body = Body<IsWordDash>(s, at + plen);
  return body.size() >= 20 && !LooksPlaceholder(body);
}

// digits{lo,hi} at pos; returns the count or 0.
std::size_t Digits(std::string_view s, std::size_t pos, std::size_t lo, std::size_t hi) {
  std::size_t n = Span(s, pos, IsDigit, hi + 1);
  return n >= lo && n <= hi ? n : 0;
}

bool MatchSlackBot(std::string_view s, std::size_t at, std::size_t plen) {
  std::size_t pos = at + plen;
  std::size_t a = Digits(s, pos, 10, 13);
  if (!a || pos + a >= s.size() || s[pos + a] != '-') return false;
  pos += a + 1;
  std::size_t b = Digits(s, pos, 10, 13);
  if (!b) return false;
  std::string_view rest = s.substr(pos + b, Span(s, pos + b, [](char c) { return IsAlnum(c) || c == '-'; }));
  return !LooksPlaceholder(std::string(s.substr(at + plen, pos + b - at - plen)) + std::string(rest));
}

bool MatchSlackUser(std::string_view s, std::size_t at, std::size_t plen) {
  std::size_t pos = at + plen;  // after "xoxp" / "xoxe"
  for (int i = 0; i < 3; ++i) {
    if (pos >= s.size() || s[pos] != '-') return false;
    std::size_t n = Digits(s, pos + 1, 10, 13);
    if (!n) return false;
    pos += 1 + n;
  }
  if (pos >= s.size() || s[pos] != '-') return false;
  std::size_t n = Span(s, pos + 1, [](char c) { return IsAlnum(c) || c == '-'; });
  return n >= 28 && !LooksPlaceholder(s.substr(pos + 1, n));
}

bool MatchSlackLegacy(std::string_view s, std::size_t at, std::size_t plen) {
  std::string_view body = s.substr(at + plen, Span(s, at + plen, [](char c) { return IsAlnum(c) || c == '-'; }));
  return body.size() >= 30 && Entropy(body) >= 3.0 && !LooksPlaceholder(body);
}

bool MatchSlackApp(std::string_view s, std::size_t at, std::size_t plen) {
  std::size_t pos = at + plen;  // after "xapp-"
  if (pos + 1 >= s.size() || !IsDigit(s[pos]) || s[pos + 1] != '-') return false;
  pos += 2;
  std::size_t n = Span(s, pos, [](char c) { return IsUpper(c) || IsDigit(c); });
  if (!n || pos + n >= s.size() || s[pos + n] != '-') return false;
  pos += n + 1;
  n = Span(s, pos, IsDigit);
  if (!n || pos + n >= s.size() || s[pos + n] != '-') return false;
  pos += n + 1;
  n = Span(s, pos, IsAlnum);
  return n >= 20 && !LooksPlaceholder(s.substr(pos, n));
}

bool MatchSlackWebhook(std::string_view s, std::size_t at, std::size_t plen) {
  std::size_t pos = at + plen;  // after "hooks.slack.com/"
  for (std::string_view kind : {"services/", "workflows/", "triggers/"}) {
    if (StartsWith(s, pos, kind)) {
      std::string_view body = s.substr(pos + kind.size(),
                                       Span(s, pos + kind.size(), [](char c) { return IsAlnum(c) || c == '+' || c == '/'; }));
      return body.size() >= 43 && !LooksPlaceholder(body);
    }
  }
  return false;
}

bool MatchPrivateKey(std::string_view s, std::size_t at, std::size_t plen) {
  std::size_t pos = at + plen;  // after "-----BEGIN"
  std::size_t label = Span(s, pos, [](char c) { return c == ' ' || IsUpper(c) || IsDigit(c) || c == '_' || c == '-'; }, 101);
  std::string_view head = s.substr(pos, label);
  auto key = head.find("PRIVATE KEY");
  if (key == std::string_view::npos) return false;
  std::size_t end_marker = s.find("-----", pos + key);
  if (end_marker == std::string_view::npos) return false;
  // The body: base64 lines, possibly with headers ("Proc-Type: ...") and
  // literal "\n" escapes; count base64 characters up to "-----END".
  std::size_t body_end = s.find("-----END", end_marker + 5);
  std::string_view body = s.substr(end_marker + 5, body_end == std::string_view::npos
                                                       ? std::string_view::npos
                                                       : body_end - end_marker - 5);
  std::string chars;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\\' && i + 1 < body.size() && (body[i + 1] == 'n' || body[i + 1] == 'r')) {
      ++i;
      continue;
    }
    if (IsBase64(body[i])) chars += body[i];
  }
  return chars.size() >= 64 && !LooksPlaceholder(chars);
}

bool MatchPutty(std::string_view s, std::size_t at, std::size_t plen) {
  std::size_t pos = at + plen;  // after "PuTTY-User-Key-File-"
  if (pos >= s.size() || !IsDigit(s[pos])) return false;
  return s.find("Private-Lines:", pos) != std::string_view::npos;
}

bool MatchJwt(std::string_view s, std::size_t at, std::size_t) {
  if (!BoundaryBeforeAlnum(s, at) || (at > 0 && (s[at - 1] == '_' || s[at - 1] == '-'))) return false;
  auto seg = [](char c) { return IsAlnum(c) || c == '_' || c == '-'; };
  std::size_t h = Span(s, at, seg);
  if (h < 19 || at + h >= s.size() || s[at + h] != '.') return false;
  std::size_t p_at = at + h + 1;
  if (!StartsWith(s, p_at, "ey")) return false;
  std::size_t p = Span(s, p_at, seg);
  if (p < 19) return false;
  auto header = DecodeBase64(s.substr(at, h));
  if (!header || header->empty() || (*header)[0] != '{' ||
      header->find("\"alg\"") == std::string::npos) {
    return false;
  }
  auto payload = DecodeBase64(s.substr(p_at, p));
  return payload && !payload->empty() && (*payload)[0] == '{';
}

bool MatchGcpKey(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBefore(s, at)) return false;
  std::string_view body = Body<IsWordDash>(s, at + plen);
  return body.size() == 35 && Entropy(body) >= 3.5 && !LooksPlaceholder(body);
}

bool MatchStripe(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBefore(s, at)) return false;
  std::string_view body = Body<IsAlnum>(s, at + plen);
  return body.size() >= 10 && body.size() <= 99 && !LooksPlaceholder(body);
}

bool MatchTwilio(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBeforeAlnum(s, at)) return false;
  std::string_view body = Body<IsHex>(s, at + plen, 33);
  return body.size() == 32 && BoundaryAfterAlnum(s, at + plen + 32) && Entropy(body) >= 3.0 &&
         !LooksPlaceholder(body);
}

bool MatchSendgrid(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBeforeAlnum(s, at)) return false;
  std::string_view body = s.substr(at + plen, Span(s, at + plen, [](char c) {
                                     return IsAlnum(c) || c == '=' || c == '_' || c == '-' || c == '.';
                                   }));
  return body.size() >= 66 && !LooksPlaceholder(body);
}

bool MatchNpm(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBefore(s, at)) return false;
  std::string_view body = Body<IsAlnum>(s, at + plen);
  return body.size() == 36 && !LooksPlaceholder(body);
}

bool MatchPypi(std::string_view s, std::size_t at, std::size_t plen) {
  std::string_view body = Body<IsWordDash>(s, at + plen);
  return body.size() >= 50 && !LooksPlaceholder(body);
}

// "sk-" keys: Anthropic ("sk-ant-api03-..."), OpenAI project/service/admin
// keys, and OpenAI's older forms (with the "T3BlbkFJ" marker, or 48 alnum).
bool MatchOpenAi(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBefore(s, at) || StartsWith(s, at, "sk-ant-")) return false;
  std::size_t pos = at + plen;
  for (std::string_view kind : {"proj-", "svcacct-", "admin-"}) {
    if (StartsWith(s, pos, kind)) {
      std::string_view body = Body<IsWordDash>(s, pos + kind.size());
      return body.size() >= 40 && Entropy(body) >= 3.5 && !LooksPlaceholder(body);
    }
  }
  std::string_view body = Body<IsAlnum>(s, pos);
  if (body.size() == 48 && body.find("T3BlbkFJ") == 20) return !LooksPlaceholder(body);
  return body.size() == 48 && BoundaryAfter(s, pos + 48) && Entropy(body) >= 4.0 && !LooksPlaceholder(body);
}

bool MatchAnthropic(std::string_view s, std::size_t at, std::size_t plen) {
  std::size_t pos = at + plen;  // after "sk-ant-"
  std::size_t kind = Span(s, pos, IsLower);
  if (!kind) return false;
  pos += kind;
  std::size_t digits = Span(s, pos, IsDigit);
  if (digits != 2 || pos + 2 >= s.size() || s[pos + 2] != '-') return false;
  std::string_view body = Body<IsWordDash>(s, pos + 3);
  return body.size() >= 80 && !LooksPlaceholder(body);
}

// [a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34}, found from its "Q~".
bool MatchAzureClientSecret(std::string_view s, std::size_t at, std::size_t) {
  auto cls = [](char c) { return IsAlnum(c) || c == '_' || c == '~' || c == '.'; };
  if (at < 4 || !IsDigit(s[at - 1]) || !cls(s[at - 2]) || !cls(s[at - 3]) || !cls(s[at - 4])) {
    return false;
  }
  auto left_ok = [](char c) {
    return c == '\\' || c == '\'' || c == '"' || c == '`' || IsSpace(c) || c == '>' || c == '=' ||
           c == ':' || c == '(' || c == ',' || c == ')';
  };
  if (at > 4 && !left_ok(s[at - 5])) return false;
  std::size_t n = Span(s, at + 2, [](char c) { return IsAlnum(c) || c == '_' || c == '~' || c == '.' || c == '-'; });
  if (n < 31 || n > 34) return false;
  std::size_t end = at + 2 + n;
  if (end < s.size()) {
    char c = s[end];
    bool right_ok = c == '\\' || c == '\'' || c == '"' || c == '`' || IsSpace(c) || c == '<' ||
                    c == ')' || c == ',';
    if (!right_ok) return false;
  }
  return !LooksPlaceholder(s.substr(at + 2, n));
}

bool MatchAzureAccountKey(std::string_view s, std::size_t at, std::size_t plen) {
  std::string_view body = Body<IsBase64>(s, at + plen);
  return body.size() >= 86 && !LooksPlaceholder(body);
}

bool MatchAzureSharedAccessKey(std::string_view s, std::size_t at, std::size_t plen) {
  std::string_view body = Body<IsBase64>(s, at + plen);
  return body.size() >= 43 && !LooksPlaceholder(body);
}

bool IsReferenceLike(std::string_view v) {
  return v.find("{{") != std::string_view::npos || v.find("${") != std::string_view::npos ||
         v.find("$(") != std::string_view::npos || v.find("%s") != std::string_view::npos ||
         v.find('<') != std::string_view::npos || (!v.empty() && v[0] == '$') ||
         (v.size() >= 2 && v.front() == '%' && v.back() == '%');
}

bool IsPasswordPlaceholder(std::string_view v) {
  if (LooksPlaceholder(v) && v.size() >= 4) return true;
  if (v.size() < 3) return v.empty() || (v.size() <= 2 && v.find_first_not_of("*x") == std::string_view::npos);
  for (std::string_view word : {"password", "passwd", "pass", "pwd", "secret", "user", "username",
                                "token", "changeme", "hidden", "none", "null"}) {
    if (v.size() == word.size() && StartsWithNoCase(v, 0, word)) return true;
  }
  return false;
}

// scheme://user:password@host, found from its "://".
bool MatchUrlCredentials(std::string_view s, std::size_t at, std::size_t plen) {
  if (at == 0 || !IsAlpha(s[at - 1])) return false;
  std::size_t pos = at + plen;
  std::size_t end = pos;
  while (end < s.size()) {
    char c = s[end];
    if (c == '@' || c == '/' || c == '?' || c == '#' || IsSpace(c) || c == '"' || c == '\'' ||
        c == '`' || c == '>' || c == '\\') {
      break;
    }
    ++end;
  }
  if (end >= s.size() || s[end] != '@' || end + 1 >= s.size()) return false;
  char host = s[end + 1];
  if (!(IsAlnum(host) || host == '[' || host == '{' || host == '$')) return false;
  std::string_view userinfo = s.substr(pos, end - pos);
  auto colon = userinfo.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view password = userinfo.substr(colon + 1);
  std::string_view user = userinfo.substr(0, colon);
  if (password.empty() || IsReferenceLike(password) || IsReferenceLike(user)) return false;
  return !IsPasswordPlaceholder(password);
}

// "Bearer <token>" in free text (a header written into a script or a curl
// command line). The header field itself is covered by field context.
bool MatchBearer(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBefore(s, at)) return false;
  std::size_t pos = at + plen;
  std::size_t spaces = Span(s, pos, [](char c) { return c == ' ' || c == '\t'; });
  if (spaces == 0) return false;
  pos += spaces;
  std::string_view token = s.substr(pos, Span(s, pos, [](char c) {
                                       return IsAlnum(c) || c == '.' || c == '_' || c == '~' ||
                                              c == '+' || c == '/' || c == '=' || c == '-';
                                     }));
  if (token.size() < 16 || IsReferenceLike(s.substr(pos, token.size() + 2))) return false;
  bool digit = false, alpha = false;
  for (char c : token) {
    digit |= IsDigit(c);
    alpha |= IsAlpha(c);
  }
  return digit && alpha && Entropy(token) >= 3.0 && !LooksPlaceholder(token);
}

bool MatchBasicAuth(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBefore(s, at)) return false;
  std::size_t pos = at + plen;
  std::size_t spaces = Span(s, pos, [](char c) { return c == ' '; });
  if (spaces == 0) return false;
  pos += spaces;
  std::string_view token = Body<IsBase64>(s, pos);
  if (token.size() < 8 || !BoundaryAfterAlnum(s, pos + token.size())) return false;
  auto decoded = DecodeBase64(token);
  if (!decoded) return false;
  auto colon = decoded->find(':');
  if (colon == std::string::npos || colon + 1 >= decoded->size()) return false;
  for (char c : *decoded) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
  }
  return !IsPasswordPlaceholder(std::string_view(*decoded).substr(colon + 1));
}

template <std::size_t N>
bool MatchHexExactly(std::string_view s, std::size_t at, std::size_t plen) {
  std::string_view body = Body<IsHex>(s, at + plen, N + 1);
  return body.size() == N && !LooksPlaceholder(body);
}

template <std::size_t N>
bool MatchLowerHexExactlyBounded(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBefore(s, at)) return false;
  std::string_view body = Body<IsLowerHex>(s, at + plen, N + 1);
  return body.size() == N && Entropy(body) >= 3.0 && !LooksPlaceholder(body);
}

bool MatchHuggingFace(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBefore(s, at)) return false;
  std::string_view body = Body<IsAlpha>(s, at + plen, 35);
  return body.size() == 34 && BoundaryAfterAlnum(s, at + plen + 34) && !LooksPlaceholder(body);
}

bool MatchAge(std::string_view s, std::size_t at, std::size_t plen) {
  constexpr std::string_view kBech32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
  std::string_view body = s.substr(at + plen, Span(s, at + plen, [&](char c) {
                                     return kBech32.find(c) != std::string_view::npos;
                                   }));
  return body.size() == 58 && !LooksPlaceholder(body);
}

bool MatchVaultToken(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBefore(s, at)) return false;
  std::string_view body = Body<IsWordDash>(s, at + plen);
  return body.size() >= 90 && !LooksPlaceholder(body);
}

// Legacy Vault service tokens: "s." + 24 alphanumerics, mixed case and
// digits (so "s.substring" and prose never match).
bool MatchVaultLegacy(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBefore(s, at)) return false;
  std::string_view body = Body<IsAlnum>(s, at + plen, 25);
  if (body.size() != 24 || !BoundaryAfter(s, at + plen + 24)) return false;
  bool upper = false, lower = false, digit = false;
  for (char c : body) {
    upper |= IsUpper(c);
    lower |= IsLower(c);
    digit |= IsDigit(c);
  }
  return upper && lower && digit && Entropy(body) >= 3.5 && !LooksPlaceholder(body);
}

bool MatchAwsSecretInText(std::string_view s, std::size_t at, std::size_t plen) {
  // aws_secret_access_key / AWS_SECRET_ACCESS_KEY / aws_secret_key, then
  // within 20 characters a 40-character base64 run.
  std::size_t pos = at + plen;
  std::size_t limit = std::min(s.size(), pos + 24);
  for (; pos < limit; ++pos) {
    if (IsAlnum(s[pos]) || s[pos] == '/' || s[pos] == '+') {
      std::size_t n = Span(s, pos, [](char c) { return IsAlnum(c) || c == '/' || c == '+'; }, 41);
      if (n == 40) {
        std::string_view body = s.substr(pos, 40);
        return Entropy(body) >= 4.0 && !LooksPlaceholder(body);
      }
      pos += n;
    }
  }
  return false;
}

// password = "..."; apiKey: '...'; TOKEN=abc123... in script bodies and
// notes (gitleaks generic-api-key, anchored on the keyword).
bool MatchAssignment(std::string_view s, std::size_t at, std::size_t plen) {
  if (at > 0 && IsAlnum(s[at - 1])) return false;
  bool password = ToLower(s[at]) == 'p';
  std::size_t pos = at + plen;
  pos += Span(s, pos, [](char c) { return IsAlnum(c) || c == '_' || c == '-'; }, 20);
  if (pos < s.size() && (s[pos] == '"' || s[pos] == '\'' || s[pos] == '`')) ++pos;
  pos += Span(s, pos, [](char c) { return c == ' ' || c == '\t'; });
  if (pos >= s.size()) return false;
  if (s[pos] == ':' && pos + 1 < s.size() && s[pos + 1] == '=') {
    pos += 2;
  } else if (s[pos] == '=' && pos + 1 < s.size() && s[pos + 1] == '>') {
    pos += 2;
  } else if ((s[pos] == '=' || s[pos] == ':') && !(pos + 1 < s.size() && s[pos + 1] == '=')) {
    pos += 1;
  } else {
    return false;
  }
  pos += Span(s, pos, [](char c) { return c == ' ' || c == '\t'; });
  if (pos >= s.size()) return false;
  std::string_view value;
  bool quoted = s[pos] == '"' || s[pos] == '\'' || s[pos] == '`';
  if (quoted) {
    char q = s[pos];
    std::size_t close = s.find(q, pos + 1);
    if (close == std::string_view::npos || close - pos - 1 > 200) return false;
    value = s.substr(pos + 1, close - pos - 1);
  } else {
    value = s.substr(pos, Span(s, pos, [](char c) {
                       return IsAlnum(c) || c == '_' || c == '.' || c == '=' || c == '+' ||
                              c == '/' || c == '~' || c == '-';
                     }));
  }
  if (value.empty() || IsReferenceLike(value) || value.find(' ') != std::string_view::npos) return false;
  bool digit = false, alpha = false;
  for (char c : value) {
    digit |= IsDigit(c);
    alpha |= IsAlpha(c);
  }
  if (password && quoted) return value.size() >= 6 && !IsPasswordPlaceholder(value) && !LooksPlaceholder(value);
  if (value.size() < 10 || !digit || !alpha) return false;
  return Entropy(value) >= 3.5 && !LooksPlaceholder(value) && !IsUuid(value);
}

// Rules in priority order: the first that matches at a position names the
// secret. Prefixes are case-sensitive; case variants are listed.
const std::vector<FormatRule>& Rules() {
  static const std::vector<FormatRule> rules = {
      {"private-key", "-----BEGIN", MatchPrivateKey},
      {"private-key", "PuTTY-User-Key-File-", MatchPutty},
      {"aws-access-key-id", "AKIA", MatchAwsKeyId},
      {"aws-access-key-id", "ASIA", MatchAwsKeyId},
      {"aws-access-key-id", "ABIA", MatchAwsKeyId},
      {"aws-access-key-id", "ACCA", MatchAwsKeyId},
      {"aws-access-key-id", "A3T", MatchAwsKeyId},
      {"aws-secret-access-key", "aws_secret_access_key", MatchAwsSecretInText},
      {"aws-secret-access-key", "AWS_SECRET_ACCESS_KEY", MatchAwsSecretInText},
      {"aws-secret-access-key", "aws_secret_key", MatchAwsSecretInText},
      {"aws-secret-access-key", "AWS_SECRET_KEY", MatchAwsSecretInText},
      {"aws-secret-access-key", "awsSecretAccessKey", MatchAwsSecretInText},
      {"github-pat", "ghp_", MatchAlnumExactlyAtLeast<36>},
      {"github-fine-grained-pat", "github_pat_", MatchGithubFineGrained},
      {"github-oauth-token", "gho_", MatchAlnumExactlyAtLeast<36>},
      {"github-app-token", "ghu_", MatchAlnumExactlyAtLeast<36>},
      {"github-app-token", "ghs_", MatchAlnumExactlyAtLeast<36>},
      {"github-refresh-token", "ghr_", MatchAlnumExactlyAtLeast<36>},
      {"gitlab-pat", "glpat-", MatchGitlab},
      {"slack-bot-token", "xoxb-", MatchSlackBot},
      {"slack-user-token", "xoxp", MatchSlackUser},
      {"slack-user-token", "xoxe", MatchSlackUser},
      {"slack-legacy-token", "xoxa-", MatchSlackLegacy},
      {"slack-legacy-token", "xoxr-", MatchSlackLegacy},
      {"slack-legacy-token", "xoxs-", MatchSlackLegacy},
      {"slack-app-token", "xapp-", MatchSlackApp},
      {"slack-webhook-url", "hooks.slack.com/", MatchSlackWebhook},
      {"jwt", "ey", MatchJwt},
      {"gcp-api-key", "AIza", MatchGcpKey},
      {"stripe-key", "sk_live_", MatchStripe},
      {"stripe-key", "sk_test_", MatchStripe},
      {"stripe-key", "sk_prod_", MatchStripe},
      {"stripe-key", "rk_live_", MatchStripe},
      {"stripe-key", "rk_test_", MatchStripe},
      {"stripe-key", "rk_prod_", MatchStripe},
      {"twilio-api-key", "SK", MatchTwilio},
      {"sendgrid-api-key", "SG.", MatchSendgrid},
      {"npm-token", "npm_", MatchNpm},
      {"npm-token", "NPM_", MatchNpm},
      {"pypi-token", "pypi-AgEIcHlwaS5vcmc", MatchPypi},
      {"anthropic-api-key", "sk-ant-", MatchAnthropic},
      {"openai-api-key", "sk-", MatchOpenAi},
      {"azure-ad-client-secret", "Q~", MatchAzureClientSecret},
      {"azure-storage-key", "AccountKey=", MatchAzureAccountKey},
      {"azure-shared-access-key", "SharedAccessKey=", MatchAzureSharedAccessKey},
      {"url-credentials", "://", MatchUrlCredentials},
      {"bearer-token", "Bearer", MatchBearer},
      {"bearer-token", "bearer", MatchBearer},
      {"bearer-token", "BEARER", MatchBearer},
      {"basic-auth-header", "Basic", MatchBasicAuth},
      {"basic-auth-header", "basic", MatchBasicAuth},
      {"vault-token", "hvs.", MatchVaultToken},
      {"vault-token", "hvb.", MatchVaultToken},
      {"vault-token", "s.", MatchVaultLegacy},
      {"shopify-token", "shpat_", MatchHexExactly<32>},
      {"shopify-token", "shpss_", MatchHexExactly<32>},
      {"shopify-token", "shpca_", MatchHexExactly<32>},
      {"shopify-token", "shppa_", MatchHexExactly<32>},
      {"digitalocean-token", "dop_v1_", MatchLowerHexExactlyBounded<64>},
      {"digitalocean-token", "doo_v1_", MatchLowerHexExactlyBounded<64>},
      {"digitalocean-token", "dor_v1_", MatchLowerHexExactlyBounded<64>},
      {"databricks-token", "dapi", MatchLowerHexExactlyBounded<32>},
      {"huggingface-token", "hf_", MatchHuggingFace},
      {"age-secret-key", "AGE-SECRET-KEY-1", MatchAge},
      {"generic-assignment", "password", MatchAssignment},
      {"generic-assignment", "Password", MatchAssignment},
      {"generic-assignment", "PASSWORD", MatchAssignment},
      {"generic-assignment", "passwd", MatchAssignment},
      {"generic-assignment", "secret", MatchAssignment},
      {"generic-assignment", "Secret", MatchAssignment},
      {"generic-assignment", "SECRET", MatchAssignment},
      {"generic-assignment", "token", MatchAssignment},
      {"generic-assignment", "Token", MatchAssignment},
      {"generic-assignment", "TOKEN", MatchAssignment},
      {"generic-assignment", "api_key", MatchAssignment},
      {"generic-assignment", "apiKey", MatchAssignment},
      {"generic-assignment", "apikey", MatchAssignment},
      {"generic-assignment", "API_KEY", MatchAssignment},
      {"generic-assignment", "APIKEY", MatchAssignment},
  };
  return rules;
}

// First byte of a prefix -> indexes of the rules starting with it.
const std::array<std::vector<std::uint8_t>, 256>& RulesByFirstByte() {
  static const auto table = [] {
    std::array<std::vector<std::uint8_t>, 256> t;
    const auto& rules = Rules();
    for (std::size_t i = 0; i < rules.size(); ++i) {
      t[static_cast<unsigned char>(rules[i].prefix[0])].push_back(static_cast<std::uint8_t>(i));
    }
    return t;
  }();
  return table;
}

// Context rules name how a secret is written, not what it is; a token
// format found anywhere in the same text names it better.
bool IsContextRule(std::string_view id) {
  return id == "bearer-token" || id == "basic-auth-header" || id == "url-credentials" ||
         id == "generic-assignment";
}

// Second bytes that continue some prefix, per first byte: rejects most
// positions with one bit test (every prefix has at least two bytes).
const std::array<std::bitset<256>, 256>& SecondBytes() {
  static const auto table = [] {
    std::array<std::bitset<256>, 256> t;
    for (const auto& rule : Rules()) {
      t[static_cast<unsigned char>(rule.prefix[0])].set(static_cast<unsigned char>(rule.prefix[1]));
    }
    return t;
  }();
  return table;
}

std::string_view FindFormat(std::string_view text) {
  const auto& table = RulesByFirstByte();
  const auto& second = SecondBytes();
  const auto& rules = Rules();
  std::string_view context;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (!second[b0].test(static_cast<unsigned char>(text[i + 1]))) continue;
    const auto& candidates = table[b0];
    for (std::uint8_t r : candidates) {
      const FormatRule& rule = rules[r];
      if (StartsWith(text, i, rule.prefix) && rule.match(text, i, rule.prefix.size())) {
        if (!IsContextRule(rule.id)) return rule.id;
        if (context.empty()) context = rule.id;
        break;
      }
    }
  }
  return context;
}

// "%5F" and friends: percent-decoded text when it differs.
std::optional<std::string> PercentDecoded(std::string_view s) {
  auto pct = s.find('%');
  if (pct == std::string_view::npos) return std::nullopt;
  std::string out;
  out.reserve(s.size());
  bool changed = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && IsHex(s[i + 1]) && IsHex(s[i + 2])) {
      auto hex = [](char c) { return IsDigit(c) ? c - '0' : ToLower(c) - 'a' + 10; };
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
      changed = true;
    } else {
      out += s[i];
    }
  }
  if (!changed) return std::nullopt;
  return out;
}

// ---- field context -----------------------------------------------------------

enum class FieldKind { kNone, kPassword, kAuthorization, kToken, kConnectionString };

// Splits "X-Api-Key", "clientSecret", "API_TOKEN", "APIKey" into lower-case
// words.
std::vector<std::string> Words(std::string_view key) {
  std::vector<std::string> words;
  std::string current;
  for (std::size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (!IsAlnum(c)) {
      if (!current.empty()) words.push_back(std::move(current));
      current.clear();
      continue;
    }
    bool split = false;
    if (!current.empty() && IsUpper(c)) {
      char prev = key[i - 1];
      bool next_lower = i + 1 < key.size() && IsLower(key[i + 1]);
      split = IsLower(prev) || IsDigit(prev) || (IsUpper(prev) && next_lower);
    }
    if (split) {
      words.push_back(std::move(current));
      current.clear();
    }
    current += ToLower(c);
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

FieldKind ClassifyKey(std::string_view key) {
  if (key.empty() || key.size() > 100) return FieldKind::kNone;
  // Most keys hold none of the words: decide without splitting them.
  bool maybe = false;
  for (std::string_view word : {"pass", "pwd", "auth", "token", "secret", "key", "connection", "dsn", "sas"}) {
    if (ContainsNoCase(key, word)) {
      maybe = true;
      break;
    }
  }
  if (!maybe) return FieldKind::kNone;
  std::vector<std::string> w = Words(key);
  if (w.empty()) return FieldKind::kNone;
  const std::string& last = w.back();
  const std::string pair = w.size() >= 2 ? w[w.size() - 2] + " " + last : std::string();
  if (last == "password" || last == "passwd" || last == "pwd" || last == "passphrase" ||
      last == "passcode") {
    return FieldKind::kPassword;
  }
  if (last == "authorization") return FieldKind::kAuthorization;
  if (pair == "connection string" || last == "connectionstring" || last == "dsn") {
    return FieldKind::kConnectionString;
  }
  if (last == "token" || last == "secret" || last == "apikey" || last == "accesskey" ||
      last == "privatekey" || last == "secretkey" || last == "clientsecret" || last == "sas") {
    return FieldKind::kToken;
  }
  if (last == "key" && w.size() >= 2) {
    const std::string& first = w[w.size() - 2];
    for (const char* kind : {"api", "access", "secret", "private", "signing", "encryption", "master",
                             "account", "shared", "subscription", "license", "app", "client"}) {
      if (first == kind) return FieldKind::kToken;
    }
  }
  return FieldKind::kNone;
}

bool HasDigitAndAlpha(std::string_view v) {
  bool digit = false, alpha = false;
  for (char c : v) {
    digit |= IsDigit(c);
    alpha |= IsAlpha(c);
  }
  return digit && alpha;
}

// A token-like value: no spaces, long enough, random-looking.
bool LooksLikeToken(std::string_view v) {
  if (v.size() < 12 || v.size() > 4096) return false;
  for (char c : v) {
    if (IsSpace(c)) return false;
  }
  if (IsUuid(v) || LooksPlaceholder(v)) return false;
  if (StartsWith(v, 0, "http://") || StartsWith(v, 0, "https://")) return false;
  double h = Entropy(v);
  if (HasDigitAndAlpha(v)) return h >= 3.0;
  return v.size() >= 32 && h >= 4.0;
}

std::string_view DetectField(FieldKind kind, std::string_view v) {
  switch (kind) {
    case FieldKind::kNone:
      return {};
    case FieldKind::kPassword:
      if (v.size() >= 4 && !IsPasswordPlaceholder(v) && !IsReferenceLike(v)) return "password-field";
      return {};
    case FieldKind::kAuthorization: {
      auto space = v.find(' ');
      if (space == std::string_view::npos) return LooksLikeToken(v) ? "secret-field" : std::string_view();
      std::string_view credential = v.substr(space + 1);
      while (!credential.empty() && credential[0] == ' ') credential.remove_prefix(1);
      if (credential.size() >= 8 && !IsReferenceLike(credential) && !LooksPlaceholder(credential)) {
        return "authorization-header";
      }
      return {};
    }
    case FieldKind::kToken:
      return LooksLikeToken(v) ? "secret-field" : std::string_view();
    case FieldKind::kConnectionString:
      for (std::string_view part : {"password=", "pwd=", "accountkey=", "sharedaccesskey=", "sig="}) {
        std::size_t at = 0;
        while (at + part.size() <= v.size()) {
          if (StartsWithNoCase(v, at, part)) {
            std::size_t from = at + part.size();
            std::size_t end = v.find(';', from);
            std::string_view value = v.substr(from, end == std::string_view::npos ? end : end - from);
            if (!value.empty() && !IsReferenceLike(value) && !IsPasswordPlaceholder(value)) {
              return "connection-string-secret";
            }
          }
          ++at;
        }
      }
      return {};
  }
  return {};
}

// ---- walking a document -----------------------------------------------------

void AppendPointerToken(std::string& pointer, std::string_view token) {
  pointer += '/';
  for (char c : token) {
    if (c == '~') {
      pointer += "~0";
    } else if (c == '/') {
      pointer += "~1";
    } else {
      pointer += c;
    }
  }
}

const SecretRuleInfo* InfoFor(std::string_view id) {
  for (const auto& info : SecretRules()) {
    if (info.id == id) return &info;
  }
  return nullptr;
}

struct Walker {
  const std::string& file;
  std::vector<Problem>& problems;
  std::string pointer;

  void Report(std::string_view rule) {
    const SecretRuleInfo* info = InfoFor(rule);
    std::string what = info ? std::string(info->description) : std::string(rule);
    problems.push_back({file, pointer, "secret/" + std::string(rule),
                        "plain-text secret (" + what + "); store a secret reference instead"});
  }

  void Value(const Json& j, std::string_view key) {
    switch (j.type()) {
      case Json::value_t::object: {
        // {"name": "Authorization", "value": "..."} and {"name": "API_TOKEN",
        // "value": "..."}: the name gives the value its field context.
        std::string_view named;
        auto name = j.find("name");
        if (name != j.end() && name->is_string()) named = name->get_ref<const std::string&>();
        for (auto it = j.begin(); it != j.end(); ++it) {
          const std::string& k = it.key();
          std::size_t mark = pointer.size();
          AppendPointerToken(pointer, k);
          std::string_view rule = FindFormat(k);
          if (!rule.empty()) {
            Report(rule);
          } else {
            Value(it.value(), (k == "value" && !named.empty()) ? named : std::string_view(k));
          }
          pointer.resize(mark);
        }
        break;
      }
      case Json::value_t::array: {
        std::size_t index = 0;
        for (const auto& item : j) {
          std::size_t mark = pointer.size();
          pointer += '/';
          pointer += std::to_string(index++);
          Value(item, key);
          pointer.resize(mark);
        }
        break;
      }
      case Json::value_t::string: {
        std::string rule = DetectSecret(key, j.get_ref<const std::string&>());
        if (!rule.empty()) Report(rule);
        break;
      }
      default:
        break;
    }
  }
};

}  // namespace

const std::vector<SecretRuleInfo>& SecretRules() {
  static const std::vector<SecretRuleInfo> rules = {
      {"private-key", "PEM, OpenSSH or PuTTY private key"},
      {"aws-access-key-id", "AWS access key id"},
      {"aws-secret-access-key", "AWS secret access key"},
      {"github-pat", "GitHub personal access token"},
      {"github-fine-grained-pat", "GitHub fine-grained personal access token"},
      {"github-oauth-token", "GitHub OAuth token"},
      {"github-app-token", "GitHub app token"},
      {"github-refresh-token", "GitHub refresh token"},
      {"gitlab-pat", "GitLab personal access token"},
      {"slack-bot-token", "Slack bot token"},
      {"slack-user-token", "Slack user token"},
      {"slack-legacy-token", "Slack legacy token"},
      {"slack-app-token", "Slack app-level token"},
      {"slack-webhook-url", "Slack webhook URL"},
      {"jwt", "JSON web token"},
      {"gcp-api-key", "Google API key"},
      {"stripe-key", "Stripe secret or restricted key"},
      {"twilio-api-key", "Twilio API key"},
      {"sendgrid-api-key", "SendGrid API key"},
      {"npm-token", "npm access token"},
      {"pypi-token", "PyPI upload token"},
      {"anthropic-api-key", "Anthropic API key"},
      {"openai-api-key", "OpenAI API key"},
      {"azure-ad-client-secret", "Azure AD client secret"},
      {"azure-storage-key", "Azure storage account key"},
      {"azure-shared-access-key", "Azure shared access key"},
      {"url-credentials", "password in a URL"},
      {"bearer-token", "bearer token"},
      {"basic-auth-header", "basic authentication credentials"},
      {"vault-token", "HashiCorp Vault token"},
      {"shopify-token", "Shopify access token"},
      {"digitalocean-token", "DigitalOcean token"},
      {"databricks-token", "Databricks token"},
      {"huggingface-token", "Hugging Face token"},
      {"age-secret-key", "age secret key"},
      {"generic-assignment", "secret assigned in code"},
      {"password-field", "password in a password field"},
      {"authorization-header", "credentials in an authorization header"},
      {"connection-string-secret", "password or key in a connection string"},
      {"secret-field", "high-entropy value in a key, token or secret field"},
  };
  return rules;
}

bool IsSecretReference(std::string_view v) {
  while (!v.empty() && IsSpace(v.front())) v.remove_prefix(1);
  while (!v.empty() && IsSpace(v.back())) v.remove_suffix(1);
  if (v.empty()) return false;
  auto wrapped = [&](std::string_view open, std::string_view close) {
    return v.size() >= open.size() + close.size() && v.substr(0, open.size()) == open &&
           v.substr(v.size() - close.size()) == close &&
           v.find(close) == v.size() - close.size();  // one reference, nothing after it
  };
  // {{secret:x}}, {{ $env.X }}, ={{ $credentials.x }}, ${VAR}, ${{ secrets.X }}, $(VAR), %VAR%
  // A wrapped expression holding a literal token ("={{ 'Bearer ghp_...' }}")
  // is not a reference.
  if (wrapped("{{", "}}") || wrapped("={{", "}}") || wrapped("${{", "}}") || wrapped("${", "}") ||
      wrapped("$(", ")") || (v.size() > 2 && wrapped("%", "%") && v.find(' ') == std::string_view::npos)) {
    return FindFormat(v).empty();
  }
  // $VAR, $env:VAR
  if (v[0] == '$' && v.size() > 1) {
    std::string_view name = v.substr(1);
    if (StartsWith(name, 0, "env:")) name.remove_prefix(4);
    if (!name.empty() && Span(name, 0, [](char c) { return IsWord(c) || c == '.'; }) == name.size() &&
        !IsDigit(name[0])) {
      return true;
    }
  }
  // Every scheme holds a colon, where the value's first one must be.
  const std::size_t colon = v.find(':');
  if (colon == std::string_view::npos) return false;
  for (std::string_view scheme : {"vault:", "secret:", "secrets:", "env:", "op://", "keyvault:",
                                  "azurekeyvault:", "aws-sm:", "awssm:", "gcpsm:", "sm://",
                                  "arn:aws:secretsmanager:", "arn:aws:ssm:", "ssm:", "credential:",
                                  "credentials:", "doppler:", "infisical:"}) {
    if (scheme.find(':') == colon && StartsWith(v, 0, scheme) && v.size() > scheme.size()) return true;
  }
  return false;
}

std::string DetectSecretInText(std::string_view text) {
  std::string_view rule = FindFormat(text);
  if (rule.empty()) {
    if (auto decoded = PercentDecoded(text)) rule = FindFormat(*decoded);
  }
  return std::string(rule);
}

std::string DetectSecret(std::string_view key, std::string_view value) {
  if (value.size() < 8 && key.empty()) return {};
  if (value.empty() || IsSecretReference(value)) return {};
  std::string rule = DetectSecretInText(value);
  if (!rule.empty() && !IsContextRule(rule)) return rule;
  FieldKind kind = ClassifyKey(key);
  if (kind == FieldKind::kNone) return rule;
  std::string_view trimmed = value;
  while (!trimmed.empty() && IsSpace(trimmed.front())) trimmed.remove_prefix(1);
  while (!trimmed.empty() && IsSpace(trimmed.back())) trimmed.remove_suffix(1);
  // The field says more than a context rule ("Password=" inside a
  // connection string is a connection string secret).
  std::string_view field = DetectField(kind, trimmed);
  return field.empty() ? rule : std::string(field);
}

void ScanSecrets(const Json& document, const std::string& file, std::vector<Problem>& problems) {
  Walker walker{file, problems, {}};
  walker.Value(document, "");
}

}  // namespace flowrepo
