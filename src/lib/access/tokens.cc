// API tokens of `flowrepo serve`: the store and the lookup.
//
// A token is "frt_" and the hex of 32 bytes from RAND_bytes; the store
// keeps its SHA-256 (hex), its id (the hash's first 12 digits: the hash is
// no secret, and 48 bits keep ids of one repository apart), its user and
// when and by whom it was made. Writers (add, revoke) hold an exclusive
// flock on <git dir>/flowrepo/serve-tokens.lock while they read, change
// and replace the store (temporary file, fsync, rename), so two adds at
// once both land and a reader sees the old or the new file, never half of
// one. A lock held by a process that died is released by the kernel.
// Lookups read the file on every call: a revoked token stops working with
// the next request.

#include "flowrepo/tokens.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <tuple>

#include "digest.h"
#include "file_io.h"
#include "flowrepo/error.h"
#include "json/json_io.h"
#include "repo/repository_impl.h"

namespace flowrepo {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSchema = "flowrepo/serve-tokens@1";
constexpr std::string_view kPrefix = "frt_";
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kIdDigits = 12;

fs::path StoreDir(const std::string& git_dir) { return fs::path(git_dir) / "flowrepo"; }
fs::path StorePath(const std::string& git_dir) { return StoreDir(git_dir) / "serve-tokens.json"; }

std::string ErrnoText() { return std::strerror(errno); }

// A token as stored: the public part and the hash.
struct StoredToken {
  ApiToken token;
  std::string sha256;
};

std::vector<StoredToken> ReadStore(const std::string& git_dir) {
  const fs::path path = StorePath(git_dir);
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  const std::string text = ReadWholeFile(path);
  Json doc = ParseJson(text, path.string());
  if (!doc.is_object() || StringOr(doc, "schema") != kSchema || !doc.contains("tokens") || !doc["tokens"].is_array()) {
    throw Error(ErrorCode::kInvalidData, "'" + path.string() + "' is not a " + std::string(kSchema) + " document");
  }
  std::vector<StoredToken> out;
  for (const auto& t : doc["tokens"]) {
    StoredToken s;
    s.token.id = StringOr(t, "id");
    s.token.user = StringOr(t, "user");
    s.token.created_by = StringOr(t, "created_by");
    s.token.created = t.contains("created") && t["created"].is_number_integer() ? t["created"].get<std::int64_t>() : 0;
    s.sha256 = StringOr(t, "sha256");
    if (s.token.id.empty() || s.token.user.empty() || s.sha256.size() != 64) {
      throw Error(ErrorCode::kInvalidData, "'" + path.string() + "' holds a damaged token entry");
    }
    out.push_back(std::move(s));
  }
  return out;
}

// Writes \a tokens as the store: a temporary file (0600) renamed over it.
void WriteStore(const std::string& git_dir, const std::vector<StoredToken>& tokens) {
  Json list = Json::array();
  for (const auto& s : tokens) {
    list.push_back({{"id", s.token.id},
                    {"user", s.token.user},
                    {"sha256", s.sha256},
                    {"created", s.token.created},
                    {"created_by", s.token.created_by}});
  }
  const std::string text = CanonicalJson(Json{{"schema", kSchema}, {"tokens", list}});
  const fs::path path = StorePath(git_dir);
  const fs::path temp = path.string() + ".tmp";
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(ErrorCode::kIo, "cannot write '" + temp.string() + "': " + ErrnoText());
  bool ok = fchmod(fd, 0600) == 0;
  for (std::size_t done = 0; ok && done < text.size();) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ok && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = ErrnoText();
    unlink(temp.c_str());
    throw Error(ErrorCode::kIo, "cannot write '" + path.string() + "': " + why);
  }
}

