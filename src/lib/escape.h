#ifndef FLOWREPO_ESCAPE_H_
#define FLOWREPO_ESCAPE_H_

// How messages show bytes they must not print as they are.

#include <string>

namespace flowrepo {

/// Appends \a c as "\xNN" (two lower-case hex digits).
inline void AppendHexEscaped(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0x0f];
}

}  // namespace flowrepo

#endif  // FLOWREPO_ESCAPE_H_
