#include "json/json_io.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <memory>
#include <unordered_set>
#include <vector>

#include "escape.h"
#include "flowrepo/error.h"
#include "flowrepo/validation.h"

namespace flowrepo {
namespace {

enum class Bytes { kKeepUtf8, kEscapeNonAscii };

// \a text for a one-line message: control characters (and with
// kEscapeNonAscii every byte above 0x7f) as \xNN, cut after \a max bytes
// without splitting a UTF-8 sequence.
std::string Quotable(std::string_view text, std::size_t max, Bytes bytes) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (c < 0x20 || c == 0x7f ||
        (c >= 0x80 && (bytes == Bytes::kEscapeNonAscii || len == 1 || i + len > text.size()))) {
      AppendHexEscaped(out, c);
      ++i;
      continue;
    }
    out.append(text.substr(i, len));
    i += len;
  }
  return out;
}

// A decimal number's value in one form: sign, significant digits without
// leading or trailing zeros, and the power of ten of the last digit
// ("-1.50e2" -> {true, "15", 1}; zero -> {sign, "", 0}).
struct Decimal {
  bool negative = false;
  std::string digits;
  long long exponent = 0;
  bool operator==(const Decimal&) const = default;
};

// \a text is a JSON number (the lexer has checked its form).
Decimal ParseDecimal(std::string_view text) {
  Decimal d;
  std::size_t i = 0;
  if (i < text.size() && text[i] == '-') {
    d.negative = true;
    ++i;
  }
  long long fraction_digits = 0;
  bool in_fraction = false;
  for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
    if (text[i] == '.') {
      in_fraction = true;
      continue;
    }
    if (in_fraction) ++fraction_digits;
    if (text[i] == '0' && d.digits.empty()) continue;  // a leading zero
    d.digits += text[i];
  }
  long long exponent = 0;
  if (i < text.size()) {
    ++i;
    bool negative = i < text.size() && text[i] == '-';
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    for (; i < text.size(); ++i) {
      exponent = std::min<long long>(exponent * 10 + (text[i] - '0'), 1'000'000'000'000LL);  // saturates
    }
    if (negative) exponent = -exponent;
  }
  // Leading zeros of the fraction were skipped: they only move the point.
  d.exponent = exponent - fraction_digits;
  while (!d.digits.empty() && d.digits.back() == '0') {
    d.digits.pop_back();
    ++d.exponent;
  }
  if (d.digits.empty()) d.exponent = 0;
  return d;
}

// Whether the double \a value keeps the number the text \a lexeme it was
// read from says. A number with a fraction or an exponent is a 64-bit
// float: any text that reads as the same double is the same number (the
// canonical form writes it anew, as JavaScript reads it), and 17
// significant digits always suffice to name one. The text says more than
// the double keeps when it has more digits than that
// (0.1000000000000000055511151231257827), when it is not zero but reads as
// zero (1e-400), or when it reads as a subnormal double, which holds fewer
// digits, and differs from that double's shortest text (3e-324 reads as
// 5e-324).
bool KeepsItsValue(double value, std::string_view lexeme) {
  constexpr std::size_t kDoubleDigits = 17;
  const Decimal written = ParseDecimal(lexeme);
  if (written.digits.size() > kDoubleDigits) return false;
  if (written.digits.empty()) return true;  // a zero
  if (value == 0) return false;
  if (std::fpclassify(value) != FP_SUBNORMAL) return true;
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc() && ParseDecimal(std::string_view(buf, static_cast<std::size_t>(end - buf))) == written;
}

// What nlohmann/json allocates for a DOM (libstdc++, 64-bit glibc malloc:
// chunks are the request plus 8, rounded up to 16, at least 32). Measured
// per shape in JsonIoTest.ParsedSizeEstimateBoundsTheRealMemory.
namespace cost {
// An element of an array: 16 bytes, up to 16 more of capacity left by the
// vector's doubling, and 16 more while it reallocates.
constexpr std::size_t kArrayElement = 48;
constexpr std::size_t kObject = 64;       // the std::map
constexpr std::size_t kArray = 32;        // the std::vector
constexpr std::size_t kString = 48;       // the std::string a string value points to
constexpr std::size_t kMember = 96;       // a map node: links, key and value
constexpr std::size_t kKeySetEntry = 72;  // the duplicate-key set's node and bucket, while the object is open
constexpr std::size_t kDocument = 4096;   // the parser's own state
// Opening a level costs up to 400 bytes for the 7 bytes it may take
// ("[{"a":" ... "}]"): deep nesting is paid for by the depth, not the text.
constexpr std::size_t kPerLevel = 512;
// Text longer than the short-string buffer: its own chunk.
constexpr std::size_t Heap(std::size_t n) { return n > 15 ? (n + 1 + 8 + 15) / 16 * 16 : 0; }
// No JSON text costs more than this per byte (the worst is an array of
// empty objects, "{}," for 48 + 64 = 112 bytes: under 40 per byte).
constexpr std::size_t kPerTextByte = 40;
}  // namespace cost

