// Names: which characters a name may hold, and when two names clash.
//
// Characters are decoded with ICU's UTF-8 macros and judged by their
// Unicode properties (ICU's character database), so a newly assigned
// invisible character is refused when ICU learns of it, without a list of
// code points here to keep up to date. Clash keys are ICU's NFC
// normalisation, full case folding, the UTS #39 skeleton of
// uspoof_getSkeleton, and case folding again; ICU's C API is used throughout (no ICU C++ object
// crosses into flowrepo's code).

#include "flow/names.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#include "flowrepo/error.h"

namespace flowrepo {
namespace {

constexpr std::size_t kMaxDisplayNameBytes = 512;

// Why code point \a c may not be in a name, or nullptr.
const char* CodePointProblem(UChar32 c) {
  if (u_charType(c) == U_CONTROL_CHAR) return "has a control character";
  if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) || u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL)) {
    return "has an invisible or direction-changing character";
  }
  return nullptr;
}

std::string CodePointName(UChar32 c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(c));
  return buf;
}

// Calls \a ICU-style function \a fill(dest, capacity, status) into a
// buffer grown once if it overflowed; throws kInternal on failure.
template <typename Fill>
std::u16string IcuString(const char* what, std::size_t guess, Fill fill) {
  std::u16string out(std::max<std::size_t>(guess, 16), u'\0');
  UErrorCode status = U_ZERO_ERROR;
  int32_t n = fill(reinterpret_cast<UChar*>(out.data()), static_cast<int32_t>(out.size()), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    out.assign(static_cast<std::size_t>(n), u'\0');
    status = U_ZERO_ERROR;
    n = fill(reinterpret_cast<UChar*>(out.data()), static_cast<int32_t>(out.size()), &status);
  }
  if (U_FAILURE(status) && status != U_STRING_NOT_TERMINATED_WARNING) {
    throw Error(ErrorCode::kInternal, std::string("ICU cannot ") + what + ": " + u_errorName(status));
  }
  out.resize(static_cast<std::size_t>(n));
  return out;
}

const UChar* U(const std::u16string& s) { return reinterpret_cast<const UChar*>(s.data()); }
int32_t Len(const std::u16string& s) { return static_cast<int32_t>(s.size()); }

struct SpoofCheckerCloser {
  void operator()(USpoofChecker* p) const { uspoof_close(p); }
};

// One checker for the process: ICU documents getSkeleton as safe to call
// from many threads on one checker once it is configured.
const USpoofChecker* SpoofChecker() {
  static const std::unique_ptr<USpoofChecker, SpoofCheckerCloser> checker = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<USpoofChecker, SpoofCheckerCloser> sc(uspoof_open(&status));
    if (U_FAILURE(status)) sc.reset();
    return sc;
  }();
  if (!checker) throw Error(ErrorCode::kInternal, "ICU cannot open its confusable data (uspoof_open)");
  return checker.get();
}

}  // namespace

bool IsWindowsDeviceName(std::string_view part) {
  std::string base(part.substr(0, part.find('.')));
  while (!base.empty() && base.back() == ' ') base.pop_back();
  for (char& c : base) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (base == "con" || base == "prn" || base == "aux" || base == "nul") return true;
  return base.size() == 4 && (base.rfind("com", 0) == 0 || base.rfind("lpt", 0) == 0) && base[3] >= '0' &&
         base[3] <= '9';
}

namespace {

bool AllWhiteSpace(std::string_view text) {
  for (int32_t i = 0, n = static_cast<int32_t>(text.size()); i < n;) {
    UChar32 c;
    U8_NEXT(text.data(), i, n, c);
    if (c < 0 || !u_isUWhiteSpace(c)) return false;
  }
  return true;
}

}  // namespace

