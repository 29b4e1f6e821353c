// The hostile corpus (tests/hostile/corpus.cc) through the flowrepo binary.
// Every case runs `import` (or `flow put` for flow folders), `import --json`
// and `validate` against a repository, and each command must:
//
// - exit with the status the case names (docs/exit-codes.md);
// - print exactly one line on stderr, "flowrepo: error: ...", naming the
//   problem (the case gives a piece of it);
// - write nothing: the same refs, the same files in the repository (names,
//   sizes and times, .git/objects included), `git fsck --full` clean, no
//   new file anywhere in the test's directory (the tools' TMPDIR is inside
//   it) and no file named evil* in /tmp, $TMPDIR or next to it;
// - finish in bounded time (bombs and 100,000-level JSON included).

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "hostile/corpus.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

namespace fs = std::filesystem;
using testing::Quote;
using testing::RunResult;
using testing::Shell;
using testing::TempDir;
using testing::hostile::HostileCase;

constexpr char kUser[] = "alice@example.com";
constexpr double kTimeLimitSeconds = 10;

// Every file and directory below \a root (but \a skip): path -> size and
// modification time. Symlinks are listed, not followed.
std::map<std::string, std::string> Listing(const std::string& root, const std::string& skip = "") {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string path = it->path().string();
    if (!skip.empty() && (path == skip || path.rfind(skip + "/", 0) == 0)) {
      it.disable_recursion_pending();
      continue;
    }
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    bool dir = S_ISDIR(st.st_mode);
    out[path] = dir ? "dir"
                    : std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
                          std::to_string(st.st_mtim.tv_nsec);
  }
  return out;
}

// Files named evil* directly in \a dirs.
std::set<std::string> EvilFiles(const std::vector<std::string>& dirs) {
  std::set<std::string> out;
  for (const auto& dir : dirs) {
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.rfind("evil", 0) == 0 || name.rfind("EVIL", 0) == 0) out.insert(it->path().string());
    }
  }
  return out;
}

// A path for the case's files: its name with '/' kept as folders.
std::string Slug(const std::string& name) {
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-') ? c : '_';
  return out;
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  }
  std::fclose(f);
}

// Materialises \a c below \a dir; returns the path the commands get.
std::string Materialise(const HostileCase& c, const std::string& dir) {
  switch (c.kind) {
    case HostileCase::Kind::kPackage: {
      std::string path = dir + "/" + c.file_name;
      WriteBytes(path, c.bytes);
      return path;
    }
    case HostileCase::Kind::kDirectory: {
      std::string path = dir + "/" + c.file_name;
      fs::create_directories(path);
      return path;
    }
    case HostileCase::Kind::kFolder:
      for (const auto& [rel, bytes] : c.files) WriteBytes(dir + "/in/" + rel, bytes);
      return dir + "/in";
  }
  return dir;
}

class HostileInputTest : public ::testing::Test {
 protected:
  RunResult Run(const std::string& args, const std::string& cwd, double* seconds = nullptr) {
    auto start = std::chrono::steady_clock::now();
    // The tools' temporary files go to a folder inside the test's, in view
    // of the listings below.
    std::string command = "env TMPDIR=" + Quote(dir_ / "tmp") + " ";
    command += FLOWREPO_BINARY;
    command += " --user " + std::string(kUser) + " " + args;
    RunResult r = Shell(command, cwd);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds) *seconds = s;
    return r;
  }

  // A repository of the fixture flows, a package of all of them and an
  // empty target repository.
  void SetUp() override {
    fs::create_directories(dir_ / "tmp");
    ASSERT_EQ(Run("init source", dir_.path()).exit_code, 0);
    ASSERT_EQ(
        Run("flow put --draft initial " + Quote(testing::SourceDir() + "/fixtures/flows"), dir_ / "source").exit_code,
        0);
    ASSERT_EQ(Run("publish --draft initial -m first", dir_ / "source").exit_code, 0);
    RunResult r = Run("export --all -o " + Quote(dir_ / "good.studiopkg"), dir_ / "source");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(Run("init target", dir_.path()).exit_code, 0);
    target_ = dir_ / "target";
    r = Run("import " + Quote(dir_ / "good.studiopkg") + " --dry-run", target_);
    ASSERT_EQ(r.exit_code, 0) << "the good package must import: " << r.err;
    r = Run("validate " + Quote(dir_ / "good.studiopkg"), target_);
    ASSERT_EQ(r.exit_code, 0) << "the good package must validate: " << r.out << r.err;
  }
  TempDir dir_;
  std::string target_;
};

