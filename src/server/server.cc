// The HTTP side of `flowrepo serve`: cpp-httplib's server with the limits
// of ServeOptions, and one dispatch path every route goes through:
//
//   1. path parameters are taken from the route's pattern and checked
//      (workspace names, flow ids, drafts: the library's id rule), so no
//      "..", "/", NUL or overlong name ever reaches the library;
//   2. the bearer token is looked up (401 without a known one);
//   3. the body is read: JSON bodies into memory up to max_json_body,
//      packages into a file of a private temporary directory up to
//      max_body (413 beyond; the rest is read and dropped, so the
//      connection stays usable and the client sees the answer);
//   4. the repository is opened as the token's user, so the library's role
//      checks and compare-and-swap updates apply as for the command line;
//   5. the route's handler runs; an Error becomes its JSON form (the CLI's
//      --json error) with the HTTP status of its code.
//
// Each request opens the repository itself: FlowRepository is not shared
// between threads, and opening is cheap (libgit2 reads config and refs
// lazily; the flow-index and version-index caches are files in the git
// directory, shared by every process).

#include "server/server.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <regex>
#include <semaphore>
#include <thread>

#include "flowrepo/cancel.h"
#include "flowrepo/error.h"
#include "flowrepo/flow.h"
#include "flowrepo/tokens.h"
#include "server/connections.h"
#include "server/routes.h"
#include "server/session.h"
#include "server/temp_dir.h"
#include "server/trusted_proxy.h"
#include "server/web.h"

namespace flowrepo::server {
namespace {

int StatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kInvalidData: return 422;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kRemote: return 502;
    case ErrorCode::kIo:
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

// {"error": {"code", "message"}} for failures that are no library Error:
// "unauthenticated", "too-large", "not-found" of a route.
Json ErrorBody(const std::string& code, const std::string& message) {
  return {{"error", {{"code", code}, {"message", message}}}};
}

void SetJson(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(forms::Dump(body), "application/json");
}

// Replaces every \a from in the strings of \a j by \a to.
void ReplaceInStrings(Json& j, const std::string& from, const std::string& to) {
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
      s.replace(at, from.size(), to);
    }
    j = s;
  } else if (j.is_structured()) {
    for (auto& child : j) ReplaceInStrings(child, from, to);
  }
}

// The names of a route's "{param}"s and the regular expression matching it.
std::string PatternOf(const std::string& path, std::vector<std::string>& names) {
  static const std::regex param(R"(\{([a-z_]+)\})");
  std::string out;
  std::size_t last = 0;
  for (auto it = std::sregex_iterator(path.begin(), path.end(), param); it != std::sregex_iterator(); ++it) {
    for (char c : path.substr(last, it->position() - last)) out += c == '.' ? std::string("\\.") : std::string(1, c);
    out += "([^/]+)";
    names.push_back((*it)[1]);
    last = it->position() + it->length();
  }
  for (char c : path.substr(last)) out += c == '.' ? std::string("\\.") : std::string(1, c);
  return out;
}

// Throws kInvalidArgument unless \a value may be path parameter \a name:
// workspaces, flows and drafts are ids; users are checked by the library.
void CheckPathParam(const std::string& name, const std::string& value) {
  static const std::map<std::string, std::string> kIds = {
      {"ws", "workspace name"}, {"flow", "flow id"}, {"draft", "draft name"}};
  auto id = kIds.find(name);
  if (id != kIds.end() && !IsValidId(value)) {
    throw Error(ErrorCode::kInvalidArgument,
                "invalid " + id->second + " '" + value +
                    "': use 1-64 characters a-z 0-9 . _ - starting with a letter or digit");
  }
  if (name == "user" && (value.empty() || value.size() > 254 || value.find('\0') != std::string::npos)) {
    throw Error(ErrorCode::kInvalidArgument, "invalid user name '" + value + "'");
  }
}

std::string BearerToken(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) return "";
  return header.substr(kBearer.size());
}

