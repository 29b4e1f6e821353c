#ifndef FLOWREPO_FORMATS_FORMAT_UTIL_H_
#define FLOWREPO_FORMATS_FORMAT_UTIL_H_

// Small helpers shared by the foreign formats.

#include <string>
#include <string_view>

#include "json/json_io.h"

namespace flowrepo {

/// \a key escaped as one JSON pointer token ("a/b" -> "a~1b").
inline std::string PointerToken(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

/// A string, or an integer written as a string (n8n ids are either); empty
/// for anything else.
inline std::string IdString(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return value.dump();
  return {};
}

}  // namespace flowrepo

#endif  // FLOWREPO_FORMATS_FORMAT_UTIL_H_
