#include "git/transport.h"

#include <fcntl.h>
#include <git2/sys/transport.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "flowrepo/error.h"
#include "git/handles.h"
#include "process.h"

namespace flowrepo::git {
namespace {

using RemotePtr = std::unique_ptr<git_remote, Free<git_remote_free>>;

// --- file:// as git does it ----------------------------------------------
//
// libgit2's own transport for paths and file:// URLs writes into the other
// repository directly: no receive-pack, so no hooks and no compare-and-
// swap of refs. A server repository reached by path must enforce its hook
// like any other, so flowrepo registers its own file:// transport, which
// runs `git upload-pack` / `git receive-pack` on the path and speaks the
// smart protocol with it over pipes, as git does for local URLs.

struct ChildStream {
  git_smart_subtransport_stream base;  // first: libgit2 sees only this
  pid_t pid = -1;
  int to_child = -1;
  int from_child = -1;
};

struct ChildSubtransport {
  git_smart_subtransport base;  // first
  ChildStream* stream = nullptr;
};

int ChildRead(git_smart_subtransport_stream* s, char* buffer, std::size_t size, std::size_t* done) {
  auto* self = reinterpret_cast<ChildStream*>(s);
  for (;;) {
    ssize_t n = read(self->from_child, buffer, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      git_error_set_str(GIT_ERROR_NET, "cannot read from git upload-pack/receive-pack");
      return -1;
    }
    *done = static_cast<std::size_t>(n);
    return 0;
  }
}

int ChildWrite(git_smart_subtransport_stream* s, const char* buffer, std::size_t size) {
  auto* self = reinterpret_cast<ChildStream*>(s);
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old);  // a child that exits early is an error, not a signal
  int rc = 0;
  while (size > 0) {
    ssize_t n = write(self->to_child, buffer, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      git_error_set_str(GIT_ERROR_NET, "git upload-pack/receive-pack stopped reading");
      rc = -1;
      break;
    }
    buffer += n;
    size -= static_cast<std::size_t>(n);
  }
  sigaction(SIGPIPE, &old, nullptr);
  return rc;
}

void ChildFree(git_smart_subtransport_stream* s) {
  auto* self = reinterpret_cast<ChildStream*>(s);
  if (self->to_child >= 0) close(self->to_child);
  if (self->from_child >= 0) close(self->from_child);
  if (self->pid > 0) {
    int status = 0;
    while (waitpid(self->pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  delete self;
}

std::string PathOfFileUrl(std::string_view url) {
  url.remove_prefix(std::string_view("file://").size());
  return std::string(url);
}

ChildStream* StartChild(const char* program, const std::string& path) {
  std::optional<Child> child = flowrepo::StartChild({"git", program, path});
  if (!child) return nullptr;
  auto* stream = new ChildStream;
  stream->base.read = ChildRead;
  stream->base.write = ChildWrite;
  stream->base.free = ChildFree;
  stream->pid = child->pid;
  stream->to_child = child->to_child;
  stream->from_child = child->from_child;
  return stream;
}

int ChildAction(git_smart_subtransport_stream** out, git_smart_subtransport* t, const char* url,
                git_smart_service_t action) {
  auto* self = reinterpret_cast<ChildSubtransport*>(t);
  if (action == GIT_SERVICE_UPLOADPACK_LS || action == GIT_SERVICE_RECEIVEPACK_LS) {
    const char* program = action == GIT_SERVICE_UPLOADPACK_LS ? "upload-pack" : "receive-pack";
    try {
      self->stream = StartChild(program, PathOfFileUrl(url));
    } catch (...) {
      self->stream = nullptr;
    }
    if (!self->stream) {
      git_error_set_str(GIT_ERROR_NET, ("cannot start git " + std::string(program)).c_str());
      return -1;
    }
  }
  if (!self->stream) {
    git_error_set_str(GIT_ERROR_NET, "no git process for this request");
    return -1;
  }
  self->stream->base.subtransport = t;
  *out = &self->stream->base;
  return 0;
}

// The stream is freed by libgit2 (through its free callback) before close.
int ChildClose(git_smart_subtransport* t) {
  reinterpret_cast<ChildSubtransport*>(t)->stream = nullptr;
  return 0;
}

void ChildSubtransportFree(git_smart_subtransport* t) { delete reinterpret_cast<ChildSubtransport*>(t); }

int MakeChildSubtransport(git_smart_subtransport** out, git_transport*, void*) {
  auto* t = new (std::nothrow) ChildSubtransport;
  if (!t) return -1;
  t->base.action = ChildAction;
  t->base.close = ChildClose;
  t->base.free = ChildSubtransportFree;
  *out = &t->base;
  return 0;
}

int MakeFileTransport(git_transport** out, git_remote* owner, void*) {
  static git_smart_subtransport_definition definition = {MakeChildSubtransport, 0, nullptr};
  return git_transport_smart(out, owner, &definition);
}

// A URL with no scheme and no "host:" part is a path.
bool IsPath(std::string_view url) {
  if (url.find("://") != std::string_view::npos) return false;
  auto colon = url.find(':');
  return colon == std::string_view::npos || url.find('/') < colon;
}

std::string AbsoluteFileUrl(const std::string& path, const std::string& base) {
  namespace fs = std::filesystem;
  fs::path p(path);
  if (p.is_relative() && !base.empty()) p = fs::path(base) / p;
  return "file://" + fs::absolute(p).lexically_normal().string();
}

// What the callbacks of one connection share. Callbacks run inside
// libgit2's C frames: they catch everything and report through
// git_error_set_str, never by throwing.
struct Session {
  git_repository* repo = nullptr;
  std::string url;
  const ServerLines* lines = nullptr;
  std::string pending;  // the server's unfinished line

  // HTTP: the answer of `git credential fill`, approved or rejected later.
  std::string credential;
  int userpass_calls = 0;
  // SSH: which sources of keys were offered.
  bool agent_tried = false;
  std::size_t next_key = 0;

  const std::vector<PushUpdate>* updates = nullptr;
  std::string moved;                 // a ref the server had at another value
  std::vector<std::string> refused;  // "<ref>: <reason>"
};

std::string RepoDir(git_repository* repo) {
  const char* work = git_repository_workdir(repo);
  return work ? work : git_repository_path(repo);
}

std::string Home() {
  const char* home = std::getenv("HOME");
  return home ? home : "";
}

// --- credentials ---------------------------------------------------------

std::string CredentialField(const std::string& answer, std::string_view key) {
  std::istringstream in(answer);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == '=') {
      return line.substr(key.size() + 1);
    }
  }
  return "";
}

void TellCredentialHelpers(Session& s, const char* verdict) {
  if (s.credential.empty()) return;
  RunProcess({"git", "-C", RepoDir(s.repo), "credential", verdict}, s.credential + "\n");
  s.credential.clear();
}

int UserPassword(git_credential** out, const char* url, const char* user, Session& s) {
  if (s.userpass_calls++ > 0) {  // asked again: the server refused the last answer
    TellCredentialHelpers(s, "reject");
    git_error_set_str(GIT_ERROR_HTTP, ("authentication failed for '" + std::string(url) + "'").c_str());
    return GIT_EAUTH;
  }
  std::string query = "url=" + std::string(url) + "\n";
  if (user && *user) query += "username=" + std::string(user) + "\n";
  ProcessResult r = RunProcess({"git", "-C", RepoDir(s.repo), "credential", "fill"}, query + "\n");
  std::string name = CredentialField(r.out, "username");
  std::string password = CredentialField(r.out, "password");
  if (r.exit_status != 0 || name.empty()) {
    git_error_set_str(GIT_ERROR_HTTP, ("'" + std::string(url) +
                                       "' asks for a user and password and `git credential fill` gave none "
                                       "(configure a credential helper: git help credentials)")
                                          .c_str());
    return GIT_EAUTH;
  }
  s.credential = r.out;
  return git_credential_userpass_plaintext_new(out, name.c_str(), password.c_str());
}

int SshKey(git_credential** out, const char* user, Session& s) {
  if (!s.agent_tried && std::getenv("SSH_AUTH_SOCK")) {
    s.agent_tried = true;
    return git_credential_ssh_key_from_agent(out, user);
  }
  static const char* const kKeys[] = {"id_ed25519", "id_ecdsa", "id_rsa"};
  namespace fs = std::filesystem;
  while (s.next_key < std::size(kKeys)) {
    fs::path key = fs::path(Home()) / ".ssh" / kKeys[s.next_key++];
    std::error_code ec;
    if (!fs::exists(key, ec)) continue;
    std::string pub = key.string() + ".pub";
    return git_credential_ssh_key_new(out, user, fs::exists(pub, ec) ? pub.c_str() : nullptr, key.c_str(), nullptr);
  }
  git_error_set_str(GIT_ERROR_SSH, ("SSH authentication as '" + std::string(user) + "' failed for '" + s.url +
                                    "': no key from ssh-agent or ~/.ssh/id_{ed25519,ecdsa,rsa} was accepted")
                                       .c_str());
  return GIT_EAUTH;
}

int Credentials(git_credential** out, const char* url, const char* user_from_url, unsigned int allowed,
                void* payload) {
  auto& s = *static_cast<Session*>(payload);
  try {
    const char* user = user_from_url && *user_from_url ? user_from_url : nullptr;
    if (allowed & GIT_CREDENTIAL_SSH_KEY) return SshKey(out, user ? user : "git", s);
    if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) return UserPassword(out, url, user, s);
    if (allowed & GIT_CREDENTIAL_USERNAME) return git_credential_username_new(out, user ? user : "git");
  } catch (...) {
  }
  git_error_set_str(GIT_ERROR_NET, ("no way to authenticate to '" + std::string(url) + "'").c_str());
  return GIT_EAUTH;
}

// --- trust -----------------------------------------------------------------

// The name known_hosts files use for the server of an SSH URL:
// "host" on port 22, "[host]:port" elsewhere.
std::string KnownHostsName(const std::string& url) {
  std::string rest = url;
  std::string port;
  auto scheme = rest.find("://");
  if (scheme != std::string::npos) {
    rest = rest.substr(scheme + 3);
    rest = rest.substr(0, rest.find('/'));
  } else {
    rest = rest.substr(0, rest.find(':'));  // scp-like user@host:path
  }
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (scheme != std::string::npos) {
    auto colon = rest.rfind(':');
    if (colon != std::string::npos && rest.find(']') == std::string::npos) {
      port = rest.substr(colon + 1);
      rest = rest.substr(0, colon);
    }
  }
  return port.empty() || port == "22" ? rest : "[" + rest + "]:" + port;
}

std::string Base64(const char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data), static_cast<int>(size));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