// Parses a JSON request body: an object, nested at most 64 deep.
Json ParseBody(const std::string& text) {
  if (text.empty()) return Json::object();
  constexpr int kMaxDepth = 64;
  Json body = Json::parse(
      text,
      [](int depth, Json::parse_event_t, Json&) {
        if (depth > kMaxDepth) throw Error(ErrorCode::kInvalidArgument, "JSON body nested deeper than 64");
        return true;
      },
      false);
  if (body.is_discarded()) throw Error(ErrorCode::kInvalidArgument, "the request body is not JSON");
  if (!body.is_object()) throw Error(ErrorCode::kInvalidArgument, "the request body must be a JSON object");
  return body;
}

// The field names a route's body documentation allows ("name: type - ...").
void CheckFields(const Route& route, const Json& body) {
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (const auto& field : route.fields) known |= field.compare(0, field.find(':'), key) == 0;
    if (!known) throw Error(ErrorCode::kInvalidArgument, "unknown field '" + key + "' in the request body");
  }
}

// What reading a request body found.
enum class BodyRead { kComplete, kTooLarge, kBroken };

// Reads the body through \a reader, handing at most \a limit bytes to
// \a sink; the rest (up to the server's max_body) is read and dropped so
// that the client gets the answer on a connection still in step.
BodyRead ReadBody(const httplib::ContentReader& reader, httplib::Response& res, std::uint64_t limit,
                  std::uint64_t drain_limit, const std::function<void(const char*, std::size_t)>& sink) {
  std::uint64_t seen = 0;
  bool too_large = false;
  const bool ok = reader([&](const char* data, std::size_t n) {
    seen += n;
    if (seen > limit) {
      too_large = true;
      return seen <= drain_limit;
    }
    sink(data, n);
    return true;
  });
  if (too_large || res.status == 413) return BodyRead::kTooLarge;
  return ok ? BodyRead::kComplete : BodyRead::kBroken;
}

// One of the `threads` workers, held while a handler runs: connections
// have threads of their own (connections.h), workers bound the work.
class WorkerSlot {
 public:
  explicit WorkerSlot(std::counting_semaphore<>& workers) : workers_(workers) { workers_.acquire(); }
  WorkerSlot(const WorkerSlot&) = delete;
  WorkerSlot& operator=(const WorkerSlot&) = delete;
  ~WorkerSlot() { workers_.release(); }

 private:
  std::counting_semaphore<>& workers_;
};

class Api {
 public:
  Api(const ServeOptions& options, std::string git_dir)
      : options_(options),
        git_dir_(std::move(git_dir)),
        proxy_(options.trust_header, options.trust_proxies),
        workers_(std::max(options.threads, 1)) {}

  void Register(httplib::Server& http) {
    routes_ = AllRoutes();
    for (const Route& route : routes_) {
      auto names = std::make_shared<std::vector<std::string>>();
      const std::string pattern = PatternOf(route.path, *names);
      const Route* r = &route;
      if (route.method == "GET") {
        http.Get(pattern, [this, r, names](const httplib::Request& req, httplib::Response& res) {
          Dispatch(*r, *names, req, res, nullptr);
        });
      } else if (route.method == "DELETE") {
        http.Delete(pattern, [this, r, names](const httplib::Request& req, httplib::Response& res) {
          Dispatch(*r, *names, req, res, nullptr);
        });
      } else {
        http.Post(pattern,
                  [this, r, names](const httplib::Request& req, httplib::Response& res,
                                   const httplib::ContentReader& reader) { Dispatch(*r, *names, req, res, &reader); });
      }
    }
  }

