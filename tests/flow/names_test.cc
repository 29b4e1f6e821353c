#include "flow/names.h"

#include <gtest/gtest.h>

#include "flowrepo/flow.h"
#include "package/manifest.h"
#include "repo/layout.h"

namespace flowrepo {
namespace {

// UTF-8 of one code point.
std::string Utf8(char32_t c) {
  std::string out;
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
  return out;
}

std::string Hex(char32_t c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(c));
  return buf;
}

// Issue 14, item 11: names made of these were accepted (while LRM, RLM
// and ZWJ were refused): soft hyphen, Hangul fillers, tag characters, the
// emoji variation selector, the Mongolian vowel separator, the combining
// grapheme joiner, a Khmer inherent vowel, the Arabic letter mark.
const char32_t kInvisible[] = {0x00AD, 0x3164, 0x115F, 0xFFA0, 0xE0001, 0xE0020, 0xE0041, 0xE007F, 0xFE0F, 0x180E,
                               0x034F, 0x17B4, 0x061C,
                               // refused before, by one copy of the check or another
                               0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202E, 0x2060, 0x2066, 0x2069, 0xFEFF,
                               // and more of the same kinds
                               0x1160, 0xFE00, 0xE0100, 0x2065, 0x1D173, 0xFFF0};

TEST(NamesTest, InvisibleAndDirectionChangingCharactersAreRefusedEverywhere) {
  for (char32_t c : kInvisible) {
    const std::string why = "has an invisible or direction-changing character (" + Hex(c) + ")";
    for (const std::string& name : {Utf8(c), "Pay" + Utf8(c) + "roll", Utf8(c) + Utf8(c) + Utf8(c)}) {
      EXPECT_EQ(CharacterProblem(name), why) << Hex(c);
      EXPECT_EQ(DisplayNameProblem(name), why) << Hex(c);
      EXPECT_EQ(GroupProblem("Finance/" + name), why) << Hex(c);
      EXPECT_FALSE(IsValidGroup(name)) << Hex(c);
    }
  }
}

TEST(NamesTest, ControlCharactersAndBrokenUtf8AreRefused) {
  EXPECT_EQ(DisplayNameProblem("a\x07"
                               "b"),
            "has a control character (U+0007)");
  EXPECT_EQ(DisplayNameProblem("a\x7f"), "has a control character (U+007F)");
  EXPECT_EQ(DisplayNameProblem("a\xc2\x85"), "has a control character (U+0085)");
  EXPECT_EQ(GroupProblem("Ops/a\xc2\x9b"), "has a control character (U+009B)");
  EXPECT_EQ(DisplayNameProblem("a\xff"), "is not valid UTF-8");
  EXPECT_EQ(GroupProblem("Oper\xed\xa0\x80"), "is not valid UTF-8");  // a surrogate
  EXPECT_EQ(GroupProblem("\xc0\xaf"), "is not valid UTF-8");          // overlong '/'
}

TEST(NamesTest, VisibleTextOfAnyScriptIsAllowed) {
  for (const std::string name : {"Banking Assistant", "Café", "Zürich Ops", "財務", "مالية", "עברית", "Финансы",
                                 "❤ Support", "🚀 Launch", "नमस्ते", "K"}) {
    EXPECT_EQ(DisplayNameProblem(name), "") << name;
    EXPECT_EQ(GroupProblem("Teams/" + name), "") << name;
  }
  // Emoji sequences lose their joiners and variation selectors: one rule.
  EXPECT_NE(DisplayNameProblem("👩‍💻 Devs"), "");
  EXPECT_NE(DisplayNameProblem("❤️ Support"), "");
}

TEST(NamesTest, NamesOfOnlyWhiteSpaceAreRefused) {
  EXPECT_EQ(DisplayNameProblem(" "), "has no visible character");
  EXPECT_EQ(DisplayNameProblem("\u3000\u3000"), "has no visible character");
  EXPECT_EQ(GroupProblem("\u3000"), "has a part with no visible character");
}

TEST(NamesTest, GroupPathRules) {
  EXPECT_EQ(GroupProblem(""), "");
  EXPECT_EQ(GroupProblem("Finance/Retail"), "");
  EXPECT_EQ(GroupProblem("a//b"), "has an empty part");
  EXPECT_EQ(GroupProblem("a/.."), "has a '..' part");
  EXPECT_EQ(GroupProblem(".git"), "has a part starting with a dot");
  EXPECT_EQ(GroupProblem("Ops."), "has a part ending in a dot or space");
  EXPECT_EQ(GroupProblem("C:evil"), "has a ':'");
  EXPECT_EQ(GroupProblem("Ops/CON"), "has a Windows device name");
  EXPECT_EQ(GroupProblem("Ops/nul.json"), "has a Windows device name");
  EXPECT_EQ(GroupProblem("GIT~1"), "has a part that names .git on Windows");
  EXPECT_EQ(GroupProblem(std::string(101, 'a')), "has a part longer than 100 bytes");
}

// Issue 14, item 10: one depth, the one a package can hold.
TEST(NamesTest, GroupDepthLimitIsThePackageLimit) {
  std::string group = "g";
  for (std::size_t i = 1; i < kMaxGroupDepth; ++i) group += "/g";
  EXPECT_EQ(GroupProblem(group), "");
  EXPECT_EQ(GroupProblem(group + "/g"), "is deeper than 29 levels (the most a package can hold)");
  PackageLimits limits;
  std::string why;
  EXPECT_TRUE(ParseEntryName("flows/" + group + "/x/app_definition.json", limits, why)) << why;
  EXPECT_FALSE(ParseEntryName("flows/" + group + "/g/x/app_definition.json", limits, why));
  EXPECT_EQ(why, "entry name is deeper than 32 folders (groups at most 29 deep)");
}

TEST(NamesTest, WithoutHiddenCharactersKeepsTheVisibleText) {
  EXPECT_EQ(WithoutHiddenCharacters("Pay\u00adroll\u200d \u202eReport\u2069\u3164"), "Payroll Report");
  EXPECT_EQ(WithoutHiddenCharacters("a\n\tb"), "a b");
  EXPECT_EQ(WithoutHiddenCharacters("a\xff"
                                    "b"),
            "ab");
}

// Issue 14, item 11: Finance/finance, café NFC/NFD and K/Kelvin sign.
TEST(NamesTest, ClashKeysJoinCaseNormalisationAndLookAlikes) {
  EXPECT_EQ(ClashKey("Finance"), ClashKey("finance"));
  EXPECT_EQ(ClashKey("caf\u00e9"), ClashKey("cafe\u0301"));
  EXPECT_EQ(ClashKey("K"), ClashKey("\u212a"));
  EXPECT_EQ(ClashKey("Pay"), ClashKey("P\u0430y"));  // Cyrillic a
  EXPECT_EQ(ClashKey("STRASSE"), ClashKey("stra\u00dfe"));
  EXPECT_EQ(ClashKey("Ops"), ClashKey("0ps"));       // skeleton "O", folded
  EXPECT_EQ(ClashKey("Modern"), ClashKey("Modem"));  // "rn" and "m"
  EXPECT_NE(ClashKey("Finance"), ClashKey("Finances"));
  EXPECT_NE(ClashKey("cafe"), ClashKey("caf\u00e9"));
  EXPECT_NE(ClashKey("Retail"), ClashKey("Wholesale"));
}

TEST(NamesTest, ClashesAreFoundAmongSiblingsOnly) {
  auto clashes = FindNameClashes({}, {{"Finance", "a"}, {"finance", "b"}, {"Ops/Finance", "c"}});
  ASSERT_EQ(clashes.size(), 1u);
  EXPECT_EQ(clashes[0].path, "finance");
  EXPECT_EQ(clashes[0].other, "Finance");
  EXPECT_EQ(clashes[0].Message(),
            "group 'finance' clashes with group 'Finance': names in one folder may not differ only in case, "
            "Unicode normalisation or look-alike characters");
  // Nested: the clash is in Ops, not at the top.
  clashes = FindNameClashes({}, {{"Ops/caf\u00e9", "a"}, {"Ops/cafe\u0301/x", "b"}});
  ASSERT_EQ(clashes.size(), 1u);
  EXPECT_EQ(clashes[0].path, "Ops/caf\u00e9");
  EXPECT_EQ(clashes[0].other, "Ops/cafe\u0301");
  // A group and a flow folder of one folder clash; two flow folders never do.
  clashes = FindNameClashes({}, {{"", "banking"}, {"Banking", "x"}, {"", "m0dern"}, {"", "modern"}});
  ASSERT_EQ(clashes.size(), 1u);
  EXPECT_EQ(clashes[0].Message().rfind("flow folder 'banking' clashes with group 'Banking': ", 0), 0u)
      << clashes[0].Message();
}

TEST(NamesTest, OnlyNewEntriesAreReported) {
  std::vector<FlowPlace> before = {{"Finance", "a"}, {"finance", "b"}};
  // The old clash is not the write's doing.
  EXPECT_TRUE(FindNameClashes(before, {{"Finance", "a"}, {"finance", "b"}, {"Finance", "c"}}).empty());
  // A new look-alike is.
  auto clashes = FindNameClashes(before, {{"Finance", "a"}, {"finance", "b"}, {"FINANCE", "d"}});
  ASSERT_EQ(clashes.size(), 2u);
  EXPECT_EQ(clashes[0].path, "FINANCE");
  // Renaming a group by moving all its flows is no clash.
  EXPECT_TRUE(FindNameClashes({{"finance", "a"}}, {{"Finance", "a"}}).empty());
}

}  // namespace
}  // namespace flowrepo