// Whether a known_hosts file lists \a name with key \a key (base64);
// "mismatch" when it lists the name with other keys only.
enum class Known { kNo, kYes, kMismatch };

Known LookUpHost(const std::string& file, const std::string& name, const std::string& key) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return Known::kNo;
  ProcessResult r = RunProcess({"ssh-keygen", "-F", name, "-f", file});
  if (r.exit_status != 0) return Known::kNo;
  Known found = Known::kNo;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string host, type, blob;
    fields >> host >> type >> blob;
    if (blob == key) return Known::kYes;
    found = Known::kMismatch;
  }
  return found;
}

int CheckHostKey(const git_cert_hostkey& cert, Session& s) {
  const std::string name = KnownHostsName(s.url);
  if (!(cert.type & GIT_CERT_SSH_RAW)) {
    git_error_set_str(GIT_ERROR_SSH, ("libgit2 gave no host key for '" + name + "' to check").c_str());
    return GIT_ECERTIFICATE;
  }
  const std::string key = Base64(cert.hostkey, cert.hostkey_len);
  Known verdict = Known::kNo;
  for (const std::string& file : {Home() + "/.ssh/known_hosts", std::string("/etc/ssh/ssh_known_hosts")}) {
    Known k = LookUpHost(file, name, key);
    if (k == Known::kYes) return 0;
    if (k == Known::kMismatch) verdict = k;
  }
  std::string why = verdict == Known::kMismatch
                        ? "the SSH host key of '" + name +
                              "' is not the one in known_hosts: refusing (someone may be intercepting the "
                              "connection; if the key really changed, update ~/.ssh/known_hosts)"
                        : "the SSH host key of '" + name +
                              "' is not in ~/.ssh/known_hosts or /etc/ssh/ssh_known_hosts (connect once "
                              "with ssh, or add it with ssh-keyscan after checking it)";
  git_error_set_str(GIT_ERROR_SSH, why.c_str());
  return GIT_ECERTIFICATE;
}

