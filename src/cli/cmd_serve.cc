// flowrepo serve: the HTTP API (src/server/, docs/server.md), and the API
// tokens it accepts (serve token add|revoke|list).

#include <signal.h>

#include <charconv>

#include "cli/cli.h"
#include "flowrepo/tokens.h"
#include "server/server.h"

namespace flowrepo::cli {
namespace {

// "HOST:PORT", "[V6]:PORT" or ":PORT" (127.0.0.1).
void ParseListen(const std::string& text, server::ServeOptions& options) {
  const auto colon = text.rfind(':');
  std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
  const std::string port = colon == std::string::npos ? text : text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int n = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || n < 0 || n > 65535) {
    throw Error(ErrorCode::kInvalidArgument, "invalid --listen '" + text + "': use HOST:PORT (PORT 0: any free port)");
  }
  options.host = host.empty() ? "127.0.0.1" : host;
  options.port = n;
}

Json TokenJson(const ApiToken& t) {
  return {{"id", t.id}, {"user", t.user}, {"created", t.created}, {"created_by", t.created_by}};
}

void AddTokenCommands(CLI::App* serve, Globals& g) {
  auto* token = serve->add_subcommand("token",
                                      "API tokens the server accepts (admin of the workspace, -w, only).\n"
                                      "Each names a user whose roles its requests have; only its hash is kept.");
  token->require_subcommand(1);
  static std::string who;
  auto* add = token->add_subcommand("add",
                                    "Make a token for USER and print it, once.\n"
                                    "Example: flowrepo serve token add bob@example.com");
  add->add_option("USER", who, "the user the token acts as")->required();
  AddJsonFlag(add, g);
  add->callback([&g] {
    auto repo = OpenRepository(g);
    const NewApiToken t = AddApiToken(repo, g.workspace, who);
    Json out = TokenJson(t.token);
    out["token"] = t.secret;
    Emit(g, out, [&](std::ostream& os) {
      os << "Token " << t.token.id << " for '" << t.token.user << "':\n"
         << t.secret << "\n"
         << "It is shown this once; send it as 'Authorization: Bearer TOKEN'.\n";
    });
  });

  auto* revoke = token->add_subcommand("revoke",
                                       "Revoke the token with id ID, or every token of USER.\n"
                                       "Example: flowrepo serve token revoke bob@example.com");
  revoke->add_option("USER_OR_ID", who, "a user, or a token id as token list shows it")->required();
  AddJsonFlag(revoke, g);
  revoke->callback([&g] {
    auto repo = OpenRepository(g);
    const auto removed = RevokeApiTokens(repo, g.workspace, who);
    Json out = Json::array();
    for (const auto& t : removed) out.push_back(TokenJson(t));
    Emit(g, Json{{"revoked", out}}, [&](std::ostream& os) {
      for (const auto& t : removed) os << "Revoked token " << t.id << " of '" << t.user << "'\n";
    });
  });

  auto* list = token->add_subcommand("list", "List tokens (never the tokens themselves).");
  AddJsonFlag(list, g);
  list->callback([&g] {
    auto repo = OpenRepository(g);
    const auto tokens = ListApiTokens(repo, g.workspace);
    Json out = Json::array();
    for (const auto& t : tokens) out.push_back(TokenJson(t));
    Emit(g, out, [&](std::ostream& os) {
      for (const auto& t : tokens) {
        os << t.id << "\t" << t.user << "\t" << FormatTime(t.created) << "\tby " << t.created_by << "\n";
      }
      if (tokens.empty()) os << "(no tokens)\n";
    });
  });
}

}  // namespace

void AddServeCommand(CLI::App& app, Globals& g) {
  static server::ServeOptions options;
  static std::string listen = "127.0.0.1:8080";
  static bool quiet = false;
  auto* cmd = app.add_subcommand("serve",
                                 "Serve the repository's HTTP API (docs/server.md) until Ctrl-C or SIGTERM.\n"
                                 "Requests carry an API token ('serve token add') and act with its user's roles.\n"
                                 "The first line printed is 'listening on URL'.\n"
                                 "Example: flowrepo -C /srv/flows.git serve --listen 127.0.0.1:8080\n"
                                 "         flowrepo serve token add bob@example.com");
  cmd->add_option("--listen", listen, "HOST:PORT to listen on (default 127.0.0.1:8080; port 0: any free port)");
  cmd->add_option("--threads", options.threads, "requests handled at once, once read (default 8)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--max-connections", options.max_connections,
                  "connections open at once; more are answered 503 (default 64)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--max-body", options.max_body,
                  "limit: bytes of a request body, an uploaded package (default 1 GiB, the package limit)");
  cmd->add_option("--max-json-body", options.max_json_body, "limit: bytes of a JSON request body (default 1 MiB)");
  cmd->add_option("--read-timeout", options.read_timeout, "seconds a read from a client may wait (default 30)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--header-timeout", options.header_timeout,
                  "seconds a request's line and headers may take from its first byte (default 10)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--write-timeout", options.write_timeout, "seconds a write to a client may wait (default 30)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--idle-timeout", options.idle_timeout, "seconds an idle connection is kept open (default 5)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--trust-header", options.trust_header,
                  "a header naming the user, believed only from --trust-proxy addresses (no token needed)");
  cmd->add_option("--trust-proxy", options.trust_proxies,
                  "an address (or comma list) of the reverse proxy that sets --trust-header; repeatable");
  cmd->add_option("--tls-cert", options.tls_cert, "serve HTTPS with this certificate chain (PEM)");
  cmd->add_option("--tls-key", options.tls_key, "the certificate's private key (PEM)");
  cmd->add_flag("--quiet", quiet, "no line per request on stderr");
  AddTokenCommands(cmd, g);
  cmd->callback([&g, cmd] {
    if (cmd->got_subcommand("token")) return;
    ParseListen(listen, options);
    options.repo = g.repo;
    // One write per line: requests on several threads do not interleave.
    if (!quiet) options.log = [](const std::string& line) { std::cerr << (line + "\n") << std::flush; };
    signal(SIGPIPE, SIG_IGN);  // a client gone mid-reply is an error return, not death
    server::Serve(options, [](const std::string& url) { std::cout << "listening on " << url << std::endl; });
  });
}

}  // namespace flowrepo::cli
