#ifndef FLOWREPO_TOKENS_H_
#define FLOWREPO_TOKENS_H_

// API tokens of `flowrepo serve` (docs/server.md): created and revoked by an
// admin, each naming the user whose roles its requests act with. Only a
// SHA-256 of each token is kept, in <git dir>/flowrepo/serve-tokens.json
// (mode 0600, outside every tracked tree, never pushed); the token itself
// is shown once, when it is made.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flowrepo/repository.h"

namespace flowrepo {

/// What is known of a token without the token: never its secret.
struct ApiToken {
  std::string id;            ///< 12 hex digits, unique: names it in list and revoke
  std::string user;          ///< whose roles requests with it have
  std::int64_t created = 0;  ///< seconds since the epoch
  std::string created_by;    ///< the admin who made it
};

struct NewApiToken {
  ApiToken token;
  std::string secret;  ///< "frt_" and 64 hex digits; shown once, stored only hashed
};

/// Makes a token for \a user (32 bytes of RAND_bytes). Needs the admin role
/// in \a workspace. Concurrent adds and revokes are serialised by a lock on
/// the store, so none is lost. Throws kPermissionDenied, kInvalidArgument (a
/// malformed user name), kIo.
NewApiToken AddApiToken(FlowRepository& repo, std::string_view workspace, std::string_view user);
/// Removes the token with id \a user_or_id, or every token of that user.
/// Returns those removed. Needs the admin role in \a workspace. Throws
/// kNotFound when none matches, kPermissionDenied, kIo.
std::vector<ApiToken> RevokeApiTokens(FlowRepository& repo, std::string_view workspace, std::string_view user_or_id);
/// Every token, by user then creation. Needs the admin role in \a workspace.
std::vector<ApiToken> ListApiTokens(const FlowRepository& repo, std::string_view workspace);

/// The token of the repository at \a git_dir whose hash is \a secret's;
/// every stored hash is compared, each in constant time (CRYPTO_memcmp).
/// None for an unknown token, and when there is no store. Throws kIo
/// (unreadable store) and kInvalidData (damaged store).
std::optional<ApiToken> FindApiToken(const std::string& git_dir, std::string_view secret);

}  // namespace flowrepo

#endif  // FLOWREPO_TOKENS_H_