// Builds the DOM in the same pass that validates it (depth, duplicate keys,
// sizes, NUL in keys, memory), stopping at the first problem: one lexing
// pass, and nothing deeper or larger than the limits is ever built.
class ValidatingSax : public nlohmann::json_sax<Json> {
 public:
  ValidatingSax(const JsonLimits& limits, Json& result) : limits_(limits), dom_(result, true) {}

  bool null() override { return Value(0) && dom_.null(); }
  bool boolean(bool b) override { return Value(0) && dom_.boolean(b); }
  bool number_integer(number_integer_t n) override { return Value(0) && dom_.number_integer(n); }
  bool number_unsigned(number_unsigned_t n) override { return Value(0) && dom_.number_unsigned(n); }
  // A number that cannot be kept as it is written is refused, never
  // rewritten: nlohmann reads an integer beyond 64 bits as a double
  // (123456789012345678901234567890 would be written back as
  // 1.2345678901234568e+29), and a double keeps about 17 digits.
  bool number_float(number_float_t n, const string_t& s) override {
    if (!Value(0)) return false;
    if (s.find_first_of(".eE") == std::string::npos) {
      return Fail("number at " + Pointer() + " does not fit in 64 bits; quote it as a string");
    }
    if (!KeepsItsValue(n, s)) {
      return Fail("number at " + Pointer() +
                  " has more digits than a 64-bit float keeps (or is too small for one); quote it as a "
                  "string");
    }
    return dom_.number_float(n, s);
  }
  // The stored copy, and the lexer's buffer that held it (as long again).
  bool string(string_t& s) override {
    return CheckString(s, "string") && Value(cost::kString + 2 * cost::Heap(s.size())) && dom_.string(s);
  }
  bool binary(binary_t&) override { return Fail("binary values are not JSON"); }

