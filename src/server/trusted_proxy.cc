#include "server/trusted_proxy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "flowrepo/error.h"

namespace flowrepo::server {
namespace {

// \a text as 16 bytes (an IPv4 address mapped into IPv6, as a dual-stack
// socket reports it), or empty when it is no address.
std::string AddressBytes(const std::string& text) {
  unsigned char bytes[16] = {};
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) return std::string(reinterpret_cast<char*>(bytes), 16);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) != 1) return "";
  bytes[10] = bytes[11] = 0xff;
  std::memcpy(bytes + 12, &v4, 4);
  return std::string(reinterpret_cast<char*>(bytes), 16);
}

std::string Trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

bool UsableUserName(const std::string& user) {
  return !user.empty() && user.size() <= 254 &&
         std::none_of(user.begin(), user.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

}  // namespace

TrustedProxy::TrustedProxy(std::string header, const std::vector<std::string>& addresses) : header_(std::move(header)) {
  for (const std::string& list : addresses) {
    for (std::size_t start = 0; start <= list.size();) {
      const std::size_t end = std::min(list.find(',', start), list.size());
      const std::string address = Trimmed(list.substr(start, end - start));
      const std::string bytes = AddressBytes(address);
      if (bytes.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "invalid --trust-proxy address '" + address + "'");
      }
      addresses_.push_back(bytes);
      start = end + 1;
    }
  }
  if (header_.empty() != addresses_.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "--trust-header and --trust-proxy go together");
  }
}

std::optional<std::string> TrustedProxy::UserOf(const httplib::Request& req) const {
  // Twice is once too many: the client's own and the proxy's.
  if (header_.empty() || req.get_header_value_count(header_.c_str()) != 1) return std::nullopt;
  const std::string from = AddressBytes(req.remote_addr);
  if (from.empty() || std::find(addresses_.begin(), addresses_.end(), from) == addresses_.end()) return std::nullopt;
  const std::string user = req.get_header_value(header_.c_str());
  if (!UsableUserName(user)) return std::nullopt;
  return user;
}

}  // namespace flowrepo::server