int CheckCertificate(git_cert* cert, int valid, const char* host, void* payload) {
  auto& s = *static_cast<Session*>(payload);
  try {
    if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
      return CheckHostKey(*reinterpret_cast<git_cert_hostkey*>(cert), s);
    }
    if (valid) return 0;
    git_error_set_str(GIT_ERROR_SSL, ("the TLS certificate of '" + std::string(host ? host : "?") +
                                      "' is not trusted (GIT_SSL_CAINFO or http.sslCAInfo name the "
                                      "certificates to trust, as for git)")
                                         .c_str());
  } catch (...) {
  }
  return GIT_ECERTIFICATE;
}

// Trusted roots as git reads them: the environment, then the config.
void UseConfiguredCertificates(git_repository* repo) {
  std::string file;
  if (const char* env = std::getenv("GIT_SSL_CAINFO")) {
    file = env;
  } else {
    git_config* raw = nullptr;
    if (git_repository_config_snapshot(&raw, repo) == 0) {
      ConfigPtr config(raw);
      git_buf value = GIT_BUF_INIT;
      if (git_config_get_string_buf(&value, config.get(), "http.sslCAInfo") == 0) file.assign(value.ptr, value.size);
      git_buf_dispose(&value);
    }
  }
  if (!file.empty()) git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file.c_str(), nullptr);
}

