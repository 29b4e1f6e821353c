#ifndef FLOWREPO_DIGEST_H_
#define FLOWREPO_DIGEST_H_

// Message digests by OpenSSL's libcrypto (loaded anyway: libzip and
// libgit2 link it), which picks the CPU's SHA instructions where it has
// them.

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "owned.h"

namespace flowrepo {

/// An incremental digest: Update any number of times, then Finish once.
class Digest {
 public:
  static Digest Sha1() { return Digest(EVP_sha1()); }
  static Digest Sha256() { return Digest(EVP_sha256()); }

  void Update(std::string_view data);
  /// The digest's raw bytes; the object must not be updated afterwards.
  std::string Finish();
  /// Finish() in lower-case hex.
  std::string HexFinish();

 private:
  explicit Digest(const EVP_MD* type);

  std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>> context_;
};

/// Lower-case hex SHA-256 of \a data.
std::string Sha256Hex(std::string_view data);

}  // namespace flowrepo

#endif  // FLOWREPO_DIGEST_H_
