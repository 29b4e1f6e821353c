// Concurrent writers: many flowrepo processes import, publish and revert at
// once in one repository (same flow, different flows, same draft). Every writer
// either succeeds or gets the conflict exit code with a clear message; no
// acknowledged update is lost, no version number is reused, fsck is clean.

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::Flowrepo;
using testing::Quote;
using testing::RunResult;
using testing::Shell;
using testing::TempDir;

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("FLOWREPO_USER", "alice@example.com", 1);
    repo_ = dir_ / "repo";
    ASSERT_EQ(Flowrepo("init " + Quote(repo_)).exit_code, 0);
    ASSERT_EQ(Fr("flow put --draft initial " + Quote(testing::SourceDir() + "/fixtures/flows")).exit_code, 0);
    ASSERT_EQ(Fr("publish --draft initial").exit_code, 0);
  }
  void TearDown() override { unsetenv("FLOWREPO_USER"); }
  RunResult Fr(const std::string& args) { return Flowrepo("-C " + Quote(repo_) + " " + args); }

  // A draft that changes \a flow (at \a path) to a distinct timeout.
  void ChangeOnDraft(const std::string& draft, const std::string& path, int value) {
    std::string id = path.substr(path.rfind('/') + 1);
    std::string dir = dir_ / ("work/" + draft + "/" + id);
    int depth = static_cast<int>(std::count(path.begin(), path.end(), '/')) + 1;
    Shell("mkdir -p " + Quote(dir) + " && git -C " + Quote(repo_) + " archive main " + path + " | tar -x -C " +
          Quote(dir) + " --strip-components=" + std::to_string(depth));
    auto def = nlohmann::json::parse(testing::ReadFile(dir + "/flow_definition.json"));
    def["timeout_ms"] = value;
    testing::WriteFile(dir + "/flow_definition.json", def.dump());
    ASSERT_EQ(Fr("flow put --draft " + draft + " " + Quote(dir)).exit_code, 0);
  }

  // Runs every command at once; returns exit code and stderr per command.
  std::vector<RunResult> RunAtOnce(const std::vector<std::string>& commands) {
    std::string script;
    for (std::size_t i = 0; i < commands.size(); ++i) {
      std::string n = std::to_string(i);
      script += "(" + std::string(FLOWREPO_BINARY) + " -C " + Quote(repo_) + " " + commands[i] + " >" +
                Quote(dir_ / ("o" + n)) + " 2>" + Quote(dir_ / ("e" + n)) + "; echo $? >" + Quote(dir_ / ("rc" + n)) +
                ") & ";
    }
    Shell(script + "wait");
    std::vector<RunResult> results;
    for (std::size_t i = 0; i < commands.size(); ++i) {
      std::string n = std::to_string(i);
      results.push_back({std::stoi(testing::ReadFile(dir_ / ("rc" + n))), testing::ReadFile(dir_ / ("o" + n)),
                         testing::ReadFile(dir_ / ("e" + n))});
    }
    return results;
  }

  std::vector<int> Versions(const std::string& flow) {
    auto h = nlohmann::json::parse(Fr("history " + flow + " --json").out);
    std::vector<int> out;
    for (const auto& v : h["versions"]) out.push_back(v["version"]);
    return out;
  }

  TempDir dir_;
  std::string repo_;
};

