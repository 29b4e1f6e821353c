#ifndef FLOWREPO_JSON_JSON_IO_H_
#define FLOWREPO_JSON_JSON_IO_H_

// Safe JSON reading and canonical writing. Every JSON document flowrepo
// reads from a repository, a package or a user's file goes through
// ParseJson: a validating SAX pass (depth, duplicate keys, sizes, NUL in
// keys) runs before the DOM is built, because nlohmann/json itself has no
// depth limit and keeps an unspecified one of duplicate keys.

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace flowrepo {

/// Appends \a key escaped as one JSON pointer token ("a/b" -> "a~1b").
inline void AppendPointerToken(std::string& out, std::string_view key) {
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
}

/// \a key escaped as one JSON pointer token.
inline std::string PointerToken(std::string_view key) {
  std::string out;
  AppendPointerToken(out, key);
  return out;
}

using Json = nlohmann::json;

/// The process-wide nesting limit (kDefaultMaxJsonDepth unless
/// SetMaxJsonDepth changed it).
std::size_t MaxJsonDepth();

/// Memory that the parsed form (the DOM) of one or more documents may take.
/// ParseJson charges each document against it as it builds the DOM, by an
/// estimate of what nlohmann/json allocates (nodes, containers and strings,
/// with a vector's growth slack, the lexer's buffer and the duplicate-key
/// sets held while an object is open) that is never below what is really
/// allocated, and refuses the document once the estimate passes what is
/// left. A budget is used by one thread at a time; what a parse charged
/// stays charged (its DOM lives on).
class JsonMemory {
 public:
  explicit JsonMemory(std::size_t bytes) : limit_(bytes) {}
  std::size_t limit() const { return limit_; }
  std::size_t used() const { return used_; }
  /// Charges \a bytes; false (nothing charged) when they do not fit.
  bool Charge(std::size_t bytes);
  void Release(std::size_t bytes) { used_ -= bytes < used_ ? bytes : used_; }

 private:
  std::size_t limit_;
  std::size_t used_ = 0;
};

/// The most JsonMemory a document of \a text_bytes can be charged: what a
/// budget must hold so that no document of that size is refused for memory.
std::size_t MaxParsedBytes(std::size_t text_bytes);

struct JsonLimits {
  std::size_t max_bytes = 64u << 20;       ///< whole document
  std::size_t max_depth = MaxJsonDepth();  ///< nesting of arrays and objects
  std::size_t max_string = 16u << 20;      ///< one string or key
  /// Set: the parsed form is charged to this budget and refused ("needs
  /// more than N bytes of memory to read (the limit)") beyond it; it must
  /// outlive the parse. Unset: no memory bound.
  JsonMemory* memory = nullptr;
};

/// Parses \a text; \a source names it in errors ("flows/a/app_definition.json").
/// Throws Error(kInvalidData) naming the source, the problem and the byte
/// offset.
Json ParseJson(std::string_view text, std::string_view source, const JsonLimits& limits = {});

/// The canonical form flowrepo writes: keys sorted, two-space indent, a
/// final newline. Same value, same bytes.
std::string CanonicalJson(const Json& value);
/// The same, refusing (kInvalidData, "canonical form larger than N bytes
/// (the limit)") a form longer than \a max_bytes before writing any of it:
/// a small document can grow a hundredfold when indented. \a admit, when
/// given, is told the size before anything is allocated and may throw to
/// refuse it. The result has no spare capacity.
std::string CanonicalJson(const Json& value, std::size_t max_bytes,
                          const std::function<void(std::size_t size)>& admit = {});

/// Returns the string at \a key of object \a j, or \a fallback.
std::string StringOr(const Json& j, std::string_view key, std::string fallback = {});

/// Whether \a key of object \a j holds boolean true; anything else (another
/// type, no such key, not an object) is false, never an exception.
bool IsTrue(const Json& j, std::string_view key);

}  // namespace flowrepo

#endif  // FLOWREPO_JSON_JSON_IO_H_
