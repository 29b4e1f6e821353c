// Crash consistency: publish, import and export are killed with SIGKILL at
// seeded random moments. After every kill the repository must pass `git fsck --full`,
// every ref must be at its old or its new value, and rerunning the same
// command must succeed (after the documented recovery when the kill left a
// ref lock behind: libgit2 cannot remove locks of a killed process).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <thread>

#include "support/test_support.h"

extern char** environ;

namespace flowrepo {
namespace {

using testing::Flowrepo;
using testing::Quote;
using testing::RunResult;
using testing::Shell;
using testing::TempDir;

std::map<std::string, std::string> Refs(const std::string& repo) {
  std::map<std::string, std::string> refs;
  std::istringstream lines(testing::RefsSnapshot(repo));
  std::string name, id;
  while (lines >> name >> id) refs[name] = id;
  return refs;
}

// Starts flowrepo with \a args in \a cwd, output to /dev/null.
pid_t Spawn(const std::vector<std::string>& args, const std::string& cwd) {
  std::vector<std::string> argv_s = {FLOWREPO_BINARY, "-C", cwd};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawn failed");
  return pid;
}

// How long an uninterrupted run of \a args takes, spawned as the kills are.
std::chrono::microseconds TimeRun(const std::vector<std::string>& args, const std::string& cwd) {
  auto t0 = std::chrono::steady_clock::now();
  int status = 0;
  waitpid(Spawn(args, cwd), &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("timing run failed");
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
}

// Starts flowrepo with \a args in \a cwd and SIGKILLs it after \a delay.
// Returns true when the kill landed before the process finished.
bool RunAndKill(const std::vector<std::string>& args, const std::string& cwd, std::chrono::microseconds delay) {
  pid_t pid = Spawn(args, cwd);
  std::this_thread::sleep_for(delay);
  bool killed = kill(pid, SIGKILL) == 0;
  int status = 0;
  waitpid(pid, &status, 0);
  return killed && WIFSIGNALED(status);
}

// RunAndKill after a random delay within \a span. A run that finished
// first shows runs are now quicker than \a span (the machine was busier
// while timing): \a span shrinks to that delay, so later kills still land.
bool RunAndKillWithin(const std::vector<std::string>& args, const std::string& cwd, std::chrono::microseconds& span,
                      std::mt19937& rng) {
  const std::chrono::microseconds delay(std::uniform_int_distribution<long>(0, span.count())(rng));
  const bool landed = RunAndKill(args, cwd, delay);
  if (!landed) span = std::max(delay, std::chrono::microseconds(1));
  return landed;
}

// A new repository at \a repo whose workspace holds the fixture flows as v1.
void InitWithFixturesPublished(const std::string& repo) {
  ASSERT_EQ(Flowrepo("init " + Quote(repo)).exit_code, 0);
  std::string flows = testing::SourceDir() + "/fixtures/flows";
  ASSERT_EQ(Flowrepo("-C " + Quote(repo) + " flow put --draft initial " + Quote(flows)).exit_code, 0);
  ASSERT_EQ(Flowrepo("-C " + Quote(repo) + " publish --draft initial").exit_code, 0);
}

struct CrashStats {
  int kills = 0;            // kills that landed while the process ran
  int finished = 0;         // the process had already finished
  int lock_recoveries = 0;  // reruns that first needed a stale lock removed
};

// Reruns \a args until done, removing a stale lock left by the killed
// process (the documented recovery) when the error names one.
void RerunToSuccess(const std::string& repo, const std::string& args, CrashStats& stats) {
  RunResult r = Flowrepo("-C " + Quote(repo) + " " + args);
  std::smatch lock;
  std::regex lock_path("\\(([^()]+\\.lock)\\)");
  if (r.exit_code == 5 && std::regex_search(r.err, lock, lock_path)) {
    ++stats.lock_recoveries;
    std::remove(lock[1].str().c_str());
    r = Flowrepo("-C " + Quote(repo) + " " + args);
  }
  ASSERT_EQ(r.exit_code, 0) << args << ": " << r.err;
}

TEST(CrashTest, PublishKilledAtRandomPointsLosesNothing) {
  TempDir dir;
  setenv("FLOWREPO_USER", "alice@example.com", 1);
  std::string repo = dir / "repo";
  ASSERT_NO_FATAL_FAILURE(InitWithFixturesPublished(repo));

  std::string flow_dir = dir / "change/faq-answerer";
  Shell("mkdir -p " + Quote(flow_dir) + " && git -C " + Quote(repo) +
        " archive main flows/Support/Knowledge/faq-answerer | tar -x -C " + Quote(flow_dir) + " --strip-components=4");
  auto def = nlohmann::json::parse(testing::ReadFile(flow_dir + "/flow_definition.json"));
  // How long an uninterrupted publish of such a draft takes, to spread the
  // kills over it: the quickest of three (v2..v4), so a busy machine during
  // one timing run does not make most kills land after the publish ended.
  auto span = std::chrono::microseconds::max();
  for (int timing = 0; timing < 3; ++timing) {
    def["timeout_ms"] = 990 + timing;
    testing::WriteFile(flow_dir + "/flow_definition.json", def.dump());
    std::string draft = "timing" + std::to_string(timing);
    ASSERT_EQ(Flowrepo("-C " + Quote(repo) + " flow put --draft " + draft + " " + Quote(flow_dir)).exit_code, 0);
    span = std::min(span, TimeRun({"publish", draft}, repo));
  }

  std::mt19937 rng(20261123);
  CrashStats stats;
  const int kIterations = 100;
  for (int i = 0; i < kIterations; ++i) {
    std::string draft = "d" + std::to_string(i);
    def["timeout_ms"] = 1000 + i;
    testing::WriteFile(flow_dir + "/flow_definition.json", def.dump());
    ASSERT_EQ(Flowrepo("-C " + Quote(repo) + " flow put --draft " + draft + " " + Quote(flow_dir)).exit_code, 0);
    auto before = Refs(repo);
    bool landed = RunAndKillWithin({"publish", draft}, repo, span, rng);
    (landed ? stats.kills : stats.finished)++;

    testing::ExpectFsckClean(repo);
    auto after = Refs(repo);
    const std::string ws = "refs/heads/main";
    const std::string draft_ref = "refs/heads/drafts/main/" + draft;
    if (after[ws] != before[ws]) {
      // Moved: only to a publish merging exactly this draft onto the old head.
      RunResult parents = Shell("git rev-parse " + after[ws] + "^1 " + after[ws] + "^2", repo);
      EXPECT_EQ(parents.out, before[ws] + "\n" + before[draft_ref] + "\n") << "iteration " << i;
    }
    for (const auto& [ref, id] : after) {
      if (ref == ws || ref == draft_ref) continue;
      if (before.count(ref)) {
        EXPECT_EQ(before[ref], id) << ref << " moved, iteration " << i;
      } else {
        // The only new refs a publish makes are its version tags.
        EXPECT_EQ(ref.rfind("refs/tags/main/faq-answerer/v", 0), 0u) << ref;
      }
    }
    if (after.count(draft_ref)) {
      EXPECT_EQ(after[draft_ref], before[draft_ref]);
    }
    RerunToSuccess(repo, "publish --draft " + draft, stats);
    if (HasFatalFailure()) return;
  }
  // Every publish made exactly one version (v1, three timing runs, then one
  // per iteration): none lost, none reused.
  auto history = nlohmann::json::parse(Flowrepo("-C " + Quote(repo) + " history faq-answerer --json").out);
  EXPECT_EQ(history["versions"].size(), static_cast<std::size_t>(kIterations + 4));
  EXPECT_EQ(history["versions"][0]["version"], kIterations + 4);
  testing::ExpectFsckClean(repo);
  RecordProperty("kills", stats.kills);
  std::printf("crash test: %d kills landed, %d runs finished first, %d stale-lock recoveries\n", stats.kills,
              stats.finished, stats.lock_recoveries);
  EXPECT_GE(stats.kills, kIterations / 2);  // the kills really interrupted work
  unsetenv("FLOWREPO_USER");
}

TEST(CrashTest, ImportKilledAtRandomPointsLosesNothing) {
  TempDir dir;
  setenv("FLOWREPO_USER", "alice@example.com", 1);
  std::string repo = dir / "repo";
  ASSERT_NO_FATAL_FAILURE(InitWithFixturesPublished(repo));
  // A package of every flow, imported as new flows: the largest import the
  // fixtures give, so kills land in reading, checking and writing.
  std::string pkg = dir / "all.studiopkg";
  ASSERT_EQ(Flowrepo("-C " + Quote(repo) + " export --all -o " + Quote(pkg)).exit_code, 0);

  // The quickest of three uninterrupted imports, so most kills land.
  auto span = std::chrono::microseconds::max();
  for (const char* draft : {"timing0", "timing1", "timing2"}) {
    span = std::min(span, TimeRun({"import", pkg, "--as-new", "--draft", draft}, repo));
  }
  std::mt19937 rng(20261124);
  CrashStats stats;
  const int kIterations = 60;
  const std::string ws = "refs/heads/main";
  for (int i = 0; i < kIterations; ++i) {
    // Even iterations create their draft, odd ones add to an existing one.
    std::string draft = i % 2 ? "existing" + std::to_string(i) : "new" + std::to_string(i);
    if (i % 2) {
      ASSERT_EQ(Flowrepo("-C " + Quote(repo) + " draft start " + draft).exit_code, 0);
    }
    const std::string draft_ref = "refs/heads/drafts/main/" + draft;
    const std::string args = "import " + Quote(pkg) + " --as-new --draft " + draft;
    auto before = Refs(repo);
    std::vector<std::string> argv = {"import", pkg, "--as-new", "--draft", draft};
    bool landed = RunAndKillWithin(argv, repo, span, rng);
    (landed ? stats.kills : stats.finished)++;

    testing::ExpectFsckClean(repo);
    auto after = Refs(repo);
    for (const auto& [ref, id] : after) {
      if (ref == draft_ref) continue;
      EXPECT_TRUE(before.count(ref)) << ref << " appeared, iteration " << i;
      EXPECT_EQ(before[ref], id) << ref << " moved, iteration " << i;
    }
    const bool existed = before.count(draft_ref) > 0;
    if (after.count(draft_ref) && after[draft_ref] != before[draft_ref]) {
      // Moved or created: only to one import commit on top of the old head.
      std::string base = existed ? before[draft_ref] : before[ws];
      EXPECT_EQ(Shell("git rev-parse " + after[draft_ref] + "^1", repo).out, base + "\n") << "iteration " << i;
    }
    if (after[draft_ref] != before[draft_ref]) continue;  // the import landed before the kill
    RerunToSuccess(repo, args, stats);
    if (HasFatalFailure()) return;
  }
  // Every draft holds the whole package once, and the workspace never moved.
  for (int i = 0; i < kIterations; i += 7) {
    std::string draft = i % 2 ? "existing" + std::to_string(i) : "new" + std::to_string(i);
    auto flows = nlohmann::json::parse(Flowrepo("-C " + Quote(repo) + " flow list --at " + draft + " --json").out);
    EXPECT_EQ(flows.size(), 12u) << draft;
  }
  testing::ExpectFsckClean(repo);
  std::printf("import crash test: %d kills landed, %d runs finished first, %d stale-lock recoveries\n", stats.kills,
              stats.finished, stats.lock_recoveries);
  EXPECT_GE(stats.kills, kIterations / 2);
  unsetenv("FLOWREPO_USER");
}

// The same with work trees: the draft is made with plain git in a linked
// work tree and published from there, while the main checkout has the
// workspace branch. After every kill and rerun both work trees and their
// indexes must agree with their branches (git status clean).
TEST(CrashTest, PublishWithWorkTreesKilledAtRandomPointsLeavesThemConsistent) {
  TempDir dir;
  setenv("FLOWREPO_USER", "alice@example.com", 1);
  std::string repo = dir / "repo";
  std::string wt = dir / "wt";
  ASSERT_NO_FATAL_FAILURE(InitWithFixturesPublished(repo));
  ASSERT_EQ(Shell("git worktree add -q -b drafts/main/work " + Quote(wt) +
                      " main && "
                      "git -C " +
                      Quote(wt) +
                      " config user.email alice@example.com && "
                      "git -C " +
                      Quote(wt) + " config user.name Alice",
                  repo)
                .exit_code,
            0);
  const std::string file = "flows/Support/Knowledge/faq-answerer/app_definition.json";
  auto commit_edit = [&](const std::string& text) {
    RunResult r = Shell("sed -i 's/\"description\": \"[^\"]*\"/\"description\": \"" + text + "\"/' " + file +
                            " && git commit -q -am " + text,
                        wt);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  auto span = std::chrono::microseconds::max();
  for (int timing = 0; timing < 3; ++timing) {
    commit_edit("timing" + std::to_string(timing));
    span = std::min(span, TimeRun({"publish", "work"}, wt));
  }

  std::mt19937 rng(20261203);
  CrashStats stats;
  const int kIterations = 100;
  const std::string ws = "refs/heads/main";
  const std::string draft_ref = "refs/heads/drafts/main/work";
  for (int i = 0; i < kIterations; ++i) {
    commit_edit("edit" + std::to_string(i));
    if (HasFatalFailure()) return;
    auto before = Refs(repo);
    bool landed = RunAndKillWithin({"publish", "work"}, wt, span, rng);
    (landed ? stats.kills : stats.finished)++;
    testing::ExpectFsckClean(repo);
    auto after = Refs(repo);
    if (after[ws] != before[ws]) {
      RunResult parents = Shell("git rev-parse " + after[ws] + "^1 " + after[ws] + "^2", repo);
      EXPECT_EQ(parents.out, before[ws] + "\n" + before[draft_ref] + "\n") << "iteration " << i;
    }
    // The draft is never lost: at its old head, or kept at the publish.
    ASSERT_TRUE(after.count(draft_ref)) << "iteration " << i;
    EXPECT_TRUE(after[draft_ref] == before[draft_ref] || after[draft_ref] == after[ws]) << "iteration " << i;

    RerunToSuccess(wt, "publish --draft work", stats);
    if (HasFatalFailure()) return;
    for (const std::string& tree : {repo, wt}) {
      EXPECT_EQ(Shell("git status --porcelain", tree).out, "") << tree << ", iteration " << i;
    }
    EXPECT_EQ(Shell("git rev-parse HEAD", wt).out, Shell("git rev-parse main", repo).out);
    EXPECT_EQ(Shell("git symbolic-ref HEAD", repo).out, ws + "\n");
    if (HasFailure()) return;
  }
  auto history = nlohmann::json::parse(Flowrepo("-C " + Quote(repo) + " history faq-answerer --json").out);
  EXPECT_EQ(history["versions"].size(), static_cast<std::size_t>(kIterations + 4));
  std::printf("work-tree crash test: %d kills landed, %d runs finished first, %d stale-lock recoveries\n", stats.kills,
              stats.finished, stats.lock_recoveries);
  EXPECT_GE(stats.kills, kIterations / 2);
  unsetenv("FLOWREPO_USER");
}

// Workspace create writes one commit, creates the workspace ref (the commit
// point), then one tag per flow: a kill between leaves a workspace whose
// tags a rerun of the same command completes.
TEST(CrashTest, WorkspaceCreateKilledAtRandomPointsCompletesItsTags) {
  TempDir dir;
  setenv("FLOWREPO_USER", "alice@example.com", 1);
  std::string repo = dir / "repo";
  ASSERT_NO_FATAL_FAILURE(InitWithFixturesPublished(repo));

  auto span = std::chrono::microseconds::max();
  for (const char* name : {"timing0", "timing1", "timing2"}) {
    span = std::min(span, TimeRun({"workspace", "create", name, "--from", "main"}, repo));
  }
  std::mt19937 rng(20261203);
  CrashStats stats;
  const int kIterations = 40;
  int interrupted = 0;  // kills that left the workspace without all its tags
  for (int i = 0; i < kIterations; ++i) {
    const std::string name = "ws" + std::to_string(i);
    auto before = Refs(repo);
    bool landed = RunAndKillWithin({"workspace", "create", name, "--from", "main"}, repo, span, rng);
    (landed ? stats.kills : stats.finished)++;

    testing::ExpectFsckClean(repo);
    auto after = Refs(repo);
    int tags = 0;
    for (const auto& [ref, id] : after) {
      if (before.count(ref)) {
        EXPECT_EQ(before[ref], id) << ref << " moved, iteration " << i;
      } else if (ref.rfind("refs/tags/" + name + "/", 0) == 0) {
        ++tags;
        EXPECT_TRUE(after.count("refs/heads/" + name)) << "a tag before its workspace, iteration " << i;
      } else {
        EXPECT_EQ(ref, "refs/heads/" + name) << "iteration " << i;
      }
    }
    if (after.count("refs/heads/" + name) && tags < 6) ++interrupted;
    RerunToSuccess(repo, "workspace create " + name + " --from main", stats);
    if (HasFatalFailure()) return;
    auto h = nlohmann::json::parse(Flowrepo("-C " + Quote(repo) + " -w " + name + " history kyc-check --json").out);
    ASSERT_EQ(h["versions"].size(), 1u) << "iteration " << i;
    EXPECT_EQ(h["versions"][0]["tag"], "refs/tags/" + name + "/kyc-check/v1");
  }
  RunResult check = Flowrepo("-C " + Quote(repo) + " check");
  EXPECT_EQ(check.exit_code, 0) << check.out;
  testing::ExpectFsckClean(repo);
  std::printf(
      "workspace create crash test: %d kills landed (%d between the ref and its last tag), %d runs "
      "finished first, %d stale-lock recoveries\n",
      stats.kills, interrupted, stats.finished, stats.lock_recoveries);
  EXPECT_GE(stats.kills, kIterations / 2);
  unsetenv("FLOWREPO_USER");
}

// The files an export left in \a dir besides the packages it finished.
std::vector<std::string> Leftovers(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() < 11 || name.compare(name.size() - 10, 10, ".studiopkg") != 0) out.push_back(name);
  }
  return out;
}

TEST(CrashTest, ExportKilledAtRandomPointsLeavesNoFileBehind) {
  TempDir dir;
  setenv("FLOWREPO_USER", "alice@example.com", 1);
  std::string repo = dir / "repo";
  ASSERT_EQ(Flowrepo("init " + Quote(repo)).exit_code, 0);
  // 400 flows of 40 nodes: an export long enough for kills to land while
  // it writes.
  const std::string flows = dir / "flows";
  for (int i = 0; i < 400; ++i) {
    Flow flow = testing::MakeFlow("flow-" + std::to_string(i), "Group" + std::to_string(i % 7), 40);
    const std::string folder = flows + "/" + flow.summary.path().substr(6);
    testing::WriteFile(folder + "/app_definition.json", flow.app_definition);
    testing::WriteFile(folder + "/flow_definition.json", flow.flow_definition);
    testing::WriteFile(folder + "/env_variables.json", flow.env_variables);
  }
  ASSERT_EQ(Flowrepo("-C " + Quote(repo) + " flow put --draft initial " + Quote(flows)).exit_code, 0);
  ASSERT_EQ(Flowrepo("-C " + Quote(repo) + " publish --draft initial").exit_code, 0);
  const std::string out = dir / "out";
  std::filesystem::create_directories(out);

  auto span = std::chrono::microseconds::max();
  for (int i = 0; i < 3; ++i) {
    span = std::min(span, TimeRun({"export", "--all", "--force", "-o", out + "/timing.studiopkg"}, repo));
  }
  std::filesystem::remove(out + "/timing.studiopkg");
  std::mt19937 rng(20261203);
  CrashStats stats;
  int while_visible = 0;
  const int kIterations = 40;
  for (int i = 0; i < kIterations; ++i) {
    // Even iterations write a new file, odd ones replace one (--force).
    const std::string target = out + (i % 2 ? "/same.studiopkg" : "/new-" + std::to_string(i) + ".studiopkg");
    std::vector<std::string> argv = {"export", "--all", "-o", target};
    if (i % 2) argv.push_back("--force");
    // The package is written in the last part of the run: kills land in
    // the later 70% of it, and at once when a file of the export shows up
    // in the folder before it is complete (what a kill must not leave).
    const auto delay = std::chrono::microseconds(
        std::uniform_int_distribution<long>(span.count() * 3 / 10, span.count() * 11 / 10)(rng));
    pid_t pid = Spawn(argv, repo);
    const auto start = std::chrono::steady_clock::now();
    bool visible = false;
    while (std::chrono::steady_clock::now() - start < delay && !(visible = !Leftovers(out).empty())) {
      if (waitpid(pid, nullptr, WNOHANG) == pid) {
        pid = 0;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    bool landed = false;
    if (pid != 0) {
      landed = kill(pid, SIGKILL) == 0;
      int status = 0;
      waitpid(pid, &status, 0);
      landed = landed && WIFSIGNALED(status);
    }
    while_visible += visible;
    (landed ? stats.kills : stats.finished)++;
    // Nothing but complete packages: finished ones, and, killed between the
    // two calls that put it in place, the temporary name --force renames
    // over the old file (the next export removes it).
    for (const auto& name : Leftovers(out)) {
      EXPECT_TRUE(i % 2 == 1 && name.rfind(".flowrepo-export-", 0) == 0) << name << " iteration " << i;
    }
    for (const auto& e : std::filesystem::directory_iterator(out)) {
      RunResult test = Shell("unzip -tq " + Quote(e.path().string()));
      EXPECT_EQ(test.exit_code, 0) << e.path() << " iteration " << i << test.out;
    }
    if (HasFailure()) break;
  }
  ASSERT_EQ(Flowrepo("-C " + Quote(repo) + " export --all --force -o " + Quote(out + "/same.studiopkg")).exit_code, 0);
  EXPECT_EQ(Leftovers(out), std::vector<std::string>{});
  std::printf(
      "export crash test: %d kills landed (%d while a file of the export was in the folder), %d runs "
      "finished first\n",
      stats.kills, while_visible, stats.finished);
  EXPECT_GE(stats.kills, kIterations / 2);
  unsetenv("FLOWREPO_USER");
}

// On a file system without O_TMPFILE, an export writes a named temporary
// file that a kill leaves behind: the next export into the folder removes
// it (this host's, whose process is gone), and no other file.
TEST(CrashTest, NextExportRemovesWhatAKilledOneLeft) {
  TempDir dir;
  setenv("FLOWREPO_USER", "alice@example.com", 1);
  std::string repo = dir / "repo";
  ASSERT_EQ(Flowrepo("init " + Quote(repo)).exit_code, 0);
  ASSERT_EQ(
      Flowrepo("-C " + Quote(repo) + " flow put --draft initial " + Quote(testing::SourceDir() + "/fixtures/flows"))
          .exit_code,
      0);
  ASSERT_EQ(Flowrepo("-C " + Quote(repo) + " publish --draft initial").exit_code, 0);
  const std::string out = dir / "out";
  std::filesystem::create_directories(out);
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  std::string me = host;
  std::replace(me.begin(), me.end(), '-', '_');
  // A process that is gone: a child that has exited.
  pid_t gone = fork();
  if (gone == 0) _exit(0);
  waitpid(gone, nullptr, 0);
  const std::string stale = ".flowrepo-export-" + me + "-" + std::to_string(gone) + "-0-1.tmp";
  const std::string running = ".flowrepo-export-" + me + "-" + std::to_string(getpid()) + "-0-1.tmp";
  const std::string other_host = ".flowrepo-export-otherhost-" + std::to_string(gone) + "-0-1.tmp";
  for (const auto& name : {stale, running, other_host, std::string("notes.txt")}) {
    testing::WriteFile(out + "/" + name, "partial");
  }
  ASSERT_EQ(Flowrepo("-C " + Quote(repo) + " export --all -o " + Quote(out + "/all.studiopkg")).exit_code, 0);
  std::vector<std::string> left = Leftovers(out);
  std::sort(left.begin(), left.end());
  std::vector<std::string> expected = {running, other_host, "notes.txt"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(left, expected);
  unsetenv("FLOWREPO_USER");
}

}  // namespace
}  // namespace flowrepo
