// Connections of `flowrepo serve` (connections.h): admission, one thread
// per connection, and a stream with a header deadline under httplib's
// request parsing.
//
// Each accepted socket is made non-blocking; every read and write first
// polls with the time left (the header deadline while a request's line
// and headers are read, else the read or write timeout), so no call can
// wait longer than its bound. The end of the headers is found by watching
// the bytes httplib takes: it reads the request line and headers a byte
// at a time through the stream and stops at the empty line.

#include "server/connections.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>

#include "flowrepo/error.h"
#include "forms/json_forms.h"

namespace flowrepo::server {
namespace {

using Clock = std::chrono::steady_clock;

// Threads beyond max_connections: they take connections that arrive
// while every slot is held, and refuse them at once.
constexpr int kRefusingThreads = 4;

// The open connections against the limit.
class Admission {
 public:
  explicit Admission(int max) : max_(max) {}
  bool TryEnter() {
    if (open_.fetch_add(1) < max_) return true;
    open_.fetch_sub(1);
    return false;
  }
  void Leave() { open_.fetch_sub(1); }
  int max() const { return max_; }

 private:
  const int max_;
  std::atomic<int> open_{0};
};

// Leaves the admission when the connection ends.
class AdmissionTicket {
 public:
  explicit AdmissionTicket(Admission& admission) : admission_(admission) {}
  AdmissionTicket(const AdmissionTicket&) = delete;
  AdmissionTicket& operator=(const AdmissionTicket&) = delete;
  ~AdmissionTicket() { admission_.Leave(); }

 private:
  Admission& admission_;
};

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

std::string AddressOf(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(addr).sin_addr, text, sizeof text);
  } else if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr, text, sizeof text);
  }
  return text;
}

int PortOf(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
  return 0;
}

// Waits until \a fd is ready for \a events or \a until passes.
bool WaitFor(int fd, short events, Clock::time_point until) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int rc = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

// One connection: a socket (and its TLS session) read and written with
// deadlines. What httplib's request parsing reads and writes through.
class DeadlineStream : public httplib::Stream {
 public:
  DeadlineStream(int fd, SSL* ssl, const ServeOptions& options) : fd_(fd), ssl_(ssl), options_(options) {}

  /// A new request begins: its line and headers must arrive within the
  /// header timeout from now.
  void StartRequest() {
    in_headers_ = true;
    seen_line_ = false;
    line_length_ = 0;
    header_deadline_ = Clock::now() + std::chrono::seconds(options_.header_timeout);
  }
  /// Waits until a request may start (bytes arrived) for the idle timeout.
  bool WaitForRequest() {
    if (buffered() > 0) return true;
    return WaitFor(fd_, POLLIN, Clock::now() + std::chrono::seconds(options_.idle_timeout));
  }
  /// The TLS handshake, within the header timeout.
  bool Handshake() {
    StartRequest();
    while (true) {
      const int rc = SSL_accept(ssl_);
      if (rc == 1) return true;
      if (!WaitSsl(rc, ReadDeadline())) return false;
    }
  }

  bool is_readable() const override { return buffered() > 0 || WaitFor(fd_, POLLIN, ReadDeadline()); }
  bool is_writable() const override { return WaitFor(fd_, POLLOUT, WriteDeadline()); }

