#ifndef FLOWREPO_PACKAGE_SHA256_H_
#define FLOWREPO_PACKAGE_SHA256_H_

// SHA-256 (FIPS 180-4) for package file hashes; no dependency offers one.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace flowrepo {

class Sha256 {
 public:
  /// How blocks are hashed: portable C++, or the x86 SHA extensions (five
  /// times faster; most x86 CPUs since 2017 have them).
  enum class Engine { kPortable, kShaExtensions };
  /// The fastest engine this CPU runs.
  static Engine Fastest();

  explicit Sha256(Engine engine = Fastest());
  void Update(std::string_view data);
  /// Lower-case hex digest; the object must not be updated afterwards.
  std::string HexDigest();

 private:
  void Blocks(const unsigned char* p, std::size_t count);

  Engine engine_;
  std::array<std::uint32_t, 8> h_;
  std::array<unsigned char, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;
};

/// Lower-case hex SHA-256 of \a data.
std::string Sha256Hex(std::string_view data);

}  // namespace flowrepo

#endif  // FLOWREPO_PACKAGE_SHA256_H_