TEST_F(ConcurrencyTest, PublishersOfSameAndDifferentFlowsLoseNothing) {
  const std::map<std::string, std::string> paths = {{"faq-answerer", "flows/Support/Knowledge/faq-answerer"},
                                                    {"kyc-check", "flows/Finance/Compliance/kyc-check"},
                                                    {"aml-screening", "flows/Finance/Compliance/aml-screening"},
                                                    {"nightly-report", "flows/Operations/nightly-report"},
                                                    {"ticket-triage", "flows/Support/ticket-triage"}};
  std::map<std::string, int> published;  // flow -> successful publishes
  for (const auto& [flow, path] : paths) published[flow] = 0;
  for (int round = 0; round < 3; ++round) {
    // 4 drafts on one flow, 2 on another, one each on three more.
    std::vector<std::pair<std::string, std::string>> drafts;  // draft, flow
    int value = 1000 * (round + 1);
    for (const auto& [flow, copies] : std::vector<std::pair<std::string, int>>{{"faq-answerer", 4},
                                                                               {"kyc-check", 2},
                                                                               {"aml-screening", 1},
                                                                               {"nightly-report", 1},
                                                                               {"ticket-triage", 1}}) {
      for (int c = 0; c < copies; ++c) {
        std::string draft = "r" + std::to_string(round) + "-" + flow + "-" + std::to_string(c);
        ChangeOnDraft(draft, paths.at(flow), ++value);
        drafts.emplace_back(draft, flow);
      }
    }
    std::vector<std::string> commands;
    for (const auto& [draft, flow] : drafts) commands.push_back("publish --draft " + draft);
    auto results = RunAtOnce(commands);

    std::set<std::string> winners_of_same_flow;
    for (std::size_t i = 0; i < drafts.size(); ++i) {
      const auto& [draft, flow] = drafts[i];
      const RunResult& r = results[i];
      ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 5) << draft << ": " << r.exit_code << " " << r.err;
      bool draft_exists = !Shell("git rev-parse -q --verify refs/heads/drafts/main/" + draft, repo_).out.empty();
      if (r.exit_code == 0) {
        ++published[flow];
        EXPECT_FALSE(draft_exists) << draft;
        continue;
      }
      // Refused: one line naming the conflict, and the draft kept intact.
      EXPECT_TRUE(r.err.find("changed concurrently") != std::string::npos ||
                  r.err.find("conflict(s) with workspace 'main'") != std::string::npos ||
                  r.err.find("is locked by another writer") != std::string::npos)
          << r.err;
      EXPECT_TRUE(draft_exists) << draft;
      // A refusal caused only by the race (not by the flow changing on both
      // sides) succeeds when rerun.
      RunResult again = Fr("publish --draft " + draft);
      if (again.exit_code == 0) {
        ++published[flow];
      } else {
        EXPECT_EQ(again.exit_code, 5) << again.err;
        EXPECT_NE(again.err.find("conflict(s) with workspace 'main'"), std::string::npos) << again.err;
      }
    }
    // Different flows never block each other for good.
    for (const char* flow : {"aml-screening", "nightly-report", "ticket-triage"}) {
      EXPECT_EQ(published[flow], round + 1) << flow;
    }
  }
  // Versions are exactly 1..n for every flow: none lost, none reused.
  for (const auto& [flow, count] : published) {
    std::vector<int> versions = Versions(flow);
    ASSERT_EQ(versions.size(), static_cast<std::size_t>(count + 1)) << flow;
    for (std::size_t i = 0; i < versions.size(); ++i) {
      EXPECT_EQ(versions[i], static_cast<int>(versions.size() - i)) << flow;
    }
  }
  EXPECT_GE(published["faq-answerer"], 3);  // one winner per round at least
  testing::ExpectFsckClean(repo_);
}

TEST_F(ConcurrencyTest, WritersToOneDraftNeverOverwriteEachOther) {
  // Eight reverts and puts race onto the same draft: each either lands as
  // its own commit on top of the others or is refused; none is lost.
  std::vector<std::string> commands;
  for (int i = 0; i < 8; ++i) {
    commands.push_back(i % 2 ? "revert kyc-check --to v1 --draft shared"
                             : "flow new extra-" + std::to_string(i) + " --draft shared");
  }
  auto results = RunAtOnce(commands);
  std::set<std::string> created;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const RunResult& r = results[i];
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 5) << commands[i] << ": " << r.err;
    if (r.exit_code == 5) {
      EXPECT_TRUE(r.err.find("changed concurrently") != std::string::npos ||
                  r.err.find("is locked by another writer") != std::string::npos)
          << r.err;
    } else if (i % 2 == 0) {
      created.insert("extra-" + std::to_string(i));
    }
  }
  auto flows = nlohmann::json::parse(Fr("flow list --at shared --json").out);
  std::set<std::string> present;
  for (const auto& f : flows) present.insert(f["id"]);
  for (const auto& id : created) EXPECT_TRUE(present.count(id)) << id << " was acknowledged but lost";
  testing::ExpectFsckClean(repo_);
}

// Refusals of a racing writer name the race: a moved ref, a held lock, or
// the flow changed on the workspace since the draft's base.
bool NamesTheConflict(const std::string& err) {
  return err.find("changed concurrently") != std::string::npos ||
         err.find("is locked by another writer") != std::string::npos ||
         err.find("conflict(s) with workspace 'main'") != std::string::npos ||
         err.find("already holds every change of draft") != std::string::npos;
}