  bool start_object(std::size_t n) override {
    if (!Enter() || !Value(cost::kObject)) return false;
    keys_.emplace_back();
    open_.push_back({true, 0, nullptr, 0});
    return dom_.start_object(n);
  }
  bool key(string_t& k) override {
    if (!CheckString(k, "key")) return false;
    if (k.find('\0') != std::string::npos) return Fail("NUL character in key");
    const std::size_t in_set = cost::kKeySetEntry + cost::Heap(k.size());
    if (!Charge(cost::kMember + 2 * cost::Heap(k.size()) + in_set)) return false;
    open_.back().key_sets += in_set;
    auto [it, fresh] = keys_.back().insert(k);
    if (!fresh) return Fail("duplicate key '" + Printable(k) + "'");
    open_.back().key = &*it;  // a set's elements stay where they are
    return dom_.key(k);
  }
  bool end_object() override {
    keys_.pop_back();
    Release(open_.back().key_sets);
    open_.pop_back();
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) override {
    if (!Enter() || !Value(cost::kArray)) return false;
    open_.push_back({false, 0, nullptr, 0});
    return dom_.start_array(n);
  }
  bool end_array() override {
    open_.pop_back();
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
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
  /// Charges what the parser needs before the first value.
  bool Start() { return Charge(cost::kDocument); }
  /// Gives back everything this parse charged.
  void ReleaseAll() { Release(charged_); }

 private:
  struct Open {
    bool object;
    std::size_t key_sets;    ///< charged for this object's duplicate-key set
    const std::string* key;  ///< an object's current key (in keys_)
    std::size_t elements;    ///< an array's elements so far
  };
  // A value costs \a own, plus its slot when it is an array's element (an
  // object member's slot was charged with its key; the document's with
  // the document).
  bool Value(std::size_t own) {
    const bool element = !open_.empty() && !open_.back().object;
    if (element) ++open_.back().elements;
    return Charge(own + (element ? cost::kArrayElement : 0));
  }
  // The JSON pointer (RFC 6901) of the value just begun, keys made safe
  // for a one-line message; "the top" for the document itself.
  std::string Pointer() const {
    std::string out;
    for (const Open& level : open_) {
      out += '/';
      if (!level.object) {
        out += std::to_string(level.elements - 1);
        continue;
      }
      out += PointerToken(Printable(level.key ? *level.key : std::string()));
    }
    return out.empty() ? "the top" : out;
  }
  bool Charge(std::size_t bytes) {
    if (!limits_.memory || limits_.memory->Charge(bytes)) {
      charged_ += bytes;
      return true;
    }
    return Fail("needs more than " + std::to_string(limits_.memory->limit()) + " bytes of memory to read (the limit)");
  }
  void Release(std::size_t bytes) {
    if (limits_.memory) limits_.memory->Release(bytes);
    charged_ -= bytes;
  }
  bool Enter() {
    if (++depth_ > limits_.max_depth) {
      return Fail("nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    return true;
  }
  bool CheckString(const std::string& s, const char* what) {
    if (s.size() > limits_.max_string) {
      return Fail(std::string(what) + " longer than " + std::to_string(limits_.max_string) + " bytes");
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
  std::vector<Open> open_;
  std::size_t charged_ = 0;
  std::string problem_;
  std::size_t position_ = 0;
};

std::atomic<std::size_t> g_max_depth{kDefaultMaxJsonDepth};

}  // namespace

bool JsonMemory::Charge(std::size_t bytes) {
  if (bytes > limit_ - used_) return false;
  used_ += bytes;
  return true;
}

std::size_t MaxParsedBytes(std::size_t text_bytes) {
  const std::size_t fixed = cost::kDocument + cost::kPerLevel * std::min<std::size_t>(MaxJsonDepth(), 1u << 20);
  if (text_bytes > (SIZE_MAX - fixed) / cost::kPerTextByte) return SIZE_MAX;
  return fixed + cost::kPerTextByte * text_bytes;
}

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
  // A refused document's DOM is freed with it, and so is its charge.
  auto refuse = [&](const std::string& problem) {
    sax.ReleaseAll();
    return fail(problem);
  };
  bool ok = sax.Start();
  if (!ok) throw refuse(sax.problem());
  try {
    ok = Json::sax_parse(text.begin(), text.end(), &sax, nlohmann::json::input_format_t::json,
                         /*strict=*/true, /*ignore_comments=*/false);
  } catch (const nlohmann::json::exception& e) {
    throw refuse(e.what());
  }
  if (!ok) throw refuse(sax.problem().empty() ? "invalid JSON" : sax.problem());
  return result;
}

namespace {

// Output for nlohmann's serializer: counts, refusing past a limit.
class CountingOutput : public nlohmann::detail::output_adapter_protocol<char> {
 public:
  explicit CountingOutput(std::size_t max) : max_(max) {}
  void write_character(char) override { Add(1); }
  void write_characters(const char*, std::size_t n) override { Add(n); }
  std::size_t count() const { return count_; }

 private:
  void Add(std::size_t n) {
    count_ += n;
    if (count_ > max_) {
      throw Error(ErrorCode::kInvalidData,
                  "canonical form larger than " + std::to_string(max_ + 1) + " bytes (the limit)");
    }
  }
  std::size_t count_ = 0, max_;
};

// Output for nlohmann's serializer: appends to a string reserved ahead.
class StringOutput : public nlohmann::detail::output_adapter_protocol<char> {
 public:
  explicit StringOutput(std::string& out) : out_(out) {}
  void write_character(char c) override { out_ += c; }
  void write_characters(const char* s, std::size_t n) override { out_.append(s, n); }

 private:
  std::string& out_;
};

void Serialize(const Json& value, std::shared_ptr<nlohmann::detail::output_adapter_protocol<char>> out) {
  nlohmann::detail::serializer<Json> serializer(std::move(out), ' ', Json::error_handler_t::strict);
  serializer.dump(value, /*pretty_print=*/true, /*ensure_ascii=*/false, /*indent_step=*/2);
}

}  // namespace

std::string CanonicalJson(const Json& value, std::size_t max_bytes, const std::function<void(std::size_t)>& admit) {
  if (max_bytes == 0) throw Error(ErrorCode::kInvalidData, "canonical form larger than 0 bytes (the limit)");
  try {
    auto counter = std::make_shared<CountingOutput>(max_bytes - 1);  // one byte for the newline
    Serialize(value, counter);
    if (admit) admit(counter->count() + 1);
    std::string out;
    out.reserve(counter->count() + 1);
    Serialize(value, std::make_shared<StringOutput>(out));
    out += '\n';
    return out;
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::kInvalidData, std::string("cannot write JSON: ") + e.what());
  }
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
