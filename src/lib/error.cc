#include "flowrepo/error.h"

namespace flowrepo {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid-argument";
    case ErrorCode::kNotFound: return "not-found";
    case ErrorCode::kAlreadyExists: return "already-exists";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kInvalidData: return "invalid-data";
    case ErrorCode::kPermissionDenied: return "permission-denied";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kRemote: return "remote";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

std::string Problem::ToString() const {
  std::string out = file;
  if (!pointer.empty()) out += ":" + pointer;
  out += ": " + message;
  if (!rule.empty()) out += " [" + rule + "]";
  return out;
}

Error Error::Listing(ErrorCode code, const std::string& message, std::vector<Problem> problems, Lines lines) {
  std::vector<std::string> details;
  if (lines == Lines::kInDetails) {
    details.reserve(problems.size());
    for (const auto& p : problems) details.push_back(p.ToString());
  }
  Error error(code, message, std::move(details));
  error.problems_ = std::move(problems);
  return error;
}

}  // namespace flowrepo
