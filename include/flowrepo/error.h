#ifndef FLOWREPO_ERROR_H_
#define FLOWREPO_ERROR_H_

#include <stdexcept>
#include <string>
#include <vector>

#include "flowrepo/validation.h"

namespace flowrepo {

/// The category of a failure. The CLI maps each category to one exit code
/// (docs/exit-codes.md); the library never exits.
enum class ErrorCode {
  kInvalidArgument,   ///< a malformed name, option or request
  kNotFound,          ///< a flow, version, workspace, draft or file is missing
  kAlreadyExists,     ///< the thing to create is already there
  kConflict,          ///< a concurrent writer or diverged content
  kInvalidData,       ///< malformed JSON, invalid flow, bad package
  kPermissionDenied,  ///< the acting user lacks the role
  kIo,                ///< the file system or repository storage failed
  kRemote,            ///< a remote could not be reached, authenticated, or refused
  kInternal,          ///< a bug in flowrepo
};

/// Returns the stable lower-case name of \a code ("not-found", ...).
const char* ErrorCodeName(ErrorCode code);

/// The one exception type the library throws. what() is a single line;
/// details() lists every individual problem when there are several (for
/// example all validation problems of a refused publish).
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, std::vector<std::string> details = {})
      : std::runtime_error(message), code_(code), details_(std::move(details)) {}

  /// An error caused by \a problems, kept whole for scripts (the CLI's
  /// --json). Its details are the problems' lines ("file:pointer: message
  /// [rule]"), unless \a message already names the one problem.
  enum class Lines { kInDetails, kInMessage };
  static Error Listing(ErrorCode code, const std::string& message, std::vector<Problem> problems,
                       Lines lines = Lines::kInDetails);

  ErrorCode code() const { return code_; }
  const std::vector<std::string>& details() const { return details_; }
  /// The problems behind details(), when the thrower had them as such.
  const std::vector<Problem>& problems() const { return problems_; }

 private:
  ErrorCode code_;
  std::vector<std::string> details_;
  std::vector<Problem> problems_;
};

}  // namespace flowrepo

#endif  // FLOWREPO_ERROR_H_
