// The secret scanner.
//
// Scanning must be cheap: every string of every flow goes through it at
// publish, export, import and in hooks. So there is no std::regex here.
// Each format rule starts with a literal prefix ("ghp_", "AKIA", "://"), or
// a keyword in any case ("mailgun"); a table indexed by a position's first
// two bytes lists the rules whose prefix may start there, the text is
// walked once, a bit test rejects most positions, and only at the others
// are the listed prefixes compared and, on a match, the rule's matcher run:
// a hand-written one for structured secrets (JWTs are decoded, PEM blocks
// counted, URLs parsed), or, for provider tokens, a shape from a data table
// (prefix, character classes and lengths, entropy floor, what may stand
// around it) carrying gitleaks' patterns. Placeholders (documentation
// examples, all-X values) pass every rule.
//
// On top of the formats, field context: a string under a key-like field
// name ("password", "apiKey", "clientSecret", "x-functions-key", an env
// variable named DB_PASS, a header named Authorization or Cookie) is a
// secret when it is not a reference and looks like one (any non-placeholder
// password; a token-like value; a connection string with a password part;
// a session cookie). The field name can come from a sibling: n8n and env
// {"name", "value"}, Node-RED header {"keyValue", "valueValue"} and change
// rule {"p", "to"} objects. JSON kept in a string is parsed and scanned as
// JSON; a private key kept as an array of lines is joined. Keys of
// flowrepo's own data maps (app_definition.json "references") are data,
// not field names.
//
// Problems never carry a secret: their pointers and paths are masked
// ("/headers/ghp_****"), and MaskSecrets serves callers whose messages name
// what users wrote.

#include "validate/secrets.h"

#include <algorithm>
#include <array>
#include <bitset>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <optional>

#include "flowrepo/error.h"

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
  for (std::string_view word :
       {"example", "your", "<", "[", "changeme", "placeholder", "redacted", "dummy", "replace_me", "replaceme",
        "insert_", "xxxx", "****", "...", "fake", "undefined", "null", "demo"}) {
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

// ---- token shapes -----------------------------------------------------------
//
// A shape is a tiny pattern for the body of a token: literal characters and
// runs written {<class><count>} or {<class><min>,<max>}, matched left to
// right; a run takes as many characters of its class as it may, up to its
// maximum, and never gives any back (the shapes below are written so that
// none has to). Classes:
//   d [0-9]   h [0-9a-f]   H [0-9a-fA-F]   a [A-Za-z0-9]   w [A-Za-z0-9_]
//   W [A-Za-z0-9_-]   e [A-Za-z0-9_=-]

bool InShapeClass(char cls, char c) {
  switch (cls) {
    case 'd': return IsDigit(c);
    case 'h': return IsLowerHex(c);
    case 'H': return IsHex(c);
    case 'a': return IsAlnum(c);
    case 'w': return IsWord(c);
    case 'W': return IsWordDash(c);
    case 'e': return IsWordDash(c) || c == '=';
    default: return false;
  }
}

std::size_t ShapeNumber(std::string_view shape, std::size_t& i) {
  std::size_t n = 0;
  while (i < shape.size() && IsDigit(shape[i])) n = n * 10 + static_cast<std::size_t>(shape[i++] - '0');
  return n;
}

// The end of the text \a shape matches at \a pos of \a s, or npos.
std::size_t MatchShape(std::string_view shape, std::string_view s, std::size_t pos) {
  std::size_t i = 0;
  while (i < shape.size()) {
    if (shape[i] != '{') {
      if (pos >= s.size() || s[pos] != shape[i]) return std::string_view::npos;
      ++pos;
      ++i;
      continue;
    }
    const char cls = shape[i + 1];
    i += 2;
    const std::size_t min = ShapeNumber(shape, i);
    std::size_t max = min;
    if (shape[i] == ',') {
      ++i;
      max = ShapeNumber(shape, i);
    }
    ++i;  // '}'
    std::size_t n = Span(
        s, pos, [cls](char c) { return InShapeClass(cls, c); }, max);
    if (n < min) return std::string_view::npos;
    pos += n;
  }
  return pos;
}

// ---- format rules ----------------------------------------------------------

using Matcher = bool (*)(std::string_view s, std::size_t at, std::size_t prefix_len);

// What may stand right before or after a token.
enum class Edge {
  kAny,
  kWord,    ///< no [A-Za-z0-9_] (a regex \b before or after a word character)
  kToken,   ///< no [A-Za-z0-9_-]
  kBase64,  ///< no [A-Za-z0-9_+/=-]: not inside a run of base64
};

bool EdgeOk(Edge edge, std::string_view s, std::size_t pos, bool before) {
  if (edge == Edge::kAny) return true;
  if (before ? pos == 0 : pos >= s.size()) return true;
  const char c = before ? s[pos - 1] : s[pos];
  switch (edge) {
    case Edge::kWord: return !IsWord(c);
    case Edge::kToken: return !IsWordDash(c);
    case Edge::kBase64: return !(IsWordDash(c) || c == '+' || c == '/' || c == '=');
    default: return true;
  }
}

enum class Kind {
  kCustom,   ///< \a match decides
  kToken,    ///< \a prefix, then \a shape
  kKeyword,  ///< gitleaks' semi-generic form: \a prefix (a keyword, any case)
             ///< in a name, an assignment, then a value of \a shape
};

// One rule. Case-sensitive literal prefixes select the rules to try at a
// position (keyword rules: any case); the rest of the rule decides.
struct FormatRule {
  std::string_view id;
  std::string_view prefix;
  Matcher match = nullptr;  ///< kCustom
  Kind kind = Kind::kCustom;
  std::string_view shape;    ///< kToken, kKeyword: the secret after the prefix
  double entropy = 0;        ///< floor over the secret (bits per character)
  Edge before = Edge::kAny;  ///< kToken: what may precede the prefix
  Edge after = Edge::kAny;   ///< kToken: what may follow the secret
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
      std::string_view body = s.substr(
          pos + kind.size(), Span(s, pos + kind.size(), [](char c) { return IsAlnum(c) || c == '+' || c == '/'; }));
      return body.size() >= 43 && !LooksPlaceholder(body);
    }
  }
  return false;
}

