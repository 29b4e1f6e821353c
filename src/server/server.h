#ifndef FLOWREPO_SERVER_SERVER_H_
#define FLOWREPO_SERVER_SERVER_H_

// `flowrepo serve`: the HTTP API over one repository (docs/server.md). A
// front end like the command line: it parses requests and prints results,
// the library does the work, acting as the user an API token names, so the
// library's role checks and compare-and-swap updates apply to every
// request exactly as to a command.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "flowrepo/package.h"

namespace flowrepo::server {

struct ServeOptions {
  std::string repo = ".";  ///< the repository served (bare or not)
  std::string host = "127.0.0.1";
  int port = 8080;  ///< 0: any free port
  int threads = 8;  ///< workers: handlers run at once (once their request is read)
  /// Connections open at once; each further one is answered 503 (HTTPS:
  /// closed) without being read. Each open one has a thread of its own.
  int max_connections = 64;
  /// Largest request body: an uploaded package (the package reading
  /// limit by default). Larger ones get 413.
  std::uint64_t max_body = PackageLimits{}.max_file_bytes;
  /// Largest JSON request body.
  std::uint64_t max_json_body = 1u << 20;
  int read_timeout = 30;  ///< seconds a read from a client may wait
  /// Seconds a request's line and headers (and a TLS handshake) may take
  /// from its first byte, however fast bytes come.
  int header_timeout = 10;
  int write_timeout = 30;  ///< seconds a write to a client may wait
  int idle_timeout = 5;    ///< seconds an idle keep-alive connection is kept
  /// A request from one of \a trust_proxies (IPs, or comma lists of
  /// them) carrying header \a trust_header acts as the user it names,
  /// without a token; elsewhere the header is ignored (trusted_proxy.h).
  std::string trust_header;
  std::vector<std::string> trust_proxies;
  /// Both set: HTTPS with this certificate chain and key (PEM).
  std::string tls_cert, tls_key;
  /// Told one line per request ("GET /api/v1/... 200 user"); may be empty.
  std::function<void(const std::string&)> log;
};

/// Serves until RequestCancel() (SIGINT, SIGTERM), then stops taking
/// requests and returns once those running are done. \a listening is told
/// the URL ("http://127.0.0.1:PORT") once the port is bound. Throws
/// kNotFound (no repository), kIo (cannot listen, TLS files unusable).
void Serve(const ServeOptions& options, const std::function<void(const std::string& url)>& listening);

}  // namespace flowrepo::server

#endif  // FLOWREPO_SERVER_SERVER_H_