  ssize_t read(char* ptr, std::size_t size) override {
    if (size == 0) return 0;
    if (begin_ == end_) {
      const ssize_t n = Fill();
      if (n <= 0) return -1;
    }
    const std::size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_ + begin_, n);
    begin_ += n;
    if (in_headers_) WatchHeaders(ptr, n);
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, std::size_t size) override {
    const auto until = WriteDeadline();
    while (true) {
      if (ssl_) {
        const int rc = SSL_write(ssl_, ptr, static_cast<int>(std::min<std::size_t>(size, 1 << 30)));
        if (rc > 0) return rc;
        if (!WaitSsl(rc, until)) return -1;
        continue;
      }
      const ssize_t n = send(fd_, ptr, size, MSG_NOSIGNAL);
      if (n >= 0) return n;
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
      if (!WaitFor(fd_, POLLOUT, until)) return -1;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
    ip = AddressOf(addr);
    port = PortOf(addr);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
    ip = AddressOf(addr);
    port = PortOf(addr);
  }
  socket_t socket() const override { return fd_; }

 private:
  std::size_t buffered() const { return end_ - begin_ + (ssl_ ? static_cast<std::size_t>(SSL_pending(ssl_)) : 0); }

  // The header deadline while the headers are read, else the read timeout.
  Clock::time_point ReadDeadline() const {
    const auto per_read = Clock::now() + std::chrono::seconds(options_.read_timeout);
    return in_headers_ ? std::min(per_read, header_deadline_) : per_read;
  }
  Clock::time_point WriteDeadline() const { return Clock::now() + std::chrono::seconds(options_.write_timeout); }

  // Reads what has arrived into the buffer (waiting for it until the
  // read deadline); 0 at the end, -1 on a timeout or an error.
  ssize_t Fill() {
    const auto until = ReadDeadline();
    begin_ = end_ = 0;
    while (true) {
      if (ssl_) {
        const int rc = SSL_read(ssl_, buffer_, sizeof buffer_);
        if (rc > 0) {
          end_ = static_cast<std::size_t>(rc);
          return rc;
        }
        if (SSL_get_error(ssl_, rc) == SSL_ERROR_ZERO_RETURN) return 0;
        if (!WaitSsl(rc, until)) return -1;
        continue;
      }
      const ssize_t n = recv(fd_, buffer_, sizeof buffer_, 0);
      if (n >= 0) {
        end_ = static_cast<std::size_t>(n);
        return n;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
      if (!WaitFor(fd_, POLLIN, until)) return -1;
    }
  }

  // After a TLS call returned \a rc: waits for what it wants, false when
  // it failed or \a until passed.
  bool WaitSsl(int rc, Clock::time_point until) const {
    switch (SSL_get_error(ssl_, rc)) {
      case SSL_ERROR_WANT_READ: return WaitFor(fd_, POLLIN, until);
      case SSL_ERROR_WANT_WRITE: return WaitFor(fd_, POLLOUT, until);
      default: return false;
    }
  }

  // The headers end at the first empty line ("\r\n" or "\n") after the
  // request line.
  void WatchHeaders(const char* data, std::size_t n) {
    for (std::size_t i = 0; i < n && in_headers_; ++i) {
      if (data[i] == '\n') {
        if (line_length_ == 0 && seen_line_) in_headers_ = false;
        seen_line_ = line_length_ > 0 || seen_line_;
        line_length_ = 0;
      } else if (data[i] != '\r') {
        ++line_length_;
      }
    }
  }

  const int fd_;
  SSL* const ssl_;
  const ServeOptions& options_;
  char buffer_[16 * 1024];
  std::size_t begin_ = 0, end_ = 0;
  bool in_headers_ = false;
  bool seen_line_ = false;
  std::size_t line_length_ = 0;
  Clock::time_point header_deadline_;
};

// Answers \a fd 503 (over HTTP) without reading its request, and lets the
// client read it: the unread request is drained briefly, since closing
// with unread bytes would reset the connection before the answer arrives.
void Refuse(int fd, int max_connections, bool tls) {
  if (!tls) {
    const std::string reply = RefusalResponse(max_connections);
    [[maybe_unused]] const ssize_t sent = send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  shutdown(fd, SHUT_WR);
  const auto until = Clock::now() + std::chrono::milliseconds(200);
  char sink[4096];
  while (WaitFor(fd, POLLIN, until) && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
  }
}

void CloseSocket(int fd) {
  shutdown(fd, SHUT_RDWR);
  close(fd);
}

// Serves one connection's requests until it closes, goes idle, breaks a
// deadline or reaches the keep-alive count; \a process is httplib's
// request handling.
template <class Process>
void ServeConnection(DeadlineStream& stream, std::size_t keep_alive_max, const std::atomic<socket_t>& listening,
                     const Process& process) {
  for (std::size_t left = keep_alive_max; left > 0 && listening != INVALID_SOCKET; --left) {
    if (!stream.WaitForRequest()) return;
    stream.StartRequest();
    bool closed = false;
    if (!process(stream, left == 1, closed) || closed) return;
  }
}

// A pool of \a threads from the start: connections never wait for a
// thread to be made.
httplib::TaskQueue* NewConnectionPool(int max_connections) {
  return new httplib::ThreadPool(static_cast<std::size_t>(max_connections + kRefusingThreads));
}

class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(const ServeOptions& options) : options_(options), admission_(options.max_connections) {
    new_task_queue = [max = options.max_connections] { return NewConnectionPool(max); };
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    if (!admission_.TryEnter()) {
      Refuse(sock, admission_.max(), false);
      close(sock);
      return true;
    }
    AdmissionTicket ticket(admission_);
    fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
    DeadlineStream stream(sock, nullptr, options_);
    ServeConnection(stream, keep_alive_max_count_, svr_sock_,
                    [this](httplib::Stream& strm, bool close_connection, bool& closed) {
                      return process_request(strm, close_connection, closed, nullptr);
                    });
    CloseSocket(sock);
    return true;
  }

  const ServeOptions& options_;
  Admission admission_;
};

class GuardedSslServer : public httplib::SSLServer {
 public:
  explicit GuardedSslServer(const ServeOptions& options)
      : httplib::SSLServer(options.tls_cert.c_str(), options.tls_key.c_str()),
        options_(options),
        admission_(options.max_connections) {
    new_task_queue = [max = options.max_connections] { return NewConnectionPool(max); };
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    if (!admission_.TryEnter()) {
      Refuse(sock, admission_.max(), true);
      close(sock);
      return true;
    }
    AdmissionTicket ticket(admission_);
    fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
    SslPtr ssl(SSL_new(ssl_context()));
    if (ssl && SSL_set_fd(ssl.get(), sock) == 1) {
      DeadlineStream stream(sock, ssl.get(), options_);
      if (stream.Handshake()) {
        ServeConnection(stream, keep_alive_max_count_, svr_sock_,
                        [this, &ssl](httplib::Stream& strm, bool close_connection, bool& closed) {
                          return process_request(strm, close_connection, closed,
                                                 [&ssl](httplib::Request& req) { req.ssl = ssl.get(); });
                        });
        SSL_shutdown(ssl.get());
      }
    }
    ssl.reset();
    CloseSocket(sock);
    return true;
  }

  const ServeOptions& options_;
  Admission admission_;
};

}  // namespace

std::string RefusalResponse(int max_connections) {
  const std::string body = forms::Dump({{"error",
                                         {{"code", "unavailable"},
                                          {"message", "the server has " + std::to_string(max_connections) +
                                                          " connections open, its --max-connections; try again"}}}});
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body;
}

std::unique_ptr<httplib::Server> MakeGuardedServer(const ServeOptions& options) {
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "TLS needs both --tls-cert and --tls-key");
  }
  if (options.max_connections < 1) throw Error(ErrorCode::kInvalidArgument, "--max-connections must be at least 1");
  if (options.tls_cert.empty()) return std::make_unique<GuardedServer>(options);
  auto https = std::make_unique<GuardedSslServer>(options);
  if (!https->is_valid()) {
    throw Error(ErrorCode::kIo,
                "cannot use TLS certificate '" + options.tls_cert + "' with key '" + options.tls_key + "'");
  }
  return https;
}

}  // namespace flowrepo::server
