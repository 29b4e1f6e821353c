#include "digest.h"

#include "flowrepo/error.h"

namespace flowrepo {

Digest::Digest(const EVP_MD* type) : context_(EVP_MD_CTX_new()) {
  if (!context_ || EVP_DigestInit_ex(context_.get(), type, nullptr) != 1) {
    throw Error(ErrorCode::kInternal, "cannot start a digest");
  }
}

void Digest::Update(std::string_view data) {
  if (EVP_DigestUpdate(context_.get(), data.data(), data.size()) != 1) {
    throw Error(ErrorCode::kInternal, "cannot update a digest");
  }
}

std::string Digest::Finish() {
  unsigned char bytes[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_.get(), bytes, &length) != 1) {
    throw Error(ErrorCode::kInternal, "cannot finish a digest");
  }
  return std::string(reinterpret_cast<const char*>(bytes), length);
}

std::string Digest::HexFinish() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : Finish()) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 0x0f]);
  }
  return hex;
}

std::string Sha256Hex(std::string_view data) {
  Digest digest = Digest::Sha256();
  digest.Update(data);
  return digest.HexFinish();
}

}  // namespace flowrepo