TEST_F(ConcurrencyTest, ImportsPublishesAndRevertsRaceWithoutLoss) {
  // nightly-report gets a v2; its v1 travels as a single-version package.
  ChangeOnDraft("v2", "flows/Operations/nightly-report", 4242);
  ASSERT_EQ(Fr("publish --draft v2").exit_code, 0);
  const std::string v1 = dir_ / "v1.zip";
  const std::string kb = dir_ / "kb.studiopkg";
  ASSERT_EQ(Fr("export nightly-report --version 1 -o " + Quote(v1)).exit_code, 0);
  ASSERT_EQ(Fr("export Support/Knowledge -o " + Quote(kb)).exit_code, 0);
  ChangeOnDraft("faq", "flows/Support/Knowledge/faq-answerer", 777);

  // Round 1: imports, reverts and a publish write drafts at once, three of
  // them the same draft.
  const std::vector<std::string> writers = {
      "import " + Quote(v1) + " --override nightly-report --draft imp-a",
      "import " + Quote(v1) + " --override nightly-report --draft imp-b",
      "import " + Quote(v1) + " --override nightly-report --draft shared",
      "import " + Quote(kb) + " --as-new --draft shared",
      "revert nightly-report --to v1 --draft rev-a",
      "revert kyc-check --to v1 --draft shared",
      "publish --draft faq",
  };
  auto results = RunAtOnce(writers);
  for (std::size_t i = 0; i < writers.size(); ++i) {
    const RunResult& r = results[i];
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 5) << writers[i] << ": " << r.err;
    if (r.exit_code == 5) {
      EXPECT_TRUE(NamesTheConflict(r.err)) << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
  }
  // Acknowledged writes to the shared draft are all on it.
  auto shared = nlohmann::json::parse(Fr("flow list --at shared --json").out);
  std::set<std::string> on_shared;
  for (const auto& f : shared) on_shared.insert(f["id"]);
  const std::map<std::size_t, std::string> writes_to_shared = {
      {2, "nightly-report"}, {3, "faq-answerer-2"}, {5, "kyc-check"}};
  for (const auto& [writer, flow] : writes_to_shared) {
    if (results[writer].exit_code == 0) {
      EXPECT_TRUE(on_shared.count(flow)) << writers[writer] << " was acknowledged but lost";
    }
  }
  EXPECT_EQ(Versions("faq-answerer").size(), results[6].exit_code == 0 ? 2u : 1u);

  // Round 2: every draft overriding nightly-report publishes at once; the
  // first one in wins, the others are told the flow changed under them.
  // Identical imports made in the same second are one commit, so a later
  // publisher may find its change already published by the winner.
  std::vector<std::string> publishers;
  const std::map<std::size_t, std::string> overriding = {{0, "imp-a"}, {1, "imp-b"}, {2, "shared"}, {4, "rev-a"}};
  for (const auto& [writer, draft] : overriding) {
    if (results[writer].exit_code == 0) publishers.push_back("publish --draft " + draft + " --json");
  }
  ASSERT_GE(publishers.size(), 2u);
  auto published = RunAtOnce(publishers);
  std::set<std::string> publishes_of_nightly_report;  // commits
  for (std::size_t i = 0; i < publishers.size(); ++i) {
    const RunResult& r = published[i];
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 5) << publishers[i] << ": " << r.err;
    if (r.exit_code != 0) {
      EXPECT_TRUE(NamesTheConflict(r.err)) << r.err;
      continue;
    }
    auto out = nlohmann::json::parse(r.out);
    EXPECT_FALSE(out["completed_earlier_publish"].get<bool>()) << r.out;
    for (const auto& v : out["versions"]) {
      if (v["flow"] == "nightly-report") publishes_of_nightly_report.insert(out["commit"]);
    }
  }
  EXPECT_GE(publishes_of_nightly_report.size(), 1u);
  // Versions of nightly-report are exactly 1..n: none lost, none reused,
  // and the replaced v2 is still there to revert to.
  std::vector<int> versions = Versions("nightly-report");
  ASSERT_EQ(versions.size(), 2 + publishes_of_nightly_report.size());
  for (std::size_t i = 0; i < versions.size(); ++i) {
    EXPECT_EQ(versions[i], static_cast<int>(versions.size() - i));
  }
  EXPECT_EQ(Fr("revert nightly-report --to v2 --draft back").exit_code, 0);
  testing::ExpectFsckClean(repo_);
}

}  // namespace
}  // namespace flowrepo
