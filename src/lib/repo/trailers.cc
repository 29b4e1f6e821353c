// Trailers: reading a commit's trailer block with libgit2 (git's own rules)
// and refusing publish notes that could change it.

#include "repo/trailers.h"

#include <algorithm>
#include <cassert>
#include <cctype>

#include "flowrepo/error.h"
#include "flowrepo/flow.h"
#include "git/handles.h"
#include "repo/layout.h"

namespace flowrepo {
namespace {

void Record(std::string_view key, std::string_view value, PublishTrailers& out) {
  auto malformed = [&] { out.malformed.push_back(std::string(key) + ": " + std::string(value)); };
  if (key == kVersionTrailer) {
    if (auto v = ParseVersionValue(value)) {
      out.versions.push_back({std::string(v->flow), v->number});
    } else {
      malformed();
    }
  } else if (key == kWorkspaceTrailer) {
    // Two workspaces, or a name no workspace can have: a publish of none.
    if (!IsValidId(value) || out.workspace != value) malformed();
  } else if (key == kDraftTrailer) {
    out.draft = std::string(value);
  } else if (key == kCreatedFromTrailer) {
    if (IsValidId(value)) {
      out.created_from = std::string(value);
    } else {
      malformed();
    }
  } else if (key == kRemovedTrailer) {
    if (IsValidId(value)) {
      out.removed.push_back(std::string(value));
    } else {
      malformed();
    }
  } else if (key == kRenamedTrailer) {
    const auto space = value.find(' ');
    const std::string_view from = value.substr(0, space);
    const std::string_view to = space == std::string_view::npos ? std::string_view() : value.substr(space + 1);
    if (IsValidId(from) && IsValidId(to) && from != to) {
      out.renamed.emplace_back(from, to);
    } else {
      malformed();
    }
  }
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

// True for "<token><optional blanks>:" with a token of letters, digits and
// '-' (git's trailer syntax) starting with "Flowrepo-" in any case.
bool LooksLikeFlowrepoTrailer(std::string_view line) {
  line.remove_prefix(std::min(line.find_first_not_of(" \t"), line.size()));
  if (!StartsWithNoCase(line, "flowrepo-")) return false;
  std::size_t i = 0;
  while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '-')) ++i;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  return i < line.size() && line[i] == ':';
}

Error NoteError(std::size_t line_number, std::string_view why) {
  return Error(ErrorCode::kInvalidArgument,
               "publish note refused: line " + std::to_string(line_number) + " " + std::string(why));
}

}  // namespace

bool PublishTrailers::NamesVersion(std::string_view flow, int number) const {
  return std::any_of(versions.begin(), versions.end(),
                     [&](const VersionTrailer& v) { return v.number == number && v.flow == flow; });
}

std::string PublishTrailers::RenamedFrom(std::string_view flow) const {
  for (const auto& [from, to] : renamed) {
    if (to == flow) return from;
  }
  return {};
}

TrailerBlock::TrailerBlock(const char* message) {
  git::Check(git_message_trailers(trailers_.get(), message ? message : ""), "read commit trailers");
}

std::string_view TrailerBlock::Workspace() const {
  std::string_view found;
  int count = 0;
  for (std::size_t i = 0; i < size(); ++i) {
    Trailer t = (*this)[i];
    if (t.key != kWorkspaceTrailer) continue;
    if (++count > 1) return {};
    found = t.value;
  }
  return IsValidId(found) ? found : std::string_view();
}

std::optional<VersionValue> ParseVersionValue(std::string_view value) {
  auto space = value.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view flow = value.substr(0, space);
  auto number = VersionFromTag(value.substr(space + 1), "v");
  if (!number || !IsValidId(flow)) return std::nullopt;
  return VersionValue{flow, *number};
}

PublishTrailers ReadPublishTrailers(const TrailerBlock& block) {
  PublishTrailers out;
  out.workspace = std::string(block.Workspace());
  for (std::size_t i = 0; i < block.size(); ++i) Record(block[i].key, block[i].value, out);
  return out;
}

PublishTrailers ReadPublishTrailers(const char* message) { return ReadPublishTrailers(TrailerBlock(message)); }

PublishTrailers ReadPublishTrailers(const git_commit* commit) {
  return ReadPublishTrailers(git_commit_message(commit));
}

std::string TrailerLine(std::string_view key, std::string_view value) {
  return std::string(key) + ": " + std::string(value) + "\n";
}

std::string VersionTrailerLine(std::string_view flow, int number) {
  // A number ParseVersionValue cannot read would name no version: its tag
  // would never be made (NextVersion refuses past kMaxVersion first).
  assert(number >= 1 && number <= kMaxVersion);
  return TrailerLine(kVersionTrailer, std::string(flow) + " v" + std::to_string(number));
}

std::string RenamedTrailerLine(std::string_view from, std::string_view to) {
  return TrailerLine(kRenamedTrailer, std::string(from) + " " + std::string(to));
}

void RequirePlainNote(std::string_view note) {
  if (note.find('\0') != std::string_view::npos) {
    throw Error(ErrorCode::kInvalidArgument, "publish note refused: it contains a NUL byte");
  }
  std::size_t line_number = 0;
  for (std::size_t start = 0; start <= note.size();) {
    std::size_t end = std::min(note.find('\n', start), note.size());
    std::string_view line = note.substr(start, end - start);
    ++line_number;
    if (line.rfind("---", 0) == 0) {
      throw NoteError(line_number,
                      "starts with '---', where git's trailer parser cuts the message (indent or reword it)");
    }
    if (line.find("- >8 -") != std::string_view::npos) {
      throw NoteError(line_number, "holds git's scissors mark '-- >8 --', where git cuts the message");
    }
    if (LooksLikeFlowrepoTrailer(line)) {
      throw NoteError(line_number, "looks like a flowrepo trailer ('" + std::string(line.substr(0, 60)) +
                                       "'), which only flowrepo writes (reword it)");
    }
    start = end + 1;
  }
}

// The note of a publish commit: what lies between its title and its
// trailer block; the title when nothing does (a workspace creation).
std::string NoteOf(std::string_view message) {
  while (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  const std::string title(message.substr(0, message.find('\n')));
  auto first = message.find("\n\n");
  auto last = message.rfind("\n\n");
  if (first == std::string_view::npos || last == first) return title;
  std::string_view note = message.substr(first + 2, last - first - 2);
  while (!note.empty() && note.back() == '\n') note.remove_suffix(1);
  return note.empty() ? title : std::string(note);
}

}  // namespace flowrepo