namespace flowrepo {
namespace {

TEST(NamesTest, ClosestNameIsAHintOnlyWhenClose) {
  const std::vector<std::string> groups = {"Finance", "Finance/Retail", "HR", "Operations"};
  EXPECT_EQ(ClosestName("Finanse", groups), "Finance");
  EXPECT_EQ(ClosestName("finance/retail", groups), "Finance/Retail");  // case alone
  EXPECT_EQ(ClosestName("Operatons", groups), "Operations");
  EXPECT_EQ(ClosestName("Hr", groups), "HR");
  EXPECT_EQ(ClosestName("XY", groups), "");  // two edits, but that is all of it
  EXPECT_EQ(ClosestName("Marketing", groups), "");
  EXPECT_EQ(ClosestName("", groups), "");
}

// A write is checked against the folders it passes through only; the
// clashes it makes there are found whatever else the repository holds.
TEST(NamesTest, AWriteFindsItsClashesAmongThousandsOfFlows) {
  std::map<std::string, FlowLocation> existing;
  auto add = [&](const std::string& id, const std::string& group) {
    existing[id] = {id, group, "flows/" + group + "/" + id, git_oid{}};
  };
  for (int i = 0; i < 3000; ++i) add("f" + std::to_string(i), "Finance/Retail/EU" + std::to_string(i % 7));
  add("alerts", "Ops");
  add("reports", "Ops");            // a flow folder directly in Ops
  add("old-a", "Legal/Contracts");  // an older clash, elsewhere
  add("old-b", "Legal/contracts");
  auto write = [](const std::string& id, const std::string& group) {
    FlowSummary f;
    f.id = id;
    f.group = group;
    return f;
  };
  auto paths = [](const std::vector<NameClash>& clashes) {
    std::vector<std::string> out;
    for (const auto& c : clashes) out.push_back(c.path + " ~ " + c.other);
    return out;
  };
  EXPECT_EQ(paths(ClashesOfWrite(existing, {write("n1", "finance")})), (std::vector<std::string>{"finance ~ Finance"}));
  EXPECT_EQ(paths(ClashesOfWrite(existing, {write("n2", "Ops/Reports")})),
            (std::vector<std::string>{"Ops/Reports ~ Ops/reports"}));
  EXPECT_EQ(paths(ClashesOfWrite(existing, {write("n3", "Finance/Retail/eu3")})),
            (std::vector<std::string>{"Finance/Retail/eu3 ~ Finance/Retail/EU3"}));
  EXPECT_TRUE(ClashesOfWrite(existing, {write("n4", "Finance/Retail/EU3")}).empty());
  EXPECT_TRUE(ClashesOfWrite(existing, {write("old-a", "Legal/Contracts")}).empty());  // not this write's doing
  // Moving the only flow of a group away and back is no clash either.
  EXPECT_TRUE(ClashesOfWrite(existing, {write("reports", "Ops")}).empty());
}

}  // namespace
}  // namespace flowrepo