bool MatchPrivateKey(std::string_view s, std::size_t at, std::size_t plen) {
  std::size_t pos = at + plen;  // after "-----BEGIN"
  std::size_t label = Span(
      s, pos, [](char c) { return c == ' ' || IsUpper(c) || IsDigit(c) || c == '_' || c == '-'; }, 101);
  std::string_view head = s.substr(pos, label);
  auto key = head.find("PRIVATE KEY");
  if (key == std::string_view::npos) return false;
  std::size_t end_marker = s.find("-----", pos + key);
  if (end_marker == std::string_view::npos) return false;
  // The body: base64 lines, possibly with headers ("Proc-Type: ...") and
  // literal "\n" escapes; count base64 characters up to "-----END".
  std::size_t body_end = s.find("-----END", end_marker + 5);
  std::string_view body =
      s.substr(end_marker + 5, body_end == std::string_view::npos ? std::string_view::npos : body_end - end_marker - 5);
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
  if (!header || header->empty() || (*header)[0] != '{' || header->find("\"alg\"") == std::string::npos) {
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
  return body.size() == 32 && BoundaryAfterAlnum(s, at + plen + 32) && Entropy(body) >= 3.0 && !LooksPlaceholder(body);
}

bool MatchSendgrid(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBeforeAlnum(s, at)) return false;
  std::string_view body = s.substr(
      at + plen, Span(s, at + plen, [](char c) { return IsAlnum(c) || c == '=' || c == '_' || c == '-' || c == '.'; }));
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
    return c == '\\' || c == '\'' || c == '"' || c == '`' || IsSpace(c) || c == '>' || c == '=' || c == ':' ||
           c == '(' || c == ',' || c == ')';
  };
  if (at > 4 && !left_ok(s[at - 5])) return false;
  std::size_t n = Span(s, at + 2, [](char c) { return IsAlnum(c) || c == '_' || c == '~' || c == '.' || c == '-'; });
  if (n < 31 || n > 34) return false;
  std::size_t end = at + 2 + n;
  if (end < s.size()) {
    char c = s[end];
    bool right_ok = c == '\\' || c == '\'' || c == '"' || c == '`' || IsSpace(c) || c == '<' || c == ')' || c == ',';
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
  for (std::string_view word : {"password", "passwd", "pass", "pwd", "secret", "user", "username", "token", "changeme",
                                "hidden", "none", "null"}) {
    if (v.size() == word.size() && StartsWithNoCase(v, 0, word)) return true;
  }
  return false;
}

// scheme://user:password@host, found from its "://". The password runs to
// the first '@': connection strings hold raw '#', '?', '/' and ':' in
// passwords ("postgres://u:pa#ss@h/db") where a strict URL parser would end
// the authority. The user part holds none of '/', '?', '#'; and a "password"
// that is a port number and a path ("http://registry:4873/@scope/pkg") is a
// host:port with an '@' in its path.
bool MatchUrlCredentials(std::string_view s, std::size_t at, std::size_t plen) {
  if (at == 0 || !IsAlpha(s[at - 1])) return false;
  const std::size_t pos = at + plen;
  const std::size_t limit = std::min(s.size(), pos + 512);  // no quadratic walk of long text
  std::size_t end = pos;
  while (end < limit) {
    char c = s[end];
    if (c == '@' || IsSpace(c) || c == '"' || c == '\'' || c == '`' || c == '>' || c == '<' || c == '\\') {
      break;
    }
    ++end;
  }
  if (end >= limit || s[end] != '@' || end + 1 >= s.size()) return false;
  char host = s[end + 1];
  if (!(IsAlnum(host) || host == '[' || host == '{' || host == '$')) return false;
  std::string_view userinfo = s.substr(pos, end - pos);
  auto colon = userinfo.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view user = userinfo.substr(0, colon);
  std::string_view password = userinfo.substr(colon + 1);
  if (user.find_first_of("/?#") != std::string_view::npos) return false;
  if (auto path = password.find_first_of("/?#"); path != std::string_view::npos) {
    std::string_view port = password.substr(0, path);
    if (Span(port, 0, IsDigit) == port.size()) return false;
  }
  if (password.empty() || IsReferenceLike(password) || IsReferenceLike(user)) return false;
  return !IsPasswordPlaceholder(password);
}

// Telegram bot tokens, "<bot id>:<35 characters, the first 'A'>", found
// from their ":A" (gitleaks telegram-bot-api-token, MIT: bot ids of 5 to 16
// digits, then "A" and 34 of [a-zA-Z0-9_-]; the shape is specific enough
// without gitleaks' "telegr" keyword, which a token in a header lacks).
bool MatchTelegram(std::string_view s, std::size_t at, std::size_t) {
  std::size_t digits = 0;
  while (digits < at && digits <= 16 && IsDigit(s[at - digits - 1])) ++digits;
  if (digits < 5 || digits > 16) return false;
  std::string_view body = s.substr(at + 1, Span(s, at + 1, IsWordDash, 36));
  if (body.size() != 35) return false;
  return Entropy(body) >= 3.5 && !LooksPlaceholder(body);
}

// Discord bot tokens: the base64 of the bot's numeric id, a 6-character
// timestamp and a 27 to 38 character HMAC, joined by dots, found from the
// first dot (detect-secrets' DiscordBotTokenDetector, Apache-2.0:
// [MN][a-zA-Z\d_-]{23}\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}, widened to the
// longer ids and HMACs Discord issues now). The id must decode to digits.
bool MatchDiscordBot(std::string_view s, std::size_t at, std::size_t) {
  if (at + 7 >= s.size() || s[at + 7] != '.' || Span(s, at + 1, IsWordDash, 7) != 6) return false;
  std::size_t id = 0;
  while (id < at && id <= 26 && IsWordDash(s[at - id - 1])) ++id;
  if (id < 24 || id > 26) return false;
  const char first = s[at - id];
  if (first != 'M' && first != 'N' && first != 'O') return false;
  std::size_t hmac = Span(s, at + 8, IsWordDash, 39);
  if (hmac < 27 || hmac > 38 || (at + 8 + hmac < s.size() && s[at + 8 + hmac] == '.')) return false;
  auto decoded = DecodeBase64(s.substr(at - id, id));
  if (!decoded || decoded->size() < 17 || Span(*decoded, 0, IsDigit) != decoded->size()) return false;
  return Entropy(s.substr(at + 8, hmac)) >= 3.5;
}