// --- what the server says -------------------------------------------------

// git's own progress, not a message: "Compressing objects: 100% (44/44),
// done.", "Enumerating objects: 67, done.", "Total 67 (delta 25), ...".
bool IsProgress(std::string_view line) {
  if (line.rfind("Total ", 0) == 0 && line.find("(delta ") != std::string_view::npos) return true;
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  bool counted = line.find("% (") != std::string_view::npos || line.ends_with(", done.");
  return counted && std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon),
                                [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == ' '; });
}

// Complete lines go to the caller; progress (redrawn with '\r', or its
// final line) is dropped.
int Sideband(const char* text, int length, void* payload) {
  auto& s = *static_cast<Session*>(payload);
  try {
    s.pending.append(text, static_cast<std::size_t>(length));
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.pending.size(); ++i) {
      if (s.pending[i] != '\n' && s.pending[i] != '\r') continue;
      std::string_view line = std::string_view(s.pending).substr(start, i - start);
      if (s.pending[i] == '\n' && s.lines && *s.lines && !line.empty() && !IsProgress(line)) (*s.lines)(line);
      start = i + 1;
    }
    s.pending.erase(0, start);
  } catch (...) {
  }
  return 0;
}

void FlushSideband(Session& s) {
  if (!s.pending.empty() && s.lines && *s.lines) (*s.lines)(s.pending);
  s.pending.clear();
}

int PushNegotiation(const git_push_update** updates, std::size_t count, void* payload) {
  auto& s = *static_cast<Session*>(payload);
  for (std::size_t i = 0; i < count; ++i) {
    const git_push_update& u = *updates[i];
    for (const PushUpdate& want : *s.updates) {
      if (want.dst != u.dst_refname) continue;
      // src: the server's current value; dst: the one pushed.
      bool absent = git_oid_is_zero(&u.src);
      bool as_expected = want.expected ? !absent && git_oid_equal(&u.src, &*want.expected) : absent;
      if (!absent && git_oid_equal(&u.src, &u.dst)) as_expected = true;  // the server has it already
      if (!as_expected) {
        s.moved = want.dst;
        git_error_set_str(GIT_ERROR_REFERENCE, ("'" + want.dst + "' changed on the server").c_str());
        return GIT_EMODIFIED;
      }
    }
  }
  return 0;
}

int PushStatus(const char* ref, const char* status, void* payload) {
  auto& s = *static_cast<Session*>(payload);
  try {
    if (status) s.refused.push_back(std::string(ref) + ": " + status);
  } catch (...) {
  }
  return 0;
}

git_remote_callbacks Callbacks(Session& s) {
  git_remote_callbacks callbacks = GIT_REMOTE_CALLBACKS_INIT;
  callbacks.credentials = Credentials;
  callbacks.certificate_check = CheckCertificate;
  callbacks.sideband_progress = Sideband;
  callbacks.push_negotiation = PushNegotiation;
  callbacks.push_update_reference = PushStatus;
  callbacks.payload = &s;
  return callbacks;
}

