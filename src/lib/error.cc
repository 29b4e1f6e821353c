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

}  // namespace flowrepo