TEST_F(HostileInputTest, EveryCaseIsRefusedWithOneLineAndChangesNothing) {
  std::vector<HostileCase> corpus = testing::hostile::MakeCorpus(testing::ReadFile(dir_ / "good.studiopkg"));
  if (const char* dump = std::getenv("FLOWREPO_HOSTILE_DUMP")) {
    for (const auto& c : corpus) Materialise(c, std::string(dump) + "/" + Slug(c.name));
  }

  const std::string refs = testing::RefsSnapshot(target_);
  const auto repo_files = Listing(target_);
  const std::string parent = fs::path(dir_.path()).parent_path().string();
  const std::vector<std::string> evil_dirs = {"/tmp", parent, dir_ / "tmp", "/"};
  const auto evil_before = EvilFiles(evil_dirs);
  ASSERT_FALSE(repo_files.empty());

  std::size_t commands = 0;
  double slowest = 0;
  std::string slowest_case;
  std::set<std::string> names;
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    const HostileCase& c = corpus[i];
    SCOPED_TRACE("case " + c.name);
    ASSERT_TRUE(names.insert(c.name).second) << "two cases named " << c.name;
    const std::string case_dir = dir_ / ("cases/" + std::to_string(i));
    const std::string input = Materialise(c, case_dir);
    const auto around = Listing(dir_.path(), target_);

    struct Command {
      std::string what, args, expect;
      int exit_code;
      bool json;
    };
    std::vector<Command> runs;
    const std::string expect_validate = c.expect_validate.empty() ? c.expect : c.expect_validate;
    if (c.kind == HostileCase::Kind::kFolder) {
      runs.push_back({"flow put", "flow put --draft hostile " + Quote(input), c.expect, c.exit_code, false});
    } else {
      runs.push_back({"import", "import " + Quote(input), c.expect, c.exit_code, false});
      runs.push_back({"import --json", "--json import " + Quote(input), c.expect, c.exit_code, true});
    }
    runs.push_back({"validate", "validate " + Quote(input), expect_validate, c.validate_exit, false});

    for (const auto& cmd : runs) {
      SCOPED_TRACE(cmd.what);
      double seconds = 0;
      RunResult r = Run(cmd.args, target_, &seconds);
      ++commands;
      if (seconds > slowest) {
        slowest = seconds;
        slowest_case = c.name + " (" + cmd.what + ")";
      }
      EXPECT_LT(seconds, kTimeLimitSeconds);
      EXPECT_EQ(r.exit_code, cmd.exit_code) << r.err;
      // One line, and it names the problem.
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
      EXPECT_EQ(r.err.rfind("flowrepo: error: ", 0), 0u) << r.err;
      EXPECT_FALSE(cmd.expect.empty()) << "no expectation; got: " << r.err;
      EXPECT_NE(r.err.find(cmd.expect), std::string::npos) << "expected '" << cmd.expect << "' in: " << r.err;
      EXPECT_NE(r.err.find(c.where), std::string::npos) << "expected '" << c.where << "' in: " << r.err;
      if (cmd.json) {
        auto j = nlohmann::json::parse(r.out, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << r.out;
        EXPECT_TRUE(j.contains("error")) << r.out;
      }
    }

    // Nothing written anywhere.
    EXPECT_EQ(testing::RefsSnapshot(target_), refs);
    EXPECT_EQ(Listing(target_), repo_files);
    EXPECT_EQ(Listing(dir_.path(), target_), around);
    EXPECT_EQ(EvilFiles(evil_dirs), evil_before);
    RunResult fsck = Shell("git fsck --full 2>&1", target_);
    EXPECT_EQ(fsck.exit_code, 0) << fsck.out;
    if (::testing::Test::HasFailure() && std::getenv("FLOWREPO_HOSTILE_STOP")) break;
    std::error_code ec;
    fs::remove_all(case_dir, ec);  // big cases need not stay on disk
  }
  testing::ExpectFsckClean(target_);
  std::printf("hostile cases tried: %zu (%zu commands); slowest %.2f s: %s\n", corpus.size(), commands, slowest,
              slowest_case.c_str());
  RecordProperty("hostile_cases", static_cast<int>(corpus.size()));
  EXPECT_GE(corpus.size(), 60u);
}