// Holds the store's lock for as long as it lives.
class StoreLock {
 public:
  explicit StoreLock(const std::string& git_dir) {
    std::error_code ec;
    fs::create_directories(StoreDir(git_dir), ec);
    const fs::path path = StoreDir(git_dir) / "serve-tokens.lock";
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw Error(ErrorCode::kIo, "cannot open '" + path.string() + "': " + ErrnoText());
    while (flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const std::string why = ErrnoText();
      close(fd_);
      throw Error(ErrorCode::kIo, "cannot lock '" + path.string() + "': " + why);
    }
  }
  ~StoreLock() { close(fd_); }  // closing releases the lock
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;

 private:
  int fd_ = -1;
};

std::string Hex(const unsigned char* bytes, std::size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out;
}

std::string NewSecret() {
  unsigned char bytes[kSecretBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw Error(ErrorCode::kIo, "no random bytes for a token");
  return std::string(kPrefix) + Hex(bytes, sizeof bytes);
}

std::vector<ApiToken> Public(const std::vector<StoredToken>& stored) {
  std::vector<ApiToken> out;
  for (const auto& s : stored) out.push_back(s.token);
  std::stable_sort(out.begin(), out.end(), [](const ApiToken& a, const ApiToken& b) {
    return std::tie(a.user, a.created) < std::tie(b.user, b.created);
  });
  return out;
}

}  // namespace

NewApiToken AddApiToken(FlowRepository& repo, std::string_view workspace, std::string_view user) {
  FlowRepository::Impl& impl = ImplOf(repo);
  impl.RequireRole(workspace, Role::kAdmin, "to manage API tokens");
  RequireUserName(user);
  StoreLock lock(repo.git_dir());
  std::vector<StoredToken> tokens = ReadStore(repo.git_dir());
  NewApiToken made;
  StoredToken stored;
  do {  // a clash of 48-bit ids is unlikely; never keep two alike
    made.secret = NewSecret();
    stored.sha256 = Sha256Hex(made.secret);
    stored.token.id = stored.sha256.substr(0, kIdDigits);
  } while (
      std::any_of(tokens.begin(), tokens.end(), [&](const StoredToken& t) { return t.token.id == stored.token.id; }));
  stored.token.user = std::string(user);
  stored.token.created = static_cast<std::int64_t>(std::time(nullptr));
  stored.token.created_by = repo.user();
  tokens.push_back(stored);
  WriteStore(repo.git_dir(), tokens);
  made.token = stored.token;
  return made;
}

std::vector<ApiToken> RevokeApiTokens(FlowRepository& repo, std::string_view workspace, std::string_view user_or_id) {
  ImplOf(repo).RequireRole(workspace, Role::kAdmin, "to manage API tokens");
  StoreLock lock(repo.git_dir());
  std::vector<StoredToken> tokens = ReadStore(repo.git_dir());
  std::vector<StoredToken> removed, kept;
  for (auto& t : tokens) {
    (t.token.id == user_or_id || t.token.user == user_or_id ? removed : kept).push_back(std::move(t));
  }
  if (removed.empty()) {
    throw Error(ErrorCode::kNotFound, "no API token with id or user '" + std::string(user_or_id) + "'");
  }
  WriteStore(repo.git_dir(), kept);
  return Public(removed);
}

std::vector<ApiToken> ListApiTokens(const FlowRepository& repo, std::string_view workspace) {
  ImplOf(repo).RequireRole(workspace, Role::kAdmin, "to manage API tokens");
  return Public(ReadStore(repo.git_dir()));
}

std::optional<ApiToken> FindApiToken(const std::string& git_dir, std::string_view secret) {
  const std::vector<StoredToken> tokens = ReadStore(git_dir);
  const std::string hash = Sha256Hex(secret);
  std::optional<ApiToken> found;
  // Every entry is compared, whatever matched: the time taken does not
  // tell how many or which entries a guess came close to.
  for (const auto& t : tokens) {
    if (CRYPTO_memcmp(t.sha256.data(), hash.data(), hash.size()) == 0) found = t.token;
  }
  return found;
}

}  // namespace flowrepo