 private:
  void Dispatch(const Route& route, const std::vector<std::string>& names, const httplib::Request& req,
                httplib::Response& res, const httplib::ContentReader* reader) {
    std::unique_ptr<TempDir> upload_dir;
    std::vector<std::string> scrub;  // temporary paths never shown to clients
    try {
      std::optional<ApiToken> token;
      if (route.role != "none") {
        token = Authenticate(req);
        if (!token) {
          if (reader) Drain(*reader, res);
          res.set_header("WWW-Authenticate", "Bearer realm=\"flowrepo\"");
          SetJson(res, 401,
                  ErrorBody("unauthenticated", req.has_header("Authorization")
                                                   ? "the API token is not valid (revoked, or never made)"
                                                   : "an API token is needed: Authorization: Bearer TOKEN"));
          return;
        }
      }
      std::map<std::string, std::string> path;
      for (std::size_t i = 0; i < names.size(); ++i) path[names[i]] = req.matches[i + 1].str();
      for (const auto& [name, value] : path) CheckPathParam(name, value);
      FlowRepository repo = FlowRepository::Open(options_.repo, token ? token->user : "flowrepo-serve");
      Call call(req, res, repo, std::move(path), options_);
      if (reader && !ReadRequestBody(route, *reader, call, upload_dir)) return;
      if (upload_dir) scrub.push_back(upload_dir->path() + "/");
      WorkerSlot worker(workers_);
      route.handler(call);
    } catch (const Error& e) {
      Json body = forms::ErrorJson(e);
      for (const auto& prefix : scrub) ReplaceInStrings(body, prefix, "");
      SetJson(res, StatusFor(e.code()), body);
    } catch (const std::bad_alloc&) {
      SetJson(res, 500, ErrorBody(ErrorCodeName(ErrorCode::kIo), "out of memory"));
    } catch (const std::exception& e) {
      SetJson(res, 500, ErrorBody(ErrorCodeName(ErrorCode::kInternal), std::string("internal error: ") + e.what()));
    }
  }

  // The user a trusted proxy names comes first (it authenticated them);
  // a token stands for itself. Neither: std::nullopt.
  std::optional<ApiToken> Authenticate(const httplib::Request& req) const {
    if (auto user = proxy_.UserOf(req)) return ApiToken{"", *user, 0, ""};
    std::string secret = BearerToken(req);
    // Without a bearer token, a browser session's cookie (session.h): its
    // token is looked up as a bearer token is, after the CSRF check
    // (kPermissionDenied) of a state-changing request.
    if (secret.empty() && !req.has_header("Authorization")) {
      secret = SessionToken(Sessions(), req.get_header_value("Cookie"),
                            req.method == "GET" || req.method == "HEAD" ? Method::kSafe : Method::kChanging,
                            req.get_header_value(std::string(kCsrfHeader)));
    }
    if (secret.empty()) return std::nullopt;
    return FindApiToken(git_dir_, secret);
  }

  void Drain(const httplib::ContentReader& reader, httplib::Response& res) const {
    ReadBody(reader, res, 0, options_.max_body, [](const char*, std::size_t) {});
  }

  // Reads the body a route takes into \a call; false when the reply (413,
  // 400) is made already.
  bool ReadRequestBody(const Route& route, const httplib::ContentReader& reader, Call& call,
                       std::unique_ptr<TempDir>& upload_dir) const {
    httplib::Response& res = call.response();
    BodyRead read = BodyRead::kComplete;
    std::uint64_t limit = 0;
    if (route.body == Route::Body::kPackage) {
      limit = options_.max_body;
      upload_dir = std::make_unique<TempDir>();
      const std::string name =
          SafeFileName(call.Query("filename").empty() ? "upload.studiopkg" : call.Query("filename"));
      const std::string file = upload_dir->path() + "/" + name;
      std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(file.c_str(), "wbe"), &std::fclose);
      if (!out) throw Error(ErrorCode::kIo, "cannot spool the upload");
      bool written = true;
      read = ReadBody(reader, res, limit, limit, [&](const char* data, std::size_t n) {
        written = written && std::fwrite(data, 1, n, out.get()) == n;
      });
      written = std::fflush(out.get()) == 0 && written;
      if (!written) throw Error(ErrorCode::kIo, "cannot spool the upload");
      call.set_upload(file);
    } else {
      limit = route.body == Route::Body::kJson ? options_.max_json_body : 0;
      std::string text;
      read = ReadBody(reader, res, limit, options_.max_body,
                      [&](const char* data, std::size_t n) { text.append(data, n); });
      if (read == BodyRead::kComplete) {
        call.set_body(ParseBody(text));
        CheckFields(route, call.body());
      }
    }
    if (read == BodyRead::kTooLarge) {
      SetJson(res, 413,
              ErrorBody("too-large", "the request body is larger than " + std::to_string(limit) + " bytes" +
                                         (route.body == Route::Body::kPackage ? " (the server's --max-body)" : "")));
      return false;
    }
    if (read == BodyRead::kBroken) {
      SetJson(res, 400, ErrorBody(ErrorCodeName(ErrorCode::kInvalidArgument), "the request body was cut short"));
      return false;
    }
    return true;
  }

  const ServeOptions& options_;
  std::string git_dir_;
  std::vector<Route> routes_;
  TrustedProxy proxy_;
  std::counting_semaphore<> workers_;
};

