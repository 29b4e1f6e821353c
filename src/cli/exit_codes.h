#ifndef FLOWREPO_CLI_EXIT_CODES_H_
#define FLOWREPO_CLI_EXIT_CODES_H_

#include "flowrepo/error.h"

namespace flowrepo::cli {

// docs/exit-codes.md documents this table; keep them together.
inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;  // validate found problems
inline constexpr int kExitUsage = 2;        // bad command line or argument
inline constexpr int kExitNotFound = 3;
inline constexpr int kExitInvalidData = 4;
inline constexpr int kExitConflict = 5;  // concurrent writer, conflict, already exists
inline constexpr int kExitPermission = 6;
inline constexpr int kExitIo = 7;
inline constexpr int kExitRemote = 8;  // server unreachable, authentication, push refused
inline constexpr int kExitInternal = 70;

inline int ExitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return kExitUsage;
    case ErrorCode::kNotFound: return kExitNotFound;
    case ErrorCode::kInvalidData: return kExitInvalidData;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict: return kExitConflict;
    case ErrorCode::kPermissionDenied: return kExitPermission;
    case ErrorCode::kIo: return kExitIo;
    case ErrorCode::kRemote: return kExitRemote;
    case ErrorCode::kInternal: return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace flowrepo::cli

#endif  // FLOWREPO_CLI_EXIT_CODES_H_
