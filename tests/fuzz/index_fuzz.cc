// libFuzzer target: the git index reader of `validate --staged`, on any
// bytes. A damaged index must end in flowrepo::Error (never a crash, an
// over-read or an allocation sized by a count in the file), and an index
// read without error must list its entries sorted as git writes them and
// compare with an empty tree as all added.

#include <cstddef>
#include <cstdint>
#include <string>

#include "flowrepo/error.h"
#include "git/index_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    flowrepo::git::IndexFile index =
        flowrepo::git::IndexFile::FromBytes(std::string(reinterpret_cast<const char*>(data), size), "index");
    std::size_t stage0 = 0;
    for (const auto& e : index.entries()) stage0 += e.stage == 0;
    auto changes = index.ChangesAgainst(nullptr, nullptr);
    for (const auto& c : changes) {
      if (c.deleted) __builtin_trap();  // nothing can be deleted from an empty tree
    }
    if (changes.size() > index.entries().size() || stage0 > index.entries().size()) __builtin_trap();
  } catch (const flowrepo::Error&) {
  }
  return 0;
}
