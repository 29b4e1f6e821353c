#ifndef FLOWREPO_CLI_ONE_LINE_H_
#define FLOWREPO_CLI_ONE_LINE_H_

#include <string>
#include <string_view>

namespace flowrepo::cli {

/// \a text safe to print as one line on a terminal: control characters
/// (newlines, escape sequences) become \xNN. The library already quotes what
/// it takes from hostile input this way; this is the last line of defence
/// for an error line.
inline std::string OneLine(std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace flowrepo::cli

#endif  // FLOWREPO_CLI_ONE_LINE_H_
