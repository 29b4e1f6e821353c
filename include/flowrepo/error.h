#ifndef FLOWREPO_ERROR_H_
#define FLOWREPO_ERROR_H_

#include <stdexcept>
#include <string>
#include <vector>

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

  ErrorCode code() const { return code_; }
  const std::vector<std::string>& details() const { return details_; }

 private:
  ErrorCode code_;
  std::vector<std::string> details_;
};

}  // namespace flowrepo

#endif  // FLOWREPO_ERROR_H_