std::string CharacterProblem(std::string_view text) {
  for (int32_t i = 0, n = static_cast<int32_t>(text.size()); i < n;) {
    UChar32 c;
    U8_NEXT(text.data(), i, n, c);
    if (c < 0) return "is not valid UTF-8";
    if (const char* why = CodePointProblem(c)) return std::string(why) + " (" + CodePointName(c) + ")";
  }
  return {};
}

std::string DisplayNameProblem(std::string_view name) {
  if (name.size() > kMaxDisplayNameBytes) {
    return "is longer than " + std::to_string(kMaxDisplayNameBytes) + " bytes";
  }
  if (std::string why = CharacterProblem(name); !why.empty()) return why;
  if (AllWhiteSpace(name)) return "has no visible character";
  return {};
}

std::string PathPartProblem(std::string_view part) {
  if (part.empty()) return "has an empty part";
  if (part == "." || part == "..") return "has a '" + std::string(part) + "' part";
  if (part[0] == '.') return "has a part starting with a dot";
  if (part.back() == '.' || part.back() == ' ') return "has a part ending in a dot or space";
  std::string folded(part);
  for (char& c : folded) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (folded == "git~1") return "has a part that names .git on Windows";
  if (IsWindowsDeviceName(part)) return "has a Windows device name";
  if (std::string why = CharacterProblem(part); !why.empty()) return why;
  if (AllWhiteSpace(part)) return "has a part with no visible character";
  return {};
}

std::string WithoutHiddenCharacters(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (int32_t i = 0, n = static_cast<int32_t>(text.size()); i < n;) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(text.data(), i, n, c);
    if (c < 0) continue;
    if (u_charType(c) == U_CONTROL_CHAR) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    if (CodePointProblem(c)) continue;
    out.append(text.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(i - start)));
  }
  return out;
}

std::string ClashKey(std::string_view text) {
  std::u16string utf16 = IcuString("decode UTF-8", text.size(), [&](UChar* d, int32_t cap, UErrorCode* s) {
    int32_t n = 0;
    u_strFromUTF8WithSub(d, cap, &n, text.data(), static_cast<int32_t>(text.size()), 0xFFFD, nullptr, s);
    return n;
  });
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* nfc = unorm2_getNFCInstance(&status);
  if (U_FAILURE(status)) throw Error(ErrorCode::kInternal, std::string("ICU cannot load NFC: ") + u_errorName(status));
  std::u16string normal = IcuString("normalise", utf16.size() + 8, [&](UChar* d, int32_t cap, UErrorCode* s) {
    return unorm2_normalize(nfc, U(utf16), Len(utf16), d, cap, s);
  });
  std::u16string folded = IcuString("fold case", normal.size() + 8, [&](UChar* d, int32_t cap, UErrorCode* s) {
    return u_strFoldCase(d, cap, U(normal), Len(normal), U_FOLD_CASE_DEFAULT, s);
  });
  const USpoofChecker* checker = SpoofChecker();
  std::u16string skeleton =
      IcuString("make a skeleton", folded.size() * 2 + 8, [&](UChar* d, int32_t cap, UErrorCode* s) {
        return uspoof_getSkeleton(checker, 0, U(folded), Len(folded), d, cap, s);
      });
  // Skeletons map to prototypes of either case ("0" -> "O"): folded again,
  // "0ps" meets "Ops" as "ops".
  skeleton = IcuString("fold case", skeleton.size() + 8, [&](UChar* d, int32_t cap, UErrorCode* s) {
    return u_strFoldCase(d, cap, U(skeleton), Len(skeleton), U_FOLD_CASE_DEFAULT, s);
  });
  std::string out(skeleton.size() * 3, '\0');
  status = U_ZERO_ERROR;
  int32_t n = 0;
  u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &n, U(skeleton), Len(skeleton), &status);
  if (U_FAILURE(status) && status != U_STRING_NOT_TERMINATED_WARNING) {
    throw Error(ErrorCode::kInternal, std::string("ICU cannot encode UTF-8: ") + u_errorName(status));
  }
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string NameClash::Message() const {
  auto kind = [](bool group) { return group ? "group '" : "flow folder '"; };
  return std::string(kind(path_is_group)) + path + "' clashes with " + kind(other_is_group) + other +
         "': names in one folder may not differ only in case, Unicode normalisation or look-alike characters";
}

