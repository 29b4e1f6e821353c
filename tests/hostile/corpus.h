#ifndef FLOWREPO_TESTS_HOSTILE_CORPUS_H_
#define FLOWREPO_TESTS_HOSTILE_CORPUS_H_

// The hostile-input corpus: bad packages and bad flow folders, generated
// from one good package at test time (nothing binary is checked in). Each
// case says what flowrepo must answer: the exit status from
// docs/exit-codes.md and a piece of the one-line error naming the problem.
// tests/cli/hostile_test.cc runs every case through the binary; setting
// FLOWREPO_HOSTILE_DUMP=DIR there also writes the corpus to DIR (for
// fuzzing seeds or a look with other tools).

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace flowrepo::testing::hostile {

/// The entries of a package in order: (name, decompressed bytes).
using Entries = std::vector<std::pair<std::string, std::string>>;

struct HostileCase {
  enum class Kind {
    kPackage,    ///< `import FILE` and `validate FILE`
    kDirectory,  ///< a directory named like a package: same commands
    kFolder,     ///< a flow folder tree: `flow put DRAFT DIR` and `validate DIR`
  };
  std::string name;  ///< "entry-name/dot-dot": group/variant
  Kind kind = Kind::kPackage;
  std::string bytes;                         ///< kPackage: the file
  std::string file_name = "evil.studiopkg";  ///< kPackage, kDirectory
  std::map<std::string, std::string> files;  ///< kFolder: relative path -> bytes
  std::string expect;                        ///< in the error line of import / flow put
  std::string expect_validate;               ///< in the error line of validate; empty: expect
  std::string where;                         ///< also in every error line when set (the file)
  int exit_code = 4;                         ///< of import / flow put
  int validate_exit = 1;                     ///< of validate
};

/// The entries of the zip \a bytes, read with libzip. Throws on failure.
Entries ReadEntries(const std::string& bytes);

/// \a good (a package) with entry \a name holding \a data and the manifest
/// resealed (sha256 and size of every listed file recomputed). \a stored:
/// no compression, so that big repetitive data stays under the ratio limit.
enum class Compression { kDeflate, kStore };
std::string WithEntry(const std::string& good, const std::string& name, const std::string& data,
                      Compression compression = Compression::kDeflate);

/// Every case, made from \a good: the bytes of a valid package of the
/// fixture flows (flowrepo export --all of fixtures/flows).
std::vector<HostileCase> MakeCorpus(const std::string& good);

/// Flow folders and packages whose flows use each other in a cycle
/// (a -> b -> a, and a flow using itself): valid input that every
/// dependency walk must finish on. Folder path -> bytes.
std::map<std::string, std::string> CyclicFlowFolders();

}  // namespace flowrepo::testing::hostile

#endif  // FLOWREPO_TESTS_HOSTILE_CORPUS_H_