// What httplib answers by itself (no route, a malformed request) as JSON.
httplib::Server::HandlerResponse ErrorReply(const ServeOptions& options, const httplib::Request& req,
                                            httplib::Response& res) {
  if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
  switch (res.status) {
    case 404: SetJson(res, 404, ErrorBody("not-found", "no such route: " + req.method + " " + req.path)); break;
    case 413:
      SetJson(res, 413,
              ErrorBody("too-large", "the request body is larger than " + std::to_string(options.max_body) +
                                         " bytes (the server's --max-body)"));
      break;
    case 414: SetJson(res, 414, ErrorBody("too-large", "the request line is too long")); break;
    default:
      SetJson(res, res.status,
              ErrorBody(res.status < 500 ? ErrorCodeName(ErrorCode::kInvalidArgument) : ErrorCodeName(ErrorCode::kIo),
                        "the request could not be served (HTTP " + std::to_string(res.status) + ")"));
  }
  return httplib::Server::HandlerResponse::Handled;
}

// The connection threads and the limits on them are connections.h's.
void Configure(httplib::Server& http, const ServeOptions& options) {
  http.set_read_timeout(options.read_timeout, 0);
  http.set_write_timeout(options.write_timeout, 0);
  http.set_keep_alive_timeout(options.idle_timeout);
  http.set_keep_alive_max_count(100);
  http.set_payload_max_length(options.max_body);
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [&options](const httplib::Request& req, httplib::Response& res) { return ErrorReply(options, req, res); }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    SetJson(res, 500, ErrorBody(ErrorCodeName(ErrorCode::kInternal), "internal error"));
  });
  if (options.log) {
    http.set_logger([&options](const httplib::Request& req, const httplib::Response& res) {
      options.log(req.method + " " + req.path + " " + std::to_string(res.status));
    });
  }
}

}  // namespace

void Serve(const ServeOptions& options, const std::function<void(const std::string& url)>& listening) {
  // Opened once to find the git directory (where the tokens are) and to
  // fail early on a path that is no repository.
  const std::string git_dir = FlowRepository::Open(options.repo, "flowrepo-serve").git_dir();
  std::unique_ptr<httplib::Server> http = MakeGuardedServer(options);
  Configure(*http, options);
  Api api(options, git_dir);
  api.Register(*http);
  RegisterWebPage(*http);

  int port = options.port;
  if (port == 0) {
    port = http->bind_to_any_port(options.host);
  } else if (!http->bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    throw Error(ErrorCode::kIo, "cannot listen on " + options.host + ":" + std::to_string(options.port));
  }
  const bool v6 = options.host.find(':') != std::string::npos;
  listening(std::string(options.tls_cert.empty() ? "http" : "https") + "://" +
            (v6 ? "[" + options.host + "]" : options.host) + ":" + std::to_string(port));

  // Ctrl-C and SIGTERM set the cancel flag; a watcher turns it into stop().
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load() && !CancelRequested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    http->stop();
  });
  const bool served = http->listen_after_bind();
  done = true;
  watcher.join();
  if (!served && !CancelRequested()) throw Error(ErrorCode::kIo, "the server stopped unexpectedly");
}

}  // namespace flowrepo::server
