#ifndef FLOWREPO_REPO_TRAILERS_H_
#define FLOWREPO_REPO_TRAILERS_H_

// The trailers flowrepo writes at the end of its commit messages, read the
// way git reads them: only the trailer block (the last paragraph of the
// message, before any line starting with "---"), parsed by libgit2's
// git_message_trailers. A line that merely looks like a trailer anywhere
// else in a message means nothing. docs/repository-format.md lists them.

#include <git2.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "git/handles.h"

namespace flowrepo {

inline constexpr std::string_view kWorkspaceTrailer = "Flowrepo-Workspace";
inline constexpr std::string_view kVersionTrailer = "Flowrepo-Version";
inline constexpr std::string_view kDraftTrailer = "Flowrepo-Draft";
inline constexpr std::string_view kRemovedTrailer = "Flowrepo-Removed";
inline constexpr std::string_view kCreatedFromTrailer = "Flowrepo-Created-From";
inline constexpr std::string_view kSourceTrailer = "Flowrepo-Source";
/// "<old id> <new id>": on a draft commit, the rename it makes; on a publish
/// commit, that the new id's versions continue the old id's.
inline constexpr std::string_view kRenamedTrailer = "Flowrepo-Renamed";

/// The trailer block of a commit message, parsed once. Keys and values
/// point into the block and live as long as it does.
class TrailerBlock {
 public:
  struct Trailer {
    std::string_view key;
    std::string_view value;
  };
  /// Parses \a message. Throws kIo when libgit2 cannot (out of memory).
  explicit TrailerBlock(const char* message);

  std::size_t size() const { return trailers_.array().count; }
  Trailer operator[](std::size_t i) const {
    return {trailers_.array().trailers[i].key, trailers_.array().trailers[i].value};
  }
  /// The value of the one Flowrepo-Workspace trailer when it is a valid
  /// name; empty when there is none, or two.
  std::string_view Workspace() const;

 private:
  git::LibGit2Session session_;  // libgit2's allocator, also without a repository
  git::MessageTrailers trailers_;
};

/// "<flow> v<N>" (a Flowrepo-Version value) with a valid flow id and
/// 1 <= N <= kMaxVersion; \a flow points into \a value.
struct VersionValue {
  std::string_view flow;
  int number;
};
std::optional<VersionValue> ParseVersionValue(std::string_view value);

/// One "Flowrepo-Version: <flow> v<N>" trailer.
struct VersionTrailer {
  std::string flow;
  int number = 0;
};

/// What the trailer block of a commit message says about the commit.
struct PublishTrailers {
  /// Flowrepo-Workspace; empty when absent, malformed or given twice.
  std::string workspace;
  std::string draft;         ///< Flowrepo-Draft (a publish)
  std::string created_from;  ///< Flowrepo-Created-From (a workspace creation)
  std::vector<VersionTrailer> versions;
  std::vector<std::string> removed;
  /// Flowrepo-Renamed: (old id, new id).
  std::vector<std::pair<std::string, std::string>> renamed;
  /// Flowrepo trailers whose value does not parse, as "Key: value".
  std::vector<std::string> malformed;

  /// True when the commit records a publish (or creation) of workspace \a ws.
  bool IsPublishTo(std::string_view ws) const { return !ws.empty() && workspace == ws; }
  /// True when the commit records version \a number of \a flow.
  bool NamesVersion(std::string_view flow, int number) const;
  /// The id \a flow was renamed from by this commit; empty when none.
  std::string RenamedFrom(std::string_view flow) const;
};

/// Reads the trailer block of \a message. Throws kIo when libgit2 cannot
/// (out of memory).
PublishTrailers ReadPublishTrailers(const char* message);
PublishTrailers ReadPublishTrailers(const TrailerBlock& block);
PublishTrailers ReadPublishTrailers(const git_commit* commit);

/// "<Key>: <value>\n".
std::string TrailerLine(std::string_view key, std::string_view value);
/// "Flowrepo-Version: <flow> v<N>\n"; \a number is 1 to kMaxVersion.
std::string VersionTrailerLine(std::string_view flow, int number);
/// "Flowrepo-Renamed: <from> <to>\n".
std::string RenamedTrailerLine(std::string_view from, std::string_view to);

/// Throws kInvalidArgument (one line naming the line) when \a note, put in
/// the body of a publish commit, could change what its trailer block says:
/// a NUL byte (which ends the message), a line starting with "---" (git
/// reads the rest as a patch, so the trailers before it would count), git's
/// scissors line ("-- >8 --"), or a line shaped like a Flowrepo trailer
/// ("Flowrepo-...:", in any case). Notes are refused, never rewritten.
void RequirePlainNote(std::string_view note);

/// The note of a publish commit's \a message: what lies between its title
/// and its trailer block; the title when nothing does.
std::string NoteOf(std::string_view message);

}  // namespace flowrepo

#endif  // FLOWREPO_REPO_TRAILERS_H_
