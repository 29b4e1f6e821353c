#ifndef FLOWREPO_JSON_JSON_IO_H_
#define FLOWREPO_JSON_JSON_IO_H_

// Safe JSON reading and canonical writing. Every JSON document flowrepo
// reads from a repository, a package or a user's file goes through
// ParseJson: a validating SAX pass (depth, duplicate keys, sizes, NUL in
// keys) runs before the DOM is built, because nlohmann/json itself has no
// depth limit and keeps an unspecified one of duplicate keys.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace flowrepo {

using Json = nlohmann::json;

/// The process-wide nesting limit (kDefaultMaxJsonDepth unless
/// SetMaxJsonDepth changed it).
std::size_t MaxJsonDepth();

struct JsonLimits {
  std::size_t max_bytes = 64u << 20;      ///< whole document
  std::size_t max_depth = MaxJsonDepth();  ///< nesting of arrays and objects
  std::size_t max_string = 16u << 20;  ///< one string or key
};

/// Parses \a text; \a source names it in errors ("flows/a/app_definition.json").
/// Throws Error(kInvalidData) naming the source, the problem and the byte
/// offset.
Json ParseJson(std::string_view text, std::string_view source,
               const JsonLimits& limits = {});

/// The canonical form flowrepo writes: keys sorted, two-space indent, a
/// final newline. Same value, same bytes.
std::string CanonicalJson(const Json& value);

/// Returns the string at \a key of object \a j, or \a fallback.
std::string StringOr(const Json& j, std::string_view key, std::string fallback = {});

/// Whether \a key of object \a j holds boolean true; anything else (another
/// type, no such key, not an object) is false, never an exception.
bool IsTrue(const Json& j, std::string_view key);

}  // namespace flowrepo

#endif  // FLOWREPO_JSON_JSON_IO_H_
