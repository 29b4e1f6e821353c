#include "json/json_io.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <random>

#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::ExpectError;

TEST(JsonIoTest, CanonicalFormSortsKeysAndEndsWithNewline) {
  Json j = ParseJson(R"({"b":1,"a":{"d":2,"c":3}})", "x.json");
  EXPECT_EQ(CanonicalJson(j), "{\n  \"a\": {\n    \"c\": 3,\n    \"d\": 2\n  },\n  \"b\": 1\n}\n");
}

TEST(JsonIoTest, RejectsDuplicateKeys) {
  ExpectError(ErrorCode::kInvalidData, "x.json: duplicate key 'id'",
              [] { ParseJson(R"({"id":"a","id":"b"})", "x.json"); });
}

TEST(JsonIoTest, RejectsDuplicateKeysDeepInside) {
  ExpectError(ErrorCode::kInvalidData, "x.json: duplicate key 'k'",
              [] { ParseJson(R"({"a":[{"k":1,"k":2}]})", "x.json"); });
}

TEST(JsonIoTest, DepthLimitIsExact) {
  JsonLimits limits;
  limits.max_depth = 4;
  EXPECT_NO_THROW(ParseJson("[[[[1]]]]", "x.json", limits));
  ExpectError(ErrorCode::kInvalidData, "x.json: nesting deeper than 4 levels",
              [&] { ParseJson("[[[[[1]]]]]", "x.json", limits); });
}

TEST(JsonIoTest, HundredThousandLevelsDoNotCrash) {
  std::string deep(100000, '[');
  ExpectError(ErrorCode::kInvalidData, "x.json: nesting deeper than 128 levels", [&] { ParseJson(deep, "x.json"); });
}

TEST(JsonIoTest, RejectsTrailingGarbageAndComments) {
  EXPECT_THROW(ParseJson("{} {}", "x.json"), Error);
  EXPECT_THROW(ParseJson("{/* c */}", "x.json"), Error);
  EXPECT_THROW(ParseJson("[1,]", "x.json"), Error);
}

TEST(JsonIoTest, RejectsInvalidUtf8AndBom) {
  EXPECT_THROW(ParseJson("\"\xff\"", "x.json"), Error);
  ExpectError(ErrorCode::kInvalidData, "x.json: starts with a byte order mark; save it as UTF-8 without BOM",
              [] { ParseJson("\xEF\xBB\xBF{}", "x.json"); });
}

TEST(JsonIoTest, RejectsHugeNumbersAndNulInKeys) {
  EXPECT_THROW(ParseJson("[1e400]", "x.json"), Error);
  ExpectError(ErrorCode::kInvalidData, "x.json: NUL character in key",
              [] { ParseJson(R"({"a\u0000b":1})", "x.json"); });
}

// Issue 14, item 12: nlohmann reads an integer beyond 64 bits as a double,
// which CanonicalJson then wrote as 1.2345678901234568e+29: a document
// changed without a word. Such numbers are refused, naming where they are.
TEST(JsonIoTest, IntegersBeyondSixtyFourBitsAreRefusedNotRewritten) {
  ExpectError(ErrorCode::kInvalidData,
              "x.json: number at /nodes/3/parameters/x does not fit in 64 bits; quote it as a string", [] {
                ParseJson(R"({"nodes": [{}, {}, {}, {"parameters": {"a": 1, "x": 123456789012345678901234567890}}]})",
                          "x.json");
              });
  ExpectError(ErrorCode::kInvalidData, "x.json: number at /0 does not fit in 64 bits; quote it as a string",
              [] { ParseJson("[-9223372036854775809]", "x.json"); });
  ExpectError(ErrorCode::kInvalidData, "x.json: number at /a~1b~0c does not fit in 64 bits; quote it as a string",
              [] { ParseJson(R"({"a/b~c": 18446744073709551616})", "x.json"); });
  ExpectError(ErrorCode::kInvalidData, "x.json: number at the top does not fit in 64 bits; quote it as a string",
              [] { ParseJson("99999999999999999999", "x.json"); });
  // The 64-bit edges are kept exactly.
  for (const char* text : {"9223372036854775807", "-9223372036854775808", "18446744073709551615"}) {
    EXPECT_EQ(CanonicalJson(ParseJson(text, "x.json")), std::string(text) + "\n");
  }
}

TEST(JsonIoTest, FloatsThatADoubleCannotKeepAreRefused) {
  const std::string more = " has more digits than a 64-bit float keeps (or is too small for one); quote it as a string";
  ExpectError(ErrorCode::kInvalidData, "x.json: number at /p" + more,
              [] { ParseJson(R"({"p": 0.1000000000000000055511151231257827})", "x.json"); });
  ExpectError(ErrorCode::kInvalidData, "x.json: number at /0" + more,
              [] { ParseJson("[1.000000000000000000001]", "x.json"); });
  ExpectError(ErrorCode::kInvalidData, "x.json: number at /0" + more, [] { ParseJson("[1e-400]", "x.json"); });
  ExpectError(ErrorCode::kInvalidData, "x.json: number at /0" + more, [] { ParseJson("[3e-324]", "x.json"); });
  ExpectError(ErrorCode::kInvalidData, "x.json: number at /0" + more,
              [] { ParseJson("[3.14159265358979323846]", "x.json"); });
  EXPECT_THROW(ParseJson("[1e400]", "x.json"), Error);  // overflow: nlohmann refuses it
  // The same double in another spelling is kept: only the form changes.
  // Up to 17 digits name a double (printf's %.17g writes 0.1 so), and the
  // writer's own form need not be the shortest.
  for (auto [text, canonical] :
       std::initializer_list<std::pair<const char*, const char*>>{{"0.1", "0.1"},
                                                                  {"1.50", "1.5"},
                                                                  {"0.10000000000000001", "0.1"},
                                                                  {"282.075050779723", "282.07505077972297"},
                                                                  {"0.125000000000000000000", "0.125"},
                                                                  {"1E2", "100.0"},
                                                                  {"-0.0", "-0.0"},
                                                                  {"0.30000000000000004", "0.30000000000000004"},
                                                                  {"5e-324", "5e-324"},
                                                                  {"1.7976931348623157e308", "1.7976931348623157e+308"},
                                                                  {"0.000001", "1e-06"},
                                                                  {"123.456e-2", "1.23456"},
                                                                  {"1.0", "1.0"}}) {
    EXPECT_EQ(CanonicalJson(ParseJson(text, "x.json")), std::string(canonical) + "\n") << text;
  }
}

