#ifndef FLOWREPO_SERVER_TRUSTED_PROXY_H_
#define FLOWREPO_SERVER_TRUSTED_PROXY_H_

// The identity a trusted reverse proxy vouches for (--trust-header,
// --trust-proxy): a proxy that has authenticated the user itself (SSO,
// client certificates) names them in a header, and the server believes
// that header only on connections from the proxy's own addresses. From
// any other address the header is ignored, exactly as if it were absent,
// so a client that reaches the server directly cannot claim a user.

#include <httplib.h>

#include <optional>
#include <string>
#include <vector>

namespace flowrepo::server {

class TrustedProxy {
 public:
  /// Trusts \a header from \a addresses: IPv4 or IPv6 addresses, each
  /// element one or a comma list. Both empty: nobody is trusted. Throws
  /// kInvalidArgument for a malformed address, or one of the two given
  /// without the other.
  TrustedProxy(std::string header, const std::vector<std::string>& addresses);

  /// The user \a req's header names when the request comes from a trusted
  /// address and carries the header with a usable user name (1-254
  /// characters, no control character); std::nullopt otherwise.
  std::optional<std::string> UserOf(const httplib::Request& req) const;

 private:
  std::string header_;
  std::vector<std::string> addresses_;  ///< 16 bytes each: IPv6, IPv4 mapped into it
};

}  // namespace flowrepo::server

#endif  // FLOWREPO_SERVER_TRUSTED_PROXY_H_