// "Bearer <token>" in free text (a header written into a script or a curl
// command line). The header field itself is covered by field context.
bool MatchBearer(std::string_view s, std::size_t at, std::size_t plen) {
  if (!BoundaryBefore(s, at)) return false;
  std::size_t pos = at + plen;
  std::size_t spaces = Span(s, pos, [](char c) { return c == ' ' || c == '\t'; });
  if (spaces == 0) return false;
  pos += spaces;
  std::string_view token =
      s.substr(pos, Span(s, pos, [](char c) {
                 return IsAlnum(c) || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=' || c == '-';
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
  std::string_view body =
      s.substr(at + plen, Span(s, at + plen, [&](char c) { return kBech32.find(c) != std::string_view::npos; }));
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
      std::size_t n = Span(
          s, pos, [](char c) { return IsAlnum(c) || c == '/' || c == '+'; }, 41);
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
  pos += Span(
      s, pos, [](char c) { return IsAlnum(c) || c == '_' || c == '-'; }, 20);
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
                       return IsAlnum(c) || c == '_' || c == '.' || c == '=' || c == '+' || c == '/' || c == '~' ||
                              c == '-';
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

// A prefix and a shape (Kind::kToken).
constexpr FormatRule Token(std::string_view id, std::string_view prefix, std::string_view shape, double entropy,
                           Edge before, Edge after) {
  return {id, prefix, nullptr, Kind::kToken, shape, entropy, before, after};
}

// A keyword and the shape of the value assigned to a name holding it
// (Kind::kKeyword); \a keyword in lower case.
constexpr FormatRule Keyword(std::string_view id, std::string_view keyword, std::string_view shape, double entropy) {
  return {id, keyword, nullptr, Kind::kKeyword, shape, entropy, Edge::kAny, Edge::kAny};
}

bool MatchTelegram(std::string_view s, std::size_t at, std::size_t plen);
bool MatchDiscordBot(std::string_view s, std::size_t at, std::size_t plen);
bool MatchEnvAssignment(std::string_view s, std::size_t at, std::size_t plen);

// Rules in priority order: the first that matches at a position names the
// secret. Prefixes are case-sensitive (case variants are listed), except
// keyword rules'.
//
// Provider rules written as data (Token, Keyword) carry gitleaks' patterns
// (config/gitleaks.toml, MIT licence, (c) Zachary Rice): the literal prefix
// or keyword, the body's character class and length, and gitleaks' entropy
// floor where it has one. Where noted, flowrepo adds an edge or an entropy
// floor because a flow holds base64 blobs that gitleaks' files rarely do.
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
      {"env-assignment", "_PASS", MatchEnvAssignment},
      {"env-assignment", "_PW", MatchEnvAssignment},
      {"env-assignment", "_SECRET", MatchEnvAssignment},
      {"env-assignment", "_TOKEN", MatchEnvAssignment},
      {"env-assignment", "_APIKEY", MatchEnvAssignment},
      {"env-assignment", "_API_KEY", MatchEnvAssignment},
      // gitleaks telegram-bot-api-token, without its keyword.
      {"telegram-bot-token", ":A", MatchTelegram},
      {"discord-bot-token", ".", MatchDiscordBot},
      // Discord webhooks: https://discord.com/api/webhooks/<id>/<token>
      // (no gitleaks rule; ids are 17-20 digit snowflakes, tokens 68
      // characters of [A-Za-z0-9_-]).
      Token("discord-webhook-url", "discord.com/api/webhooks/", "{d17,20}/{W60,68}", 3.0, Edge::kAny, Edge::kToken),
      Token("discord-webhook-url", "discordapp.com/api/webhooks/", "{d17,20}/{W60,68}", 3.0, Edge::kAny, Edge::kToken),
      // gitleaks discord-api-token, discord-client-secret.
      Keyword("discord-api-token", "discord", "{H64}", 0),
      Keyword("discord-client-secret", "discord", "{e32}", 2.0),
      // gitleaks atlassian-api-token: ATATT3 + 186, or a 24-character token
      // assigned to an atlassian/confluence/jira name.
      Token("atlassian-api-token", "ATATT3", "{e186}", 3.5, Edge::kWord, Edge::kToken),
      Keyword("atlassian-api-token", "atlassian", "{a20}{H4}", 3.5),
      Keyword("atlassian-api-token", "confluence", "{a20}{H4}", 3.5),
      Keyword("atlassian-api-token", "jira", "{a20}{H4}", 3.5),
      // gitleaks mailgun-private-api-token, mailgun-signing-key (the shape
      // of current private API keys too).
      Keyword("mailgun-api-key", "mailgun", "key-{h32}", 0),
      Keyword("mailgun-api-key", "mailgun", "{h32}-{h8}-{h8}", 0),
      // gitleaks heroku-api-key-v2, heroku-api-key (a UUID: only with the
      // keyword, since UUIDs are ids everywhere else).
      Token("heroku-api-key", "HRKU-AA", "{W58}", 4.0, Edge::kWord, Edge::kToken),
      Keyword("heroku-api-key", "heroku", "{H8}-{H4}-{H4}-{H4}-{H12}", 0),
      // gitleaks square-access-token (entropy 2; 3.5 here, and no base64
      // around "EAAA", which base64 of zero bytes is full of), and the
      // OAuth secret of its earlier rule set.
      Token("square-access-token", "EAAA", "{W22,60}", 3.5, Edge::kBase64, Edge::kBase64),
      Token("square-access-token", "sq0atp-", "{W22,60}", 2.0, Edge::kWord, Edge::kToken),
      Token("square-oauth-secret", "sq0csp-", "{W43}", 2.0, Edge::kWord, Edge::kToken),
      // gitleaks postman-api-token.
      Token("postman-api-token", "PMAK-", "{H24}-{H34}", 3.0, Edge::kWord, Edge::kWord),
  };
  return rules;
}

// gitleaks' semi-generic assignment: after the keyword, up to 20 more name
// characters, up to 3 quotes or spaces, an operator, up to 5 quotes, spaces
// or '=', then the value, then the end of the value.
bool MatchKeywordRule(const FormatRule& rule, std::string_view s, std::size_t at) {
  std::size_t pos = at + rule.prefix.size();
  pos += Span(
      s, pos, [](char c) { return c == ' ' || c == '\t' || IsWord(c) || c == '.' || c == '-'; }, 20);
  pos += Span(
      s, pos, [](char c) { return IsSpace(c) || c == '\'' || c == '"'; }, 3);
  bool assigned = false;
  for (std::string_view op : {":::=", "::=", ":=", "=>", "?=", "||", "=", ">", ":", ","}) {
    if (StartsWith(s, pos, op)) {
      pos += op.size();
      assigned = true;
      break;
    }
  }
  if (!assigned) return false;
  pos += Span(
      s, pos, [](char c) { return IsSpace(c) || c == '\'' || c == '"' || c == '`' || c == '='; }, 5);
  const std::size_t end = MatchShape(rule.shape, s, pos);
  if (end == std::string_view::npos) return false;
  if (end < s.size() && std::string_view("`'\"; \t\r\n,)}]&<\\").find(s[end]) == std::string_view::npos) {
    return false;
  }
  std::string_view body = s.substr(pos, end - pos);
  return (rule.entropy == 0 || Entropy(body) >= rule.entropy) && !LooksPlaceholder(body);
}

bool MatchTokenRule(const FormatRule& rule, std::string_view s, std::size_t at) {
  if (!EdgeOk(rule.before, s, at, true)) return false;
  const std::size_t from = at + rule.prefix.size();
  const std::size_t end = MatchShape(rule.shape, s, from);
  if (end == std::string_view::npos || !EdgeOk(rule.after, s, end, false)) return false;
  std::string_view body = s.substr(from, end - from);
  return (rule.entropy == 0 || Entropy(body) >= rule.entropy) && !LooksPlaceholder(body);
}

bool RuleMatches(const FormatRule& rule, std::string_view s, std::size_t at) {
  switch (rule.kind) {
    case Kind::kCustom: return StartsWith(s, at, rule.prefix) && rule.match(s, at, rule.prefix.size());
    case Kind::kToken: return StartsWith(s, at, rule.prefix) && MatchTokenRule(rule, s, at);
    case Kind::kKeyword: return StartsWithNoCase(s, at, rule.prefix) && MatchKeywordRule(rule, s, at);
  }
  return false;
}

// The bytes a prefix may start with at position \a i: both cases for
// keyword rules.
std::array<unsigned char, 2> PrefixBytes(const FormatRule& rule, std::size_t i) {
  const char c = rule.prefix[i];
  if (rule.kind != Kind::kKeyword) return {static_cast<unsigned char>(c), static_cast<unsigned char>(c)};
  return {static_cast<unsigned char>(ToLower(c)), static_cast<unsigned char>(IsLower(c) ? c - 'a' + 'A' : c)};
}

// Context rules name how a secret is written, not what it is; a token
// format found anywhere in the same text names it better.
bool IsContextRule(std::string_view id) {
  return id == "bearer-token" || id == "basic-auth-header" || id == "url-credentials" || id == "generic-assignment" ||
         id == "env-assignment";
}

// The rules a position may start, by its first two bytes: a bit per byte
// pair rejects most positions at once, and the others try only the rules
// whose prefix starts with that pair (in Rules() order). A one-byte prefix
// is listed under every second byte.
struct Dispatch {
  std::array<std::bitset<256>, 256> pairs;
  std::array<std::uint16_t, 256 * 256 + 1> start;  ///< per pair b0 * 256 + b1: its first entry in rules
  std::vector<std::uint8_t> rules;                 ///< indexes into Rules()
};

const Dispatch& RuleDispatch() {
  static const Dispatch dispatch = [] {
    const auto& rules = Rules();
    assert(rules.size() <= 256);  // indexes are bytes
    // (pair, rule) for every pair a rule's prefix may start with, in rule
    // order within a pair.
    std::vector<std::pair<std::uint16_t, std::uint8_t>> entries;
    for (std::size_t r = 0; r < rules.size(); ++r) {
      auto [first_lower, first_upper] = PrefixBytes(rules[r], 0);
      const unsigned firsts[2] = {first_lower, first_upper};
      for (int f = 0; f < (first_lower == first_upper ? 1 : 2); ++f) {
        if (rules[r].prefix.size() < 2) {
          for (unsigned b1 = 0; b1 < 256; ++b1) {
            entries.emplace_back(static_cast<std::uint16_t>(firsts[f] * 256 + b1), static_cast<std::uint8_t>(r));
          }
          continue;
        }
        auto [lower, upper] = PrefixBytes(rules[r], 1);
        entries.emplace_back(static_cast<std::uint16_t>(firsts[f] * 256 + lower), static_cast<std::uint8_t>(r));
        if (upper != lower) {
          entries.emplace_back(static_cast<std::uint16_t>(firsts[f] * 256 + upper), static_cast<std::uint8_t>(r));
        }
      }
    }
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    Dispatch d;
    d.start.fill(0);
    d.rules.reserve(entries.size());
    for (const auto& [pair, rule] : entries) {
      d.pairs[pair / 256].set(pair % 256);
      d.rules.push_back(rule);
      ++d.start[pair + 1u];
    }
    for (std::size_t i = 1; i < d.start.size(); ++i)
      d.start[i] = static_cast<std::uint16_t>(d.start[i] + d.start[i - 1]);
    return d;
  }();
  return dispatch;
}

struct Hit {
  const FormatRule* rule = nullptr;  ///< nullptr: none
  std::size_t at = 0;
};

// The first rule matching at or after \a from; at one position, the first
// rule of Rules() that matches.
Hit NextHit(std::string_view text, std::size_t from) {
  const Dispatch& d = RuleDispatch();
  const auto& rules = Rules();
  // No rule matches in a text's last byte: every secret is longer.
  for (std::size_t i = from; i + 1 < text.size(); ++i) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    const auto b1 = static_cast<unsigned char>(text[i + 1]);
    if (!d.pairs[b0].test(b1)) continue;
    const unsigned pair = b0 * 256 + b1;
    for (unsigned k = d.start[pair]; k < d.start[pair + 1]; ++k) {
      const FormatRule& rule = rules[d.rules[k]];
      if (RuleMatches(rule, text, i)) return {&rule, i};
    }
  }
  return {};
}

std::string_view FindFormat(std::string_view text) {
  std::string_view context;
  for (Hit hit = NextHit(text, 0); hit.rule; hit = NextHit(text, hit.at + 1)) {
    if (!IsContextRule(hit.rule->id)) return hit.rule->id;
    if (context.empty()) context = hit.rule->id;
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

enum class FieldKind { kNone, kPassword, kAuthorization, kCookie, kToken, kConnectionString };

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

// Most keys hold none of the words that name secrets: one pass decides,
// before the key is split into words.
bool MayNameASecret(std::string_view key) {
  for (std::size_t i = 0; i + 1 < key.size(); ++i) {
    switch (ToLower(key[i])) {
      case 'p':
        if (StartsWithNoCase(key, i, "pass") || StartsWithNoCase(key, i, "pw")) return true;
        break;
      case 'a':
        if (StartsWithNoCase(key, i, "auth")) return true;
        break;
      case 't':
        if (StartsWithNoCase(key, i, "token")) return true;
        break;
      case 's':
        if (StartsWithNoCase(key, i, "secret") || StartsWithNoCase(key, i, "sas")) return true;
        break;
      case 'k':
        if (StartsWithNoCase(key, i, "key")) return true;
        break;
      case 'c':
        if (StartsWithNoCase(key, i, "connection") || StartsWithNoCase(key, i, "cookie")) return true;
        break;
      case 'd':
        if (StartsWithNoCase(key, i, "dsn")) return true;
        break;
      default: break;
    }
  }
  return false;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool OneOf(std::string_view word, std::initializer_list<std::string_view> words) {
  for (std::string_view w : words) {
    if (word == w) return true;
  }
  return false;
}

FieldKind ClassifyKey(std::string_view key) {
  if (key.empty() || key.size() > 100) return FieldKind::kNone;
  if (!MayNameASecret(key)) return FieldKind::kNone;
  std::vector<std::string> w = Words(key);
  if (w.empty()) return FieldKind::kNone;
  const std::string& last = w.back();
  const std::string_view prev = w.size() >= 2 ? std::string_view(w[w.size() - 2]) : std::string_view();
  // Words run together ("dbpassword", "accesstoken", "client_secret" as
  // "clientsecret") count by their ending.
  if (OneOf(last, {"pass", "pw", "pwd", "passphrase", "passcode"}) || EndsWith(last, "password") ||
      EndsWith(last, "passwd") || EndsWith(last, "pwd")) {
    return FieldKind::kPassword;
  }
  if (last == "authorization") return FieldKind::kAuthorization;
  if (last == "cookie" || last == "cookies") return FieldKind::kCookie;
  if ((prev == "connection" && last == "string") || last == "connectionstring" || last == "dsn") {
    return FieldKind::kConnectionString;
  }
  if (EndsWith(last, "token")) {
    // CSRF tokens guard a form, they open nothing.
    bool csrf = prev == "csrf" || prev == "xsrf" || last == "csrftoken" || last == "xsrftoken";
    return csrf ? FieldKind::kNone : FieldKind::kToken;
  }
  if (EndsWith(last, "secret") || EndsWith(last, "apikey") ||
      OneOf(last, {"accesskey", "privatekey", "secretkey", "sas"})) {
    return FieldKind::kToken;
  }
  if (last == "key" && w.size() >= 2) {
    // X-<anything>-Key headers (x-api-key, x-functions-key) carry keys.
    if (w.front() == "x") return FieldKind::kToken;
    if (OneOf(prev, {"api",       "access", "secret",       "private", "signing", "encryption", "master",
                     "account",   "shared", "subscription", "license", "app",     "client",     "function",
                     "functions", "host",   "auth",         "webhook", "admin",   "service"})) {
      return FieldKind::kToken;
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

// A token-like value: no spaces, 8 or more characters, random-looking.
bool LooksLikeToken(std::string_view v) {
  if (v.size() < 8 || v.size() > 4096) return false;
  for (char c : v) {
    if (IsSpace(c)) return false;
  }
  if (IsUuid(v) || LooksPlaceholder(v)) return false;
  if (StartsWith(v, 0, "http://") || StartsWith(v, 0, "https://")) return false;
  double h = Entropy(v);
  // Short values cannot show much entropy: below 16 characters, letters
  // and digits with a few distinct characters do.
  if (HasDigitAndAlpha(v)) return h >= (v.size() < 16 ? 2.0 : 3.0);
  return v.size() >= 32 && h >= 4.0;
}

std::string_view Trimmed(std::string_view v) {
  while (!v.empty() && IsSpace(v.front())) v.remove_prefix(1);
  while (!v.empty() && IsSpace(v.back())) v.remove_suffix(1);
  return v;
}

// Cookie: a=1; b=2 and Set-Cookie: a=1; Path=/: any cookie value that is a
// token (a session id) makes the header a secret.
bool HasSessionCookie(std::string_view v) {
  while (!v.empty()) {
    std::size_t semi = v.find(';');
    std::string_view part = Trimmed(v.substr(0, semi));
    v = semi == std::string_view::npos ? std::string_view() : v.substr(semi + 1);
    std::size_t eq = part.find('=');
    std::string_view value = eq == std::string_view::npos ? part : part.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (!IsReferenceLike(value) && LooksLikeToken(value)) return true;
  }
  return false;
}

std::string_view DetectField(FieldKind kind, std::string_view v) {
  switch (kind) {
    case FieldKind::kNone: return {};
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
    case FieldKind::kCookie: return HasSessionCookie(v) ? "cookie-header" : std::string_view();
    case FieldKind::kToken: return LooksLikeToken(v) ? "secret-field" : std::string_view();
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

// A number under a password field ({"password": 12345678}) is a password:
// four or more digits (a pass count or a length is smaller).
bool IsSecretNumber(std::string_view key, const Json& number) {
  return std::fabs(number.get<double>()) >= 1000 && ClassifyKey(key) == FieldKind::kPassword;
}

// NAME=value in env files, shell and code: a variable named like a secret
// (DB_PASS, SMTP_PW, *_PASSWD, *_SECRET, *_TOKEN, *_APIKEY) set to a
// literal; found from the '_' before the secret word. An unquoted value
// counts only in the env-file form, without spaces around '='; in code
// it is an expression.
bool MatchEnvAssignment(std::string_view s, std::size_t at, std::size_t) {
  auto name_char = [](char c) { return IsUpper(c) || IsDigit(c) || c == '_'; };
  std::size_t start = at;
  while (start > 0 && name_char(s[start - 1])) --start;
  if (start == at || !IsUpper(s[start]) || (start > 0 && IsAlnum(s[start - 1]))) return false;
  const std::size_t end = at + Span(s, at, name_char, 64);
  const FieldKind kind = ClassifyKey(s.substr(start, end - start));
  if (kind != FieldKind::kPassword && kind != FieldKind::kToken) return false;
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  std::size_t pos = end;
  const std::size_t space_before = Span(s, pos, blank);
  pos += space_before;
  if (pos + 1 >= s.size() || s[pos] != '=' || s[pos + 1] == '=') return false;
  ++pos;
  const std::size_t space_after = Span(s, pos, blank);
  pos += space_after;
  if (pos >= s.size()) return false;
  std::string_view value;
  if (s[pos] == '"' || s[pos] == '\'' || s[pos] == '`') {
    std::size_t close = s.find(s[pos], pos + 1);
    if (close == std::string_view::npos || close - pos - 1 > 200) return false;
    value = s.substr(pos + 1, close - pos - 1);
  } else {
    if (space_before || space_after) return false;
    value = s.substr(pos, Span(
                              s, pos, [](char c) { return !IsSpace(c) && c != ';' && c != '&'; }, 201));
  }
  if (value.empty() || value.size() > 200 || IsReferenceLike(value) || IsSecretReference(value)) return false;
  return !DetectField(kind, value).empty();
}

// ---- walking a document -----------------------------------------------------

void AppendPointerStep(std::string& pointer, std::string_view token) {
  pointer += '/';
  AppendPointerToken(pointer, token);
}

// Object keys that are data, not field names, in flowrepo's own documents:
// the source ids of app_definition.json's foreign references (an n8n
// workflow id "…Pwd" is no password field) and the user names of
// workspace.json's roles. Their values get no field context.
struct DataMap {
  std::string_view file;     ///< base name
  std::string_view pointer;  ///< the map
};
constexpr DataMap kDataMaps[] = {{"app_definition.json", "/references"}, {"workspace.json", "/roles"}};

std::string_view BaseName(std::string_view path) {
  auto slash = path.find_last_of('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Node-RED typed inputs that say where a value comes from (msg.x, an env
// variable's name, a JSONata expression), so the value is no literal.
bool IsIndirectType(std::string_view t) {
  return t == "msg" || t == "flow" || t == "global" || t == "env" || t == "jsonata" || t == "cred";
}

// A value whose field name is a sibling's value:
//   {"name": "Authorization", "value": ...} (n8n parameters, env variables;
//   also "key" for "name");
//   {"keyType": "other", "keyValue": "Authorization", "valueType": "other",
//    "valueValue": ...} (Node-RED http request headers; keyType names a
//   well-known header itself unless it is "other");
//   {"p": "headers.Authorization", "to": ..., "tot": "str"} (Node-RED change
//   rules: the last part of the property path).
struct NamedValue {
  std::string_view value_field;  ///< empty: none
  std::string_view name;
  bool literal = true;  ///< false: a Node-RED msg/env/... reference
};

// Name/value objects are small: anything larger is a node or a parameter
// set, looked at without searching it for these fields (one pass over at
// most 8 keys instead of several map lookups per object).
NamedValue FindNamedValue(const Json& j) {
  if (j.size() > 8) return {};
  const Json *name = nullptr, *key = nullptr, *type = nullptr, *key_type = nullptr, *key_value = nullptr,
             *value_type = nullptr, *path = nullptr, *to_type = nullptr;
  bool value = false, value_value = false, to = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string_view k = it.key();  // compares sizes first
    const Json* v = it.value().is_string() ? &it.value() : nullptr;
    if (k == "value")
      value = true;
    else if (k == "valueValue")
      value_value = true;
    else if (k == "to")
      to = true;
    else if (k == "name")
      name = v;
    else if (k == "key")
      key = v;
    else if (k == "type")
      type = v;
    else if (k == "keyType")
      key_type = v;
    else if (k == "keyValue")
      key_value = v;
    else if (k == "valueType")
      value_type = v;
    else if (k == "p")
      path = v;
    else if (k == "tot")
      to_type = v;
  }
  auto text = [](const Json* v) { return v ? std::string_view(v->get_ref<const std::string&>()) : std::string_view(); };
  if (value_value) {
    std::string_view t = text(key_type);
    return {"valueValue", !t.empty() && t != "other" ? t : text(key_value), !IsIndirectType(text(value_type))};
  }
  if (value) {
    std::string_view n = name ? text(name) : text(key);
    return {n.empty() ? std::string_view() : "value", n, !IsIndirectType(text(type))};
  }
  if (to && to_type) {
    std::string_view n = text(path);
    auto cut = n.find_last_of(".[");
    if (cut != std::string_view::npos) n = n.substr(cut + 1);
    while (!n.empty() && (n.back() == ']' || n.back() == '"' || n.back() == '\'')) n.remove_suffix(1);
    while (!n.empty() && (n.front() == '"' || n.front() == '\'')) n.remove_prefix(1);
    return {n.empty() ? std::string_view() : "to", n, !IsIndirectType(text(to_type))};
  }
  return {};
}

constexpr std::size_t kMaxJsonText = 64 * 1024;
constexpr std::size_t kMaxJsonTextDepth = 32;

// Whether JSON \a text nests no deeper than kMaxJsonTextDepth (the walk
// recurses), counting brackets outside strings.
bool ShallowJson(std::string_view text) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonTextDepth) return false;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return true;
}

// Text that is a JSON object or array (n8n "jsonHeaders", "jsonBody",
// Node-RED inject payloads): '{' then '"' or '}', or '[' then a value, up
// to the matching closing bracket. A leading '=' (an n8n expression) is
// dropped.
std::optional<std::string_view> JsonText(std::string_view v) {
  v = Trimmed(v);
  if (!v.empty() && v.front() == '=') v = Trimmed(v.substr(1));
  // Larger JSON text is data (n8n pinData, schemas), not configuration: it
  // is scanned as text only.
  if (v.size() < 2 || v.size() > kMaxJsonText) return std::nullopt;
  const char open = v.front(), close = v.back();
  if (!((open == '{' && close == '}') || (open == '[' && close == ']'))) return std::nullopt;
  std::string_view inner = Trimmed(v.substr(1, v.size() - 2));
  if (inner.empty()) return std::nullopt;
  const char c = inner.front();
  bool value_start =
      open == '{' ? c == '"'
                  : c == '{' || c == '[' || c == '"' || c == '-' || IsDigit(c) || c == 't' || c == 'f' || c == 'n';
  if (!value_start) return std::nullopt;
  return v;
}

// The end of the JSON string whose text starts at \a from, or npos.
std::size_t StringEnd(std::string_view text, std::size_t from) {
  for (std::size_t i = from; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i;
    }
  }
  return std::string_view::npos;
}

const SecretRuleInfo* InfoFor(std::string_view id);

class Walker {
 public:
  Walker(const std::string& file, std::vector<Problem>& problems) : file_(file), problems_(problems) {
    for (const auto& map : kDataMaps) {
      if (BaseName(file) == map.file) data_map_ = map.pointer;
    }
  }

  void Value(const Json& j, std::string_view key) {
    switch (j.type()) {
      case Json::value_t::object: Object(j); break;
      case Json::value_t::array: Array(j, key); break;
      case Json::value_t::string: String(j.get_ref<const std::string&>(), key); break;
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned:
      case Json::value_t::number_float:
        if (IsSecretNumber(key, j)) Report("password-field");
        break;
      default: break;
    }
  }

 private:
  void Report(std::string_view rule) {
    const SecretRuleInfo* info = InfoFor(rule);
    std::string what = info ? std::string(info->description) : std::string(rule);
    std::string_view at = embedded_ ? std::string_view(pointer_).substr(0, anchor_) : std::string_view(pointer_);
    problems_.push_back({MaskSecretsInPath(file_), MaskSecretsInPointer(at), "secret/" + std::string(rule),
                         "plain-text secret (" + what + "); store a secret reference instead"});
  }

  void Object(const Json& j) {
    const NamedValue named = FindNamedValue(j);
    const bool data_keys = !embedded_ && !data_map_.empty() && pointer_ == data_map_;
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      const std::size_t mark = pointer_.size();
      AppendPointerStep(pointer_, k);
      std::string_view rule = FindFormat(k);
      if (!rule.empty()) {
        Report(rule);
      } else if (data_keys) {
        Value(it.value(), {});
      } else if (!named.value_field.empty() && k == named.value_field) {
        Value(it.value(), named.literal ? named.name : std::string_view());
      } else {
        Value(it.value(), k);
      }
      pointer_.resize(mark);
    }
  }

  void Array(const Json& j, std::string_view key) {
    // A private key kept as an array of its lines is one secret, named by
    // the array; its lines are not looked at one by one.
    const bool key_lines = IsPrivateKeyLines(j);
    std::size_t index = 0;
    for (const auto& item : j) {
      const std::size_t mark = pointer_.size();
      pointer_ += '/';
      pointer_ += std::to_string(index++);
      if (!(key_lines && item.is_string())) Value(item, key);
      pointer_.resize(mark);
    }
    if (key_lines) Report("private-key");
  }

  static bool IsPrivateKeyLines(const Json& j) {
    std::size_t strings = 0;
    bool begin = false;
    for (const auto& item : j) {
      if (!item.is_string()) continue;
      ++strings;
      const std::string& line = item.get_ref<const std::string&>();
      begin = begin || line.find("-----BEGIN") != std::string::npos ||
              line.find("PuTTY-User-Key-File-") != std::string::npos;
    }
    if (!begin || strings < 2) return false;
    std::string joined;
    for (const auto& item : j) {
      if (item.is_string()) joined += item.get_ref<const std::string&>() + "\n";
    }
    return FindFormat(joined) == "private-key";
  }

  // JSON kept in a string is scanned as JSON, once: its field names count,
  // its strings are scanned one by one. Text that looks like JSON but does
  // not parse (n8n bodies with {{ }} in place of values) is scanned as text
  // and for its "key": "value" pairs; a context rule over the whole text
  // ("password": "..." read as an assignment) names a secret less well
  // than the pair's field does.
  void String(const std::string& v, std::string_view key) {
    std::optional<std::string_view> json;
    if (embedded_ < kMaxEmbedded) json = JsonText(v);
    if (json && Embedded(*json)) return;
    const std::string rule = DetectSecret(key, v);
    if (!rule.empty() && !IsContextRule(rule)) {
      Report(rule);
      return;
    }
    const std::size_t before = problems_.size();
    if (json) {
      EnterEmbedded();
      Pairs(*json);
      --embedded_;
    }
    if (problems_.size() == before && !rule.empty()) Report(rule);
  }

  void EnterEmbedded() {
    if (embedded_++ == 0) anchor_ = pointer_.size();
  }

  // Problems found inside name the string. False when \a text does not
  // parse.
  // The text is only read, never stored: nlohmann's own parser does (no
  // duplicate-key or size checks needed), without exceptions, since text
  // that looks like JSON often is not.
  bool Embedded(std::string_view text) {
    if (!ShallowJson(text)) return false;
    Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return false;
    EnterEmbedded();
    Value(parsed, {});
    --embedded_;
    return true;
  }

  void Pairs(std::string_view text) {
    std::size_t i = 0;
    while ((i = text.find('"', i)) != std::string_view::npos) {
      const std::size_t key_end = StringEnd(text, i + 1);
      if (key_end == std::string_view::npos) return;
      std::size_t p = key_end + 1;
      p += Span(text, p, IsSpace);
      if (p >= text.size() || text[p] != ':') {
        i = key_end + 1;
        continue;
      }
      ++p;
      p += Span(text, p, IsSpace);
      if (p >= text.size() || text[p] != '"') {
        i = p;
        continue;
      }
      const std::size_t value_end = StringEnd(text, p + 1);
      if (value_end == std::string_view::npos) return;
      std::string rule = DetectSecret(text.substr(i + 1, key_end - i - 1), text.substr(p + 1, value_end - p - 1));
      if (!rule.empty()) Report(rule);
      i = value_end + 1;
    }
  }

  static constexpr int kMaxEmbedded = 3;

  const std::string& file_;
  std::vector<Problem>& problems_;
  std::string pointer_;
  std::string_view data_map_;
  int embedded_ = 0;        ///< depth of JSON-in-a-string being scanned
  std::size_t anchor_ = 0;  ///< while embedded_: the string's pointer length
};

const SecretRuleInfo* InfoFor(std::string_view id) {
  for (const auto& info : SecretRules()) {
    if (info.id == id) return &info;
  }
  return nullptr;
}

// Masks every rule match in \a text after the rule's prefix: a private key
// to the end of the text, a context or keyword rule to the end of its
// line, a token to its end. When nothing matches as written but the
// percent-decoded text does, all of it.
std::string MaskText(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  for (Hit hit = NextHit(text, 0); hit.rule; hit = NextHit(text, pos)) {
    const std::size_t keep = hit.at + hit.rule->prefix.size();
    out.append(text.substr(pos, keep - pos));
    out += "****";
    std::size_t end = keep;
    if (hit.rule->id == "private-key") {
      end = text.size();
    } else if (IsContextRule(hit.rule->id) || hit.rule->kind == Kind::kKeyword) {
      end = text.find('\n', keep);
      if (end == std::string_view::npos) end = text.size();
    } else {
      end += Span(text, end, [](char c) { return c == ' ' || c == '\t'; });
      end += Span(text, end, [](char c) {
        return !IsSpace(c) && std::string_view("'\"`,;()<>[]{}|").find(c) == std::string_view::npos;
      });
    }
    pos = std::max(end, keep);
  }
  if (pos == 0) return DetectSecretInText(text).empty() ? std::string(text) : std::string("****");
  out.append(text.substr(pos));
  return out;
}

std::string UnescapePointerToken(std::string_view token) {
  std::string out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      out += token[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

// Masks each '/'-separated segment of \a path; \a pointer: segments are
// RFC 6901 tokens.
std::string MaskSegments(std::string_view path, bool pointer) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t slash = path.find('/', pos);
    std::string_view segment = path.substr(pos, slash == std::string_view::npos ? slash : slash - pos);
    if (pointer) {
      std::string token = UnescapePointerToken(segment);
      std::string masked = MaskText(token);
      if (masked == token) {
        out.append(segment);
      } else {
        AppendPointerToken(out, masked);
      }
    } else {
      out += MaskText(segment);
    }
    if (slash == std::string_view::npos) break;
    out += '/';
    pos = slash + 1;
  }
  return out;
}

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
      {"telegram-bot-token", "Telegram bot token"},
      {"discord-bot-token", "Discord bot token"},
      {"discord-webhook-url", "Discord webhook URL"},
      {"discord-api-token", "Discord API token"},
      {"discord-client-secret", "Discord client secret"},
      {"atlassian-api-token", "Atlassian API token"},
      {"mailgun-api-key", "Mailgun API key"},
      {"heroku-api-key", "Heroku API key"},
      {"square-access-token", "Square access token"},
      {"square-oauth-secret", "Square OAuth secret"},
      {"postman-api-token", "Postman API key"},
      {"generic-assignment", "secret assigned in code"},
      {"env-assignment", "secret assigned to an environment variable"},
      {"password-field", "password in a password field"},
      {"authorization-header", "credentials in an authorization header"},
      {"cookie-header", "session cookie in a Cookie or Set-Cookie header"},
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
  if (wrapped("{{", "}}") || wrapped("={{", "}}") || wrapped("${{", "}}") || wrapped("${", "}") || wrapped("$(", ")") ||
      (v.size() > 2 && wrapped("%", "%") && v.find(' ') == std::string_view::npos)) {
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
  for (std::string_view scheme :
       {"vault:", "secret:", "secrets:", "env:", "op://",
        "keyvault:", "azurekeyvault:", "aws-sm:", "awssm:", "gcpsm:", "sm://",
        "arn:aws:secretsmanager:", "arn:aws:ssm:", "ssm:", "credential:", "credentials:", "doppler:", "infisical:"}) {
    if (scheme.find(':') == colon && StartsWith(v, 0, scheme) && v.size() > scheme.size()) return true;
  }
  return false;
}

std::string DetectSecretInText(std::string_view text) {
  // A data: URI's payload (an image, a file) is data, not text.
  if (StartsWithNoCase(text, 0, "data:")) {
    if (auto payload = text.find(";base64,"); payload != std::string_view::npos) text = text.substr(0, payload);
  }
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
  std::string_view trimmed = Trimmed(value);
  // A provider keyword in the field name and a value of its shape
  // ({"HEROKU_API_KEY": "<uuid>"}): gitleaks' assignment, as JSON.
  if (key.size() >= 4 && key.size() <= 100 && trimmed.size() >= 16 && trimmed.size() <= 128) {
    static const std::vector<const FormatRule*> keyword_rules = [] {
      std::vector<const FormatRule*> out;
      for (const auto& r : Rules()) {
        if (r.kind == Kind::kKeyword) out.push_back(&r);
      }
      return out;
    }();
    std::array<char, 100> buffer;
    for (std::size_t i = 0; i < key.size(); ++i) buffer[i] = ToLower(key[i]);
    const std::string_view lower(buffer.data(), key.size());
    for (const FormatRule* keyword : keyword_rules) {
      const FormatRule& r = *keyword;
      if (lower.find(r.prefix) != std::string_view::npos && MatchShape(r.shape, trimmed, 0) == trimmed.size() &&
          (r.entropy == 0 || Entropy(trimmed) >= r.entropy) && !LooksPlaceholder(trimmed)) {
        return std::string(r.id);
      }
    }
  }
  FieldKind kind = ClassifyKey(key);
  if (kind == FieldKind::kNone) return rule;
  // The field says more than a context rule ("Password=" inside a
  // connection string is a connection string secret).
  std::string_view field = DetectField(kind, trimmed);
  return field.empty() ? rule : std::string(field);
}

void ScanSecrets(const Json& document, const std::string& file, std::vector<Problem>& problems) {
  Walker(file, problems).Value(document, {});
}

std::string MaskSecrets(std::string_view text) { return MaskText(text); }

std::string MaskSecretsInPointer(std::string_view pointer) { return MaskSegments(pointer, true); }

std::string MaskSecretsInPath(std::string_view path) { return MaskSegments(path, false); }

void MaskSecrets(Problem& problem) {
  problem.file = MaskSecretsInPath(problem.file);
  problem.pointer = MaskSecretsInPointer(problem.pointer);
  problem.message = MaskSecrets(problem.message);
}

}  // namespace flowrepo
