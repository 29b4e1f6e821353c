#include "json/json_io.h"

#include <atomic>
#include <unordered_set>
#include <vector>

#include "flowrepo/error.h"
#include "flowrepo/validation.h"

namespace flowrepo {
namespace {

enum class Bytes { kKeepUtf8, kEscapeNonAscii };

// \a text for a one-line message: control characters (and with
// kEscapeNonAscii every byte above 0x7f) as \xNN, cut after \a max bytes
// without splitting a UTF-8 sequence.
std::string Quotable(std::string_view text, std::size_t max, Bytes bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && (bytes == Bytes::kEscapeNonAscii || len == 1 ||
                                                i + len > text.size()))) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
      ++i;
      continue;
    }
    out.append(text.substr(i, len));
    i += len;
  }
  return out;
}

// Builds the DOM in the same pass that validates it (depth, duplicate keys,
// sizes, NUL in keys), stopping at the first problem: one lexing pass, and
// nothing deeper than the limit is ever built.
class ValidatingSax : public nlohmann::json_sax<Json> {
 public:
  ValidatingSax(const JsonLimits& limits, Json& result) : limits_(limits), dom_(result, true) {}

  bool null() override { return dom_.null(); }
  bool boolean(bool b) override { return dom_.boolean(b); }
  bool number_integer(number_integer_t n) override { return dom_.number_integer(n); }
  bool number_unsigned(number_unsigned_t n) override { return dom_.number_unsigned(n); }
  bool number_float(number_float_t n, const string_t& s) override { return dom_.number_float(n, s); }
  bool string(string_t& s) override { return CheckString(s, "string") && dom_.string(s); }
  bool binary(binary_t&) override { return Fail("binary values are not JSON"); }

  bool start_object(std::size_t n) override {
    keys_.emplace_back();
    return Enter() && dom_.start_object(n);
  }
  bool key(string_t& k) override {
    if (!CheckString(k, "key")) return false;
    if (k.find('\0') != std::string::npos) return Fail("NUL character in key");
    if (!keys_.back().insert(k).second) return Fail("duplicate key '" + Printable(k) + "'");
    return dom_.key(k);
  }
  bool end_object() override {
    keys_.pop_back();
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) override { return Enter() && dom_.start_array(n); }
  bool end_array() override {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    position_ = position;
    std::string what = ex.what();
    // nlohmann messages look like "[json.exception.parse_error.101] parse
    // error at line 1, column 2: syntax error ...": keep the readable tail.
    // The tail quotes the input ("last read: '...'"), which may be huge or
    // not UTF-8: it is cut and its bytes escaped.
    auto colon = what.find(": ");
    if (colon != std::string::npos) {
      what = what.substr(colon + 2);
    } else if (what.rfind("[json.exception.", 0) == 0 && what.find("] ") != std::string::npos) {
      what = what.substr(what.find("] ") + 2);  // "[json.exception.out_of_range.406] number ..."
    }
    problem_ = Quotable(what, 200, Bytes::kEscapeNonAscii);
    return false;
  }

  const std::string& problem() const { return problem_; }
  std::size_t position() const { return position_; }
  void set_position(std::size_t p) { position_ = p; }

 private:
  bool Enter() {
    if (++depth_ > limits_.max_depth) {
      return Fail("nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    return true;
  }
  bool CheckString(const std::string& s, const char* what) {
    if (s.size() > limits_.max_string) {
      return Fail(std::string(what) + " longer than " + std::to_string(limits_.max_string) +
                  " bytes");
    }
    return true;
  }
  bool Fail(std::string problem) {
    problem_ = std::move(problem);
    return false;
  }
  static std::string Printable(const std::string& s) { return Quotable(s, 64, Bytes::kKeepUtf8); }

  const JsonLimits& limits_;
  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  std::size_t depth_ = 0;
  std::vector<std::unordered_set<std::string>> keys_;
  std::string problem_;
  std::size_t position_ = 0;
};

std::atomic<std::size_t> g_max_depth{kDefaultMaxJsonDepth};

}  // namespace

std::size_t MaxJsonDepth() { return g_max_depth.load(std::memory_order_relaxed); }

void SetMaxJsonDepth(std::size_t depth) { g_max_depth.store(depth, std::memory_order_relaxed); }

Json ParseJson(std::string_view text, std::string_view source, const JsonLimits& limits) {
  auto fail = [&](const std::string& problem) {
    return Error(ErrorCode::kInvalidData, std::string(source) + ": " + problem);
  };
  if (text.size() > limits.max_bytes) {
    throw fail("larger than " + std::to_string(limits.max_bytes) + " bytes");
  }
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") {
    throw fail("starts with a byte order mark; save it as UTF-8 without BOM");
  }
  Json result;
  ValidatingSax sax(limits, result);
  bool ok = false;
  try {
    ok = Json::sax_parse(text.begin(), text.end(), &sax, nlohmann::json::input_format_t::json,
                         /*strict=*/true, /*ignore_comments=*/false);
  } catch (const nlohmann::json::exception& e) {
    throw fail(e.what());
  }
  if (!ok) {
    std::string problem = sax.problem().empty() ? "invalid JSON" : sax.problem();
    throw fail(problem);
  }
  return result;
}

std::string CanonicalJson(const Json& value) {
  try {
    return value.dump(2, ' ', false, Json::error_handler_t::strict) + "\n";
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::kInvalidData, std::string("cannot write JSON: ") + e.what());
  }
}

std::string StringOr(const Json& j, std::string_view key, std::string fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

bool IsTrue(const Json& j, std::string_view key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && *it == true;
}

}  // namespace flowrepo
