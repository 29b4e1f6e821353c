#include "support/git_servers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "support/test_support.h"

extern char** environ;

namespace flowrepo::testing {
namespace {

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

void WaitForPort(int port, const std::string& what, const std::string& log) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!Accepts(port)) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error(what + " did not start on port " + std::to_string(port) + ": " + ReadFile(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void MustRun(const std::string& command, const std::string& cwd = ".") {
  RunResult r = Shell(command, cwd);
  if (r.exit_code != 0) throw std::runtime_error(command + " failed: " + r.err);
}

void Append(const std::string& path, const std::string& text) { WriteFile(path, ReadFile(path) + text); }

std::string PercentEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// The git config of a user's machine.
void WriteGitConfig(const std::string& home, const std::string& user, const std::string& more = "") {
  std::filesystem::create_directories(home);
  WriteFile(home + "/.gitconfig", "[user]\n\temail = " + user + "\n\tname = " + user + "\n" + more);
}

// Paths and file:// URLs: the pushing process runs the hook, which believes
// the FLOWREPO_USER it is given (the server is configured to trust it).
class LocalServer : public GitServer {
 public:
  LocalServer(std::string kind, std::string root) : kind_(std::move(kind)), root_(std::move(root)) {}
  std::string name() const override { return kind_; }
  std::string Url(const std::string& repo) const override {
    return (kind_ == "file" ? "file://" : "") + root_ + "/" + repo;
  }
  void AddUser(const std::string& user, const std::string& home) override { WriteGitConfig(home, user); }
  void Start() override {}

 private:
  std::string kind_, root_;
};

// git daemon: anonymous; hooks run with the daemon's environment, whose
// FLOWREPO_USER names the one identity every git:// push has.
class DaemonServer : public GitServer {
 public:
  DaemonServer(std::string root, std::string dir) : root_(std::move(root)), dir_(std::move(dir)), port_(FreePort()) {
    std::filesystem::create_directories(dir_);
  }
  std::string name() const override { return "git"; }
  std::string Url(const std::string& repo) const override {
    return "git://127.0.0.1:" + std::to_string(port_) + "/" + repo;
  }
  void AddUser(const std::string& user, const std::string& home) override { WriteGitConfig(home, user); }
  void Start() override {
    const std::string log = dir_ + "/git-daemon.log";
    process_ = std::make_unique<Background>(
        std::vector<std::string>{"git", "daemon", "--reuseaddr", "--listen=127.0.0.1",
                                 "--port=" + std::to_string(port_), "--base-path=" + root_, "--export-all",
                                 "--enable=receive-pack", root_},
        std::map<std::string, std::string>{{"FLOWREPO_USER", "git-daemon@example.com"}}, log);
    WaitForPort(port_, "git daemon", log);
  }

 private:
  std::string root_, dir_;
  int port_;
  std::unique_ptr<Background> process_;
};

// git http-backend behind lighttpd, TLS from a CA made here, basic
// authentication: the hook sees REMOTE_USER.
class HttpsServer : public GitServer {
 public:
  HttpsServer(std::string root, std::string dir) : root_(std::move(root)), dir_(std::move(dir)), port_(FreePort()) {
    std::filesystem::create_directories(dir_);
    MustRun(
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=flowrepo test CA'"
        " && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost"
        " && printf 'subjectAltName=DNS:localhost\\n' > ext"
        " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.crt"
        " -days 2 -extfile ext && cat server.crt server.key > server.pem",
        dir_);
    WriteFile(dir_ + "/users", "");
  }
  std::string name() const override { return "https"; }
  bool authenticates() const override { return true; }
  std::string Url(const std::string& repo) const override {
    return "https://localhost:" + std::to_string(port_) + "/git/" + repo;
  }
  std::string ca() const { return dir_ + "/ca.pem"; }
  void AddUser(const std::string& user, const std::string& home) override {
    const std::string password = "pw-" + std::to_string(std::hash<std::string>{}(user) % 100000);
    Append(dir_ + "/users", user + ":" + password + "\n");
    WriteGitConfig(
        home, user,
        "[credential]\n\thelper = store --file=" + home + "/.git-credentials\n[http]\n\tsslCAInfo = " + ca() + "\n");
    WriteFile(home + "/.git-credentials",
              "https://" + PercentEncode(user) + ":" + password + "@localhost:" + std::to_string(port_) + "\n");
  }
  void Start() override {
    WriteFile(dir_ + "/lighttpd.conf",
              "server.modules = (\"mod_openssl\", \"mod_auth\", \"mod_authn_file\", \"mod_alias\", \"mod_cgi\", "
              "\"mod_setenv\")\n"
              "server.document-root = \"" +
                  dir_ +
                  "\"\n"
                  "server.bind = \"127.0.0.1\"\nserver.port = " +
                  std::to_string(port_) +
                  "\n"
                  "server.errorlog = \"" +
                  dir_ +
                  "/error.log\"\n"
                  "ssl.engine = \"enable\"\nssl.pemfile = \"" +
                  dir_ +
                  "/server.pem\"\n"
                  "auth.backend = \"plain\"\nauth.backend.plain.userfile = \"" +
                  dir_ +
                  "/users\"\n"
                  "auth.require = (\"/git/\" => (\"method\" => \"basic\", \"realm\" => \"flows\", "
                  "\"require\" => \"valid-user\"))\n"
                  "alias.url = (\"/git\" => \"/usr/lib/git-core/git-http-backend\")\n"
                  "cgi.assign = (\"git-http-backend\" => \"\")\n"
                  "setenv.add-environment = (\"GIT_PROJECT_ROOT\" => \"" +
                  root_ + "\", \"GIT_HTTP_EXPORT_ALL\" => \"1\")\n");
    const std::string log = dir_ + "/lighttpd.log";
    process_ = std::make_unique<Background>(std::vector<std::string>{"lighttpd", "-D", "-f", dir_ + "/lighttpd.conf"},
                                            std::map<std::string, std::string>{}, log);
    WaitForPort(port_, "lighttpd", log + " " + dir_ + "/error.log");
  }

 private:
  std::string root_, dir_;
  int port_;
  std::unique_ptr<Background> process_;
};

// sshd with one key per user; each key's forced command sets GL_USERNAME,
// as gitolite does, and runs git-shell.
class SshServer : public GitServer {
 public:
  SshServer(std::string root, std::string dir) : root_(std::move(root)), dir_(std::move(dir)), port_(FreePort()) {
    std::filesystem::create_directories(dir_);
    MustRun("ssh-keygen -q -t ed25519 -N '' -f host_key", dir_);
    WriteFile(dir_ + "/authorized_keys", "");
  }
  std::string name() const override { return "ssh"; }
  bool authenticates() const override { return true; }
  std::string Url(const std::string& repo) const override {
    const passwd* pw = getpwuid(getuid());
    return "ssh://" + std::string(pw ? pw->pw_name : "root") + "@127.0.0.1:" + std::to_string(port_) + root_ + "/" +
           repo;
  }
  void AddUser(const std::string& user, const std::string& home) override {
    // ssh finds ~/.ssh through the password database, not HOME: each
    // user's git names that user's key and known_hosts, as a shared
    // account would.
    WriteGitConfig(home, user,
                   "[core]\n\tsshCommand = ssh -F none -o BatchMode=yes -o IdentitiesOnly=yes -i " + home +
                       "/.ssh/id_ed25519 -o UserKnownHostsFile=" + home + "/.ssh/known_hosts\n");
    std::filesystem::create_directories(home + "/.ssh");
    MustRun("ssh-keygen -q -t ed25519 -N '' -f " + Quote(home + "/.ssh/id_ed25519"));
    Append(dir_ + "/authorized_keys", "command=\"GL_USERNAME=" + user +
                                          " git-shell -c \\\"$SSH_ORIGINAL_COMMAND\\\"\",no-pty,no-port-forwarding " +
                                          ReadFile(home + "/.ssh/id_ed25519.pub"));
    std::string host_key = ReadFile(dir_ + "/host_key.pub");
    host_key = host_key.substr(0, host_key.rfind(' '));
    WriteFile(home + "/.ssh/known_hosts", "[127.0.0.1]:" + std::to_string(port_) + " " + host_key + "\n");
  }
  void Start() override {
    WriteFile(dir_ + "/sshd_config", "Port " + std::to_string(port_) + "\nListenAddress 127.0.0.1\nHostKey " + dir_ +
                                         "/host_key\nAuthorizedKeysFile " + dir_ +
                                         "/authorized_keys\nPidFile none\nStrictModes no\nUsePAM no\n"
                                         "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                                         "PermitRootLogin prohibit-password\n");
    std::filesystem::create_directories("/run/sshd");  // its privilege separation directory
    const std::string log = dir_ + "/sshd.log";
    process_ = std::make_unique<Background>(
        std::vector<std::string>{"/usr/sbin/sshd", "-D", "-e", "-f", dir_ + "/sshd_config"},
        std::map<std::string, std::string>{}, log);
    WaitForPort(port_, "sshd", log);
  }

 private:
  std::string root_, dir_;
  int port_;
  std::unique_ptr<Background> process_;
};

}  // namespace

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) != 0) {
    close(fd);
    throw std::runtime_error("no free port on 127.0.0.1");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

Background::Background(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                       const std::string& log) {
  std::vector<std::string> vars;
  for (char** e = environ; *e; ++e) vars.emplace_back(*e);
  for (const auto& [k, v] : env) vars.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
}

Background::~Background() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
}

std::unique_ptr<GitServer> MakeGitServer(const std::string& kind, const std::string& root, const std::string& dir) {
  if (kind == "path" || kind == "file") return std::make_unique<LocalServer>(kind, root);
  if (kind == "git") return std::make_unique<DaemonServer>(root, dir);
  if (kind == "https") return std::make_unique<HttpsServer>(root, dir);
  if (kind == "ssh") return std::make_unique<SshServer>(root, dir);
  throw std::invalid_argument("unknown transport " + kind);
}

}  // namespace flowrepo::testing
