#ifndef FLOWREPO_ESCAPE_H_
#define FLOWREPO_ESCAPE_H_

// How messages show bytes they must not print as they are.

#include <string>
#include <vector>

namespace flowrepo {

/// Appends \a c as "\xNN" (two lower-case hex digits).
inline void AppendHexEscaped(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0x0f];
}

/// "'a', 'b', 'c'": names listed in a message.
inline std::string Quoted(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "'" : ", '") + s + "'";
  return out;
}

}  // namespace flowrepo

#endif  // FLOWREPO_ESCAPE_H_