// \a remote is a configured remote's name, or a URL or path. The remote is
// opened anonymously by its URL (only the refspecs the caller gives count),
// a path as a file:// URL, so that it goes through receive-pack.
RemotePtr OpenRemote(git_repository* repo, const std::string& remote, Session& s) {
  int rc = git_transport_register("file", MakeFileTransport, nullptr);  // the scheme, without "://"
  if (rc < 0 && rc != GIT_EEXISTS) Check(rc, "register the file:// transport");
  std::string url = remote;
  git_remote* raw = nullptr;
  if (git_remote_lookup(&raw, repo, remote.c_str()) == 0) {
    RemotePtr named(raw);
    url = git_remote_url(named.get()) ? git_remote_url(named.get()) : "";
  }
  RequireNoPasswordInUrl(url);
  if (IsPath(url)) url = AbsoluteFileUrl(url, RepoDir(repo));
  Check(git_remote_create_anonymous(&raw, repo, url.c_str()), "open remote '" + remote + "'");
  s.repo = repo;
  s.url = url;
  UseConfiguredCertificates(repo);
  return RemotePtr(raw);
}

[[noreturn]] void ThrowRemote(const std::string& action, const std::string& url) {
  const git_error* last = git_error_last();
  std::string detail = last && last->message ? last->message : "unknown error";
  throw Error(ErrorCode::kRemote, action + " '" + url + "': " + detail);
}

git_strarray Specs(std::vector<char*>& storage) { return {storage.data(), storage.size()}; }

}  // namespace

void RequireNoPasswordInUrl(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return;
  std::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find('/'));
  auto at = authority.rfind('@');
  if (at != std::string_view::npos && authority.substr(0, at).find(':') != std::string_view::npos) {
    throw Error(ErrorCode::kInvalidArgument,
                "the remote URL carries a password: remove it and let a git credential helper supply it "
                "(git help credentials)");
  }
}

std::string UrlToRecord(const std::string& url) {
  return IsPath(url) ? std::filesystem::absolute(url).lexically_normal().string() : url;
}

void Fetch(git_repository* repo, const std::string& remote, const std::vector<std::string>& refspecs,
           const ServerLines& lines) {
  Session s;
  s.lines = &lines;
  RemotePtr handle = OpenRemote(repo, remote, s);
  std::vector<char*> storage;
  for (const auto& spec : refspecs) storage.push_back(const_cast<char*>(spec.c_str()));
  git_strarray specs = Specs(storage);
  git_fetch_options options = GIT_FETCH_OPTIONS_INIT;
  options.callbacks = Callbacks(s);
  options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  options.update_fetchhead = 0;
  int rc = git_remote_fetch(handle.get(), &specs, &options, "flowrepo: fetch");
  FlushSideband(s);
  if (rc < 0) {
    TellCredentialHelpers(s, "reject");
    ThrowRemote("cannot fetch from", s.url);
  }
  TellCredentialHelpers(s, "approve");
}

void Push(git_repository* repo, const std::string& remote, const std::vector<PushUpdate>& updates,
          const ServerLines& lines) {
  Session s;
  s.lines = &lines;
  s.updates = &updates;
  RemotePtr handle = OpenRemote(repo, remote, s);
  // Forced: the compare-and-swap is ours (PushNegotiation, and the old
  // value receive-pack checks), not libgit2's fast-forward test, which
  // needs the server's objects here.
  std::vector<std::string> texts;
  for (const auto& u : updates) texts.push_back("+" + u.src + ":" + u.dst);
  std::vector<char*> storage;
  for (auto& t : texts) storage.push_back(t.data());
  git_strarray specs = Specs(storage);
  git_push_options options = GIT_PUSH_OPTIONS_INIT;
  options.callbacks = Callbacks(s);
  int rc = git_remote_push(handle.get(), &specs, &options);
  FlushSideband(s);
  if (!s.moved.empty()) {
    throw Error(ErrorCode::kConflict, "'" + s.moved + "' changed on the server '" + s.url + "' meanwhile");
  }
  if (rc < 0) {
    TellCredentialHelpers(s, "reject");
    ThrowRemote("cannot push to", s.url);
  }
  TellCredentialHelpers(s, "approve");
  if (!s.refused.empty()) {
    std::string first = s.refused.front();
    // receive-pack's words for losing a race to another push of the ref.
    for (const char* race : {"failed to lock", "cannot lock ref", "failed to update ref", "stale info"}) {
      if (first.find(race) != std::string::npos) {
        throw Error(ErrorCode::kConflict, "the server '" + s.url + "' refused " + first + " (another push won)");
      }
    }
    throw Error(ErrorCode::kRemote, "the server '" + s.url + "' refused " + first, s.refused);
  }
}

}  // namespace flowrepo::git