std::vector<NameClash> FindNameClashes(const std::vector<FlowPlace>& before, const std::vector<FlowPlace>& after) {
  // parent -> name -> is a group, for the entries after; every entry of
  // before by its path (groups with a trailing '/', to keep them apart
  // from flow folders).
  std::map<std::string, std::map<std::string, bool>> folders;
  std::set<std::string> old_entries;
  auto walk = [](const FlowPlace& place, auto&& visit) {
    std::string parent;
    std::size_t start = 0;
    while (!place.group.empty() && start <= place.group.size()) {
      std::size_t end = place.group.find('/', start);
      if (end == std::string::npos) end = place.group.size();
      std::string name = place.group.substr(start, end - start);
      visit(parent, name, true);
      parent = parent.empty() ? name : parent + "/" + name;
      start = end + 1;
    }
    visit(parent, place.id, false);
  };
  auto full = [](const std::string& parent, const std::string& name) {
    return parent.empty() ? name : parent + "/" + name;
  };
  for (const auto& place : before) {
    walk(place, [&](const std::string& parent, const std::string& name, bool group) {
      old_entries.insert(full(parent, name) + (group ? "/" : ""));
    });
  }
  for (const auto& place : after) {
    walk(place, [&](const std::string& parent, const std::string& name, bool group) {
      bool& is_group = folders[parent][name];
      is_group = is_group || group;
    });
  }
  std::vector<NameClash> clashes;
  for (const auto& [parent, entries] : folders) {
    bool has_group = false, has_new = false;
    for (const auto& [name, group] : entries) {
      has_group = has_group || group;
      has_new = has_new || !old_entries.count(full(parent, name) + (group ? "/" : ""));
    }
    if (!has_group || !has_new) continue;
    std::map<std::string, std::vector<std::pair<std::string, bool>>> by_key;
    for (const auto& [name, group] : entries) by_key[ClashKey(name)].emplace_back(name, group);
    for (const auto& [key, names] : by_key) {
      for (std::size_t i = 0; i < names.size(); ++i) {
        for (std::size_t j = 0; j < names.size(); ++j) {
          const auto& [a, a_group] = names[i];
          const auto& [b, b_group] = names[j];
          if (i == j || (!a_group && !b_group)) continue;
          const bool a_new = !old_entries.count(full(parent, a) + (a_group ? "/" : ""));
          const bool b_new = !old_entries.count(full(parent, b) + (b_group ? "/" : ""));
          // Each pair once: named by its new entry (the later name when
          // both are new).
          if (!a_new || (b_new && j > i)) continue;
          clashes.push_back({full(parent, a), full(parent, b), a_group, b_group});
        }
      }
    }
  }
  std::sort(clashes.begin(), clashes.end(), [](const NameClash& x, const NameClash& y) {
    return std::tie(x.path, x.other) < std::tie(y.path, y.other);
  });
  return clashes;
}

namespace {

// Levenshtein distance, ASCII case ignored.
std::size_t EditDistance(const std::string& a, const std::string& b) {
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string ClosestName(const std::string& typed, const std::vector<std::string>& candidates) {
  if (typed.empty()) return "";
  // Two edits at most, and fewer than half the letters: "ab" is no hint for "xy".
  const std::size_t limit = std::min<std::size_t>(2, (typed.size() - 1) / 2);
  std::optional<std::pair<std::size_t, std::string>> best;
  for (const auto& c : candidates) {
    const std::size_t d = EditDistance(typed, c);
    if (d <= limit && (!best || std::pair(d, c) < *best)) best = std::pair(d, c);
  }
  return best ? best->second : "";
}

}  // namespace flowrepo
