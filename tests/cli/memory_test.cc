// Peak memory of reading a package, measured on the flowrepo binary: the
// bound docs/reliability.md documents ("Memory") must hold whatever the
// package holds within the limits. Packages are made of documents that are
// cheap to send and costly to parse (arrays of empty objects, arrays and
// strings: about 19 bytes of memory per byte of text once parsed, and six
// times as long in canonical form), with limits lowered so that the test
// takes a second, not a minute.

#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "hostile/corpus.h"
#include "json/json_io.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::Flowrepo;
using testing::Quote;
using testing::RunResult;
using testing::TempDir;

constexpr std::uint64_t kMiB = 1u << 20;

struct Measured {
  int exit_code = -1;
  std::uint64_t max_rss = 0;  ///< bytes
};

// Runs flowrepo with \a args in \a cwd, output to /dev/null, and reads its
// peak resident memory from wait4. Through a small parent (python3): a
// process spawned by this one would start with this one's peak (vfork
// shares the memory map, and exec keeps the high-water mark), and the
// test process is large after other tests have run in it.
Measured RunMeasured(const std::vector<std::string>& args, const std::string& cwd) {
  std::string command =
      "python3 -c 'import os, sys\n"
      "pid = os.fork()\n"
      "if pid == 0:\n"
      "    null = os.open(\"/dev/null\", os.O_WRONLY)\n"
      "    os.dup2(null, 1)\n"
      "    os.dup2(null, 2)\n"
      "    os.execv(sys.argv[1], sys.argv[1:])\n"
      "_, status, usage = os.wait4(pid, 0)\n"
      "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)' " +
      Quote(FLOWREPO_BINARY) + " --user alice@example.com -C " + Quote(cwd);
  for (const auto& a : args) command += " " + Quote(a);
  RunResult r = testing::Shell(command, cwd);
  Measured m;
  std::istringstream out(r.out);
  std::uint64_t kib = 0;
  if (out >> m.exit_code >> kib) m.max_rss = kib * 1024;
  return m;
}

// A valid flow whose transform node carries \a bytes of costly JSON.
std::string CostlyFlow(std::size_t bytes, std::mt19937& rng) {
  static const char* kTokens[] = {"{}", "[]", "\"\"", "0", "[0]", "{\"a\":0}"};
  std::string data = "[";
  while (data.size() < bytes) {
    if (data.size() > 1) data += ",";
    data += kTokens[rng() % 6];
  }
  data += "]";
  return R"({"edges":[{"from":"start","to":"x"},{"from":"x","to":"end"}],"mode":"sync","nodes":[)"
         R"({"id":"start","type":"start"},{"config":{"data":)" +
         data + R"(},"id":"x","type":"transform"},{"id":"end","type":"end"}]})";
}

class PackageMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Flowrepo("--user alice@example.com init source", dir_.path()).exit_code, 0);
    const std::string source = dir_ / "source";
    ASSERT_EQ(
        Flowrepo("--user alice@example.com flow put --draft initial " + Quote(testing::SourceDir() + "/fixtures/flows"),
                 source)
            .exit_code,
        0);
    ASSERT_EQ(Flowrepo("--user alice@example.com publish --draft initial -m first", source).exit_code, 0);
    RunResult r = Flowrepo("--user alice@example.com export --all -o " + Quote(dir_ / "good.studiopkg"), source);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(Flowrepo("--user alice@example.com init target", dir_.path()).exit_code, 0);
    target_ = dir_ / "target";
    good_ = testing::ReadFile(dir_ / "good.studiopkg");
  }

  // The good package with every flow definition replaced by a costly one
  // of \a bytes.
  std::string CostlyPackage(std::size_t bytes) {
    std::mt19937 rng(11);
    std::string package = good_;
    for (const auto& [name, data] : testing::hostile::ReadEntries(good_)) {
      if (name.size() > 21 && name.substr(name.size() - 21) == "/flow_definition.json") {
        package = testing::hostile::WithEntry(package, name, CostlyFlow(bytes, rng));
      }
    }
    const std::string path = dir_ / ("costly-" + std::to_string(bytes) + ".studiopkg");
    testing::WriteFile(path, package);
    return path;
  }

  // import --dry-run of \a package with the entry and total limits given.
  Measured Import(const std::string& package, std::uint64_t entry, std::uint64_t total) {
    return RunMeasured({"import", "--dry-run", package, "--as-new", "--max-entry-bytes", std::to_string(entry),
                        "--max-bytes", std::to_string(total)},
                       target_);
  }

  TempDir dir_;
  std::string target_;
  std::string good_;
};

TEST_F(PackageMemoryTest, ReadingAPackageStaysWithinTheDocumentedBound) {
  const std::uint64_t entry = 1 * kMiB, total = 8 * kMiB;
  // The bound of docs/reliability.md: the decompressed entries (at most the
  // total limit), the canonical documents of an import (the same), the
  // parse budget (four times the entry limit), on top of what the process
  // takes for a package of nothing; plus 16 MiB for the allocator's and
  // the libraries' slack.
  const Measured base = Import(dir_ / "good.studiopkg", entry, total);
  ASSERT_EQ(base.exit_code, 0);
  const std::uint64_t bound = base.max_rss + 2 * total + 4 * entry + 16 * kMiB;

  // Six flows of 90 KiB each: every document fits in the parse budget; the
  // package is imported.
  const Measured fits = Import(CostlyPackage(90 * 1024), entry, total);
  EXPECT_EQ(fits.exit_code, 0);
  EXPECT_LE(fits.max_rss, bound) << "base " << base.max_rss / kMiB << " MiB";
  // Six flows of 1,000 KiB each, just within the entry limit: parsed, one
  // would take about 19 MiB, and import held them all at once (114 MiB);
  // each is refused at the budget.
  const Measured costly = Import(CostlyPackage(1000 * 1024), entry, total);
  EXPECT_EQ(costly.exit_code, 4);
  EXPECT_LE(costly.max_rss, bound) << "base " << base.max_rss / kMiB << " MiB";
  std::printf("peak memory: base %llu MiB, fitting package %llu MiB, costly package %llu MiB, bound %llu MiB\n",
              static_cast<unsigned long long>(base.max_rss / kMiB),
              static_cast<unsigned long long>(fits.max_rss / kMiB),
              static_cast<unsigned long long>(costly.max_rss / kMiB), static_cast<unsigned long long>(bound / kMiB));
}

}  // namespace
}  // namespace flowrepo