TEST(JsonIoTest, RejectsOversizedStrings) {
  JsonLimits limits;
  limits.max_string = 10;
  ExpectError(ErrorCode::kInvalidData, "x.json: string longer than 10 bytes",
              [&] { ParseJson("\"" + std::string(11, 'a') + "\"", "x.json", limits); });
}

// ---- memory ----------------------------------------------------------------

std::size_t HeapInUse() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// Shapes that cost the most per byte of text, each as a long array and
// as the members of a wide object, and random documents mixing them.
std::vector<std::string> CostlyDocuments() {
  std::vector<std::string> docs;
  for (const char* item : {"0", "{}", "[]", "\"\"", "[0]", "{\"a\":0}", "\"0123456789abcdefghij\"", "null"}) {
    std::string array = "[", object = "{";
    for (int i = 0; i < 20000; ++i) {
      array += (i ? "," : "") + std::string(item);
      object += (i ? ",\"" : "\"") + std::to_string(i) + "\":" + item;
    }
    docs.push_back(array + "]");
    docs.push_back(object + "}");
  }
  std::mt19937 rng(7);
  for (int d = 0; d < 20; ++d) {
    std::string doc;
    std::vector<bool> stack;  // true: object
    std::vector<int> counts;
    auto open = [&](bool object) {
      doc += object ? "{" : "[";
      stack.push_back(object);
      counts.push_back(0);
    };
    open(rng() % 2);
    for (int steps = 0; steps < 30000 || !stack.empty(); ++steps) {
      if (stack.empty()) break;
      const bool closing = steps >= 30000 || (stack.size() > 1 && rng() % 8 == 0) || stack.size() > 100;
      if (closing) {
        doc += stack.back() ? "}" : "]";
        stack.pop_back();
        counts.pop_back();
        continue;
      }
      if (counts.back()++) doc += ",";
      if (stack.back()) doc += "\"k" + std::to_string(counts.back()) + "\":";
      switch (rng() % 5) {
        case 0: open(true); break;
        case 1: open(false); break;
        case 2: doc += "\"" + std::string(rng() % 40, 's') + "\""; break;
        default: doc += std::to_string(rng() % 1000); break;
      }
    }
    docs.push_back(doc);
  }
  return docs;
}

TEST(JsonIoTest, ParsedSizeEstimateBoundsTheRealMemory) {
  for (const std::string& doc : CostlyDocuments()) {
    SCOPED_TRACE(doc.substr(0, 40));
    JsonMemory memory(SIZE_MAX);
    JsonLimits limits;
    limits.memory = &memory;
    const std::size_t before = HeapInUse();
    Json parsed = ParseJson(doc, "x.json", limits);
    const std::size_t real = HeapInUse() - before;
    EXPECT_GE(memory.used(), real) << "the estimate is below what was allocated";
    EXPECT_LE(memory.used(), MaxParsedBytes(doc.size()));
    EXPECT_LE(memory.used(), 3 * real + 8192) << "the estimate is far above what was allocated";
  }
}

TEST(JsonIoTest, DocumentsBeyondTheirMemoryAreRefused) {
  std::string doc = "[";
  for (int i = 0; i < 100000; ++i) doc += i ? ",{}" : "{}";
  doc += "]";
  JsonMemory memory(1u << 20);
  JsonLimits limits;
  limits.memory = &memory;
  ExpectError(ErrorCode::kInvalidData, "x.json: needs more than 1048576 bytes of memory to read (the limit)",
              [&] { ParseJson(doc, "x.json", limits); });
  EXPECT_EQ(memory.used(), 0u);  // a refused document keeps nothing
  // Documents charged to one budget share it.
  JsonMemory shared(MaxParsedBytes(doc.size()));
  limits.memory = &shared;
  EXPECT_NO_THROW(ParseJson(doc, "a.json", limits));
  EXPECT_THROW(ParseJson(doc, "b.json", limits), Error);
}

TEST(JsonIoTest, BoundedCanonicalFormIsExactOrRefused) {
  // Nested deep and minified, a document grows a hundredfold when indented.
  std::string doc(100, '[');
  for (int i = 0; i < 1000; ++i) doc += i ? ",0" : "0";
  doc += std::string(100, ']');
  Json value = ParseJson(doc, "x.json");
  const std::string canonical = CanonicalJson(value);
  EXPECT_GT(canonical.size(), 100 * doc.size());
  EXPECT_EQ(CanonicalJson(value, canonical.size()), canonical);
  EXPECT_EQ(CanonicalJson(value, canonical.size()).capacity(), canonical.size());
  ExpectError(ErrorCode::kInvalidData,
              "canonical form larger than " + std::to_string(canonical.size() - 1) + " bytes (the limit)",
              [&] { CanonicalJson(value, canonical.size() - 1); });
}

}  // namespace
}  // namespace flowrepo