// Every limit refuses by default and has an option to raise it; big but
// legitimate content within the limits is accepted in bounded time.
TEST_F(HostileInputTest, LimitsHaveOptionsToRaiseThem) {
  using testing::hostile::Compression;
  using testing::hostile::WithEntry;
  const std::string good = testing::ReadFile(dir_ / "good.studiopkg");
  const std::string app_name = "flows/Operations/nightly-report/app_definition.json";
  nlohmann::json app;
  for (const auto& [name, data] : testing::hostile::ReadEntries(good)) {
    if (name == app_name) app = nlohmann::json::parse(data);
  }
  ASSERT_TRUE(app.is_object());
  auto check = [&](const std::string& what, const std::string& bytes, const std::string& options, int exit_code,
                   const std::string& expect) {
    SCOPED_TRACE(what + " " + options);
    const std::string pkg = dir_ / "limits.studiopkg";
    WriteBytes(pkg, bytes);
    double seconds = 0;
    RunResult r = Run("import --dry-run " + options + " " + Quote(pkg), target_, &seconds);
    EXPECT_LT(seconds, kTimeLimitSeconds);
    EXPECT_EQ(r.exit_code, exit_code) << r.err;
    EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
  };
  const std::string refs = testing::RefsSnapshot(target_);

  // Ratio: a 3 MiB description of one letter deflates about 1000:1.
  nlohmann::json big = app;
  big["description"] = std::string(3u << 20, 'a');
  std::string ratio = WithEntry(good, app_name, big.dump());
  check("ratio", ratio, "", 4, "compression ratio above 200 (the limit)");
  check("ratio", ratio, "--max-ratio 5000", 0, "");
  // A 15 MiB string, just under the string limit, stored: accepted, and the
  // secret scan of it takes no long time.
  nlohmann::json huge = app;
  huge["description"] = std::string(15u << 20, 'a');
  check("large string", WithEntry(good, app_name, huge.dump(), Compression::kStore), "", 0, "");

  // Nesting: 150 levels in a free-form field.
  nlohmann::json deep = app;
  nlohmann::json nest = "bottom";
  for (int i = 0; i < 150; ++i) nest = nlohmann::json::array({nest});
  deep["guardrails"]["note"] = nest;
  std::string nested = WithEntry(good, app_name, deep.dump());
  check("depth", nested, "", 4, "nesting deeper than 128 levels");
  check("depth", nested, "--max-json-depth 200", 0, "");
  check("depth", nested, "--max-json-depth 100", 4, "nesting deeper than 100 levels");
  {
    const std::string pkg = dir_ / "deep.studiopkg";
    WriteBytes(pkg, nested);
    RunResult r = Shell("env FLOWREPO_MAX_JSON_DEPTH=200 " + std::string(FLOWREPO_BINARY) + " --user " + kUser +
                            " validate " + Quote(pkg),
                        target_);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  // Counts and sizes.
  check("entries", good, "--max-entries 5", 4, "entries, more than 5 (the limit)");
  check("total", good, "--max-bytes 1000", 4, "package decompresses to more than 1000 bytes (the limit)");
  check("entry", good, "--max-entry-bytes 100", 4, "bytes, more than 100 (the limit)");
  check("file", good, "--max-package-bytes 100", 4, "package is larger than 100 bytes (the limit)");
  check("all raised", good, "--max-entries 1000000 --max-bytes 10000000000 --max-entry-bytes 1000000000", 0, "");
  EXPECT_EQ(testing::RefsSnapshot(target_), refs);  // dry runs write nothing
  testing::ExpectFsckClean(target_);
}

// Subflow cycles (a -> b -> c -> a, and a flow using itself) are not
// refused: a condition node can end the recursion, so they are legitimate
// (docs/reliability.md). What must hold is that every walk over
// dependencies ends: publish, export with dependencies included, validate
// and import all finish, in bounded time, with every flow of the cycle.
TEST_F(HostileInputTest, SubflowCyclesAreAllowedAndEveryWalkEnds) {
  for (const auto& [rel, bytes] : testing::hostile::CyclicFlowFolders()) {
    WriteBytes(dir_ / ("cycles/" + rel), bytes);
  }
  const std::string source = dir_ / "source";
  auto timed = [&](const std::string& args, const std::string& cwd) {
    double seconds = 0;
    RunResult r = Run(args, cwd, &seconds);
    EXPECT_LT(seconds, kTimeLimitSeconds) << args;
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    return r;
  };
  timed("validate " + Quote(dir_ / "cycles"), source);
  timed("flow put --draft cycles " + Quote(dir_ / "cycles"), source);
  timed("publish --draft cycles -m cycles", source);
  timed("validate", source);
  // Selecting one flow of the cycle brings in the others, once each.
  RunResult e = timed("--json export cycle-a -o " + Quote(dir_ / "cycle.studiopkg"), source);
  auto exported = nlohmann::json::parse(e.out, nullptr, false);
  ASSERT_FALSE(exported.is_discarded()) << e.out;
  EXPECT_EQ(exported["flows"].size(), 3u) << e.out;
  timed("export recursive -o " + Quote(dir_ / "recursive.studiopkg"), source);
  for (const char* pkg : {"cycle.studiopkg", "recursive.studiopkg"}) {
    timed("validate " + Quote(dir_ / pkg), target_);
    timed("import " + Quote(dir_ / pkg), target_);
  }
  RunResult list = timed("flow list --at import-cycle", target_);
  for (const char* id : {"cycle-a", "cycle-b", "cycle-c"}) {
    EXPECT_NE(list.out.find(id), std::string::npos) << list.out;
  }
  testing::ExpectFsckClean(target_);
}

}  // namespace
}  // namespace flowrepo
