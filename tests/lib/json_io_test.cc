#include "json/json_io.h"

#include <gtest/gtest.h>

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
  ExpectError(ErrorCode::kInvalidData, "x.json: nesting deeper than 128 levels",
              [&] { ParseJson(deep, "x.json"); });
}

TEST(JsonIoTest, RejectsTrailingGarbageAndComments) {
  EXPECT_THROW(ParseJson("{} {}", "x.json"), Error);
  EXPECT_THROW(ParseJson("{/* c */}", "x.json"), Error);
  EXPECT_THROW(ParseJson("[1,]", "x.json"), Error);
}

TEST(JsonIoTest, RejectsInvalidUtf8AndBom) {
  EXPECT_THROW(ParseJson("\"\xff\"", "x.json"), Error);
  ExpectError(ErrorCode::kInvalidData,
              "x.json: starts with a byte order mark; save it as UTF-8 without BOM",
              [] { ParseJson("\xEF\xBB\xBF{}", "x.json"); });
}

TEST(JsonIoTest, RejectsHugeNumbersAndNulInKeys) {
  EXPECT_THROW(ParseJson("[1e400]", "x.json"), Error);
  ExpectError(ErrorCode::kInvalidData, "x.json: NUL character in key",
              [] { ParseJson(R"({"a\u0000b":1})", "x.json"); });
}

TEST(JsonIoTest, RejectsOversizedStrings) {
  JsonLimits limits;
  limits.max_string = 10;
  ExpectError(ErrorCode::kInvalidData, "x.json: string longer than 10 bytes",
              [&] { ParseJson("\"" + std::string(11, 'a') + "\"", "x.json", limits); });
}

}  // namespace
}  // namespace flowrepo
