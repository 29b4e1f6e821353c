#ifndef FLOWREPO_FORMATS_FORMAT_UTIL_H_
#define FLOWREPO_FORMATS_FORMAT_UTIL_H_

// Small helpers shared by the foreign formats.

#include <string>
#include <string_view>

#include "json/json_io.h"

namespace flowrepo {

/// A string, or an integer written as a string (n8n ids are either); empty
/// for anything else.
inline std::string IdString(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return value.dump();
  return {};
}

}  // namespace flowrepo

#endif  // FLOWREPO_FORMATS_FORMAT_UTIL_H_
