#ifndef FLOWREPO_FLOW_NAMES_H_
#define FLOWREPO_FLOW_NAMES_H_

// What a name may hold, and when two names are one: the rules for display
// names and group paths, applied wherever a name is written or read
// (put, add, copy, import, publish, validate, export, package reading).
//
// Characters are judged by their Unicode properties (ICU), not by lists of
// code points: a control character (General_Category Cc), a
// default-ignorable code point (Default_Ignorable_Code_Point: zero-width
// characters and joiners, variation selectors, fillers, tag characters, the
// soft hyphen, ...) or a bidirectional control (Bidi_Control: embeddings,
// overrides, isolates and the marks) is refused. Such a character makes a
// name look like another or like nothing, or reorders the text around it;
// that includes the joiners and variation selectors of emoji sequences and
// of some scripts, which are refused too: one rule, with no exceptions to
// keep in step.
//
// Two entries of one folder of flows/ (two groups, or a group and a flow
// folder) clash when their ClashKey is equal although their text differs:
// "Finance" and "finance", "café" in NFC and NFD, "K" and the Kelvin sign,
// Latin "a" and Cyrillic "а". Such names would overwrite each other on a
// case-insensitive file system and cannot be told apart by a reader.

#include <string>
#include <string_view>
#include <vector>

#include "flowrepo/flow.h"

namespace flowrepo {

/// Why \a text cannot be a name or a group because of one of its
/// characters, or empty: "is not valid UTF-8", "has a control character
/// (U+0007)", "has an invisible or direction-changing character (U+200D)".
std::string CharacterProblem(std::string_view text);

/// Why \a name cannot be a flow's display name, or empty: CharacterProblem,
/// more than 512 bytes, or nothing but white space.
std::string DisplayNameProblem(std::string_view name);

/// Why one '/'-separated part of a group path (or of a package entry name)
/// is refused, or empty: empty, ".", "..", a leading '.', a trailing '.' or
/// space, a name Windows gives to a device or to .git ("con", "git~1"),
/// CharacterProblem.
std::string PathPartProblem(std::string_view part);

/// True for a name Windows gives to a device, with or without an extension
/// or trailing spaces, in any case: "con", "NUL.json", "com1", "lpt9 ".
bool IsWindowsDeviceName(std::string_view part);

/// \a text with control characters made spaces (runs of them one) and
/// invisible or direction-changing characters removed; invalid UTF-8 bytes
/// are removed too. For names taken from foreign documents.
std::string WithoutHiddenCharacters(std::string_view text);

/// The form two names are compared in: the UTS #39 confusable skeleton of
/// the case-folded NFC form, case-folded again (skeletons keep some capitals:
/// "0" becomes "O"), as UTF-8. Throws kInternal when ICU fails.
std::string ClashKey(std::string_view text);

/// Where a flow lives, for FindNameClashes.
struct FlowPlace {
  std::string group;  ///< "" at the top
  std::string id;
};

/// Two entries of one folder whose names clash.
struct NameClash {
  std::string path;   ///< the entry that is new, relative to flows/ ("Ops/finance")
  std::string other;  ///< the entry it clashes with ("Ops/Finance")
  bool path_is_group = true;
  bool other_is_group = true;
  /// "group 'Ops/finance' clashes with group 'Ops/Finance': ..."
  std::string Message() const;
};

/// The clashes of the folders that \a after's flows make (their groups,
/// every parent included, and their flow folders): two groups, or a group
/// and a flow folder, in one parent folder with equal ClashKey. Flow
/// folders are never compared with each other (flow ids are ASCII and
/// unique). Only clashes in which at least one entry is absent from
/// \a before are reported, so that a repository's older clashes do not
/// block unrelated writes; pass an empty \a before for every clash. Sorted
/// by path.
std::vector<NameClash> FindNameClashes(const std::vector<FlowPlace>& before, const std::vector<FlowPlace>& after);

}  // namespace flowrepo

#endif  // FLOWREPO_FLOW_NAMES_H_
