#ifndef FLOWREPO_SERVER_CONNECTIONS_H_
#define FLOWREPO_SERVER_CONNECTIONS_H_

// How `flowrepo serve` holds its connections: cpp-httplib 0.11 reads a
// request's headers on the worker that runs its handler, with only a
// per-read timeout and an unbounded queue, so a client sending a header
// byte before each timeout holds a worker for ever, and connections pile
// up without limit. The servers made here replace httplib's per-connection
// loop (its process_and_close_socket, a virtual httplib lets subclasses
// override) and keep its request parsing and routing (process_request):
//
//   - at most max_connections connections are open; each further one is
//     answered 503 at once (over HTTP; over HTTPS it is closed) without
//     reading anything from it;
//   - each open connection has its own thread (a pool of max_connections
//     threads and a few spare ones that refuse), so a slow client holds a
//     connection slot, never one of the `threads` workers, which run
//     handlers only (Api takes a worker once the request is read);
//   - a request's line and headers must arrive within header_timeout
//     seconds of its first byte, whatever the pace (a TLS handshake too);
//     a body read waits at most read_timeout per read.

#include <httplib.h>

#include <memory>

#include "server/server.h"

namespace flowrepo::server {

/// The HTTP or HTTPS server of \a options with the connection handling
/// above. Throws kInvalidArgument (one of the TLS files given), kIo (TLS
/// files unusable).
std::unique_ptr<httplib::Server> MakeGuardedServer(const ServeOptions& options);

/// The reply to a connection over max_connections: "HTTP/1.1 503 ..." with
/// a JSON error {"error": {"code": "unavailable", ...}}, Retry-After: 1
/// and Connection: close.
std::string RefusalResponse(int max_connections);

}  // namespace flowrepo::server

#endif  // FLOWREPO_SERVER_CONNECTIONS_H_
