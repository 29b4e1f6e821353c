// Seeded random operations against a simple model of what the workspace
// must hold: flowrepo writes onto drafts, plain-git edits and commits in two
// work trees (the main checkout, which switches between the workspace and a
// draft, and a linked work tree on a draft of its own), publishes from
// either, reverts. Every operation's outcome (done, nothing to do,
// conflict) is predicted by the model; every few operations the
// repository is checked in full. A failure prints the seed and the
// operation; FLOWREPO_MODEL_SEED and FLOWREPO_MODEL_OPS replay or lengthen
// a run.

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::Quote;
using testing::RunResult;
using testing::Shell;
using testing::TempDir;

const std::map<std::string, std::string> kFolders = {
    {"faq-answerer", "flows/Support/Knowledge/faq-answerer"},
    {"ticket-triage", "flows/Support/ticket-triage"},
    {"aml-screening", "flows/Finance/Compliance/aml-screening"},
    {"kyc-check", "flows/Finance/Compliance/kyc-check"},
    {"banking-assistant", "flows/Finance/Retail/banking-assistant"},
    {"nightly-report", "flows/Operations/nightly-report"},
};

struct DraftModel {
  bool exists = false;
  int base_seq = 0;                          // publishes the draft is based on
  std::map<std::string, std::string> edits;  // flow -> description
};

struct Model {
  std::map<std::string, std::vector<std::string>> versions;  // flow -> description of v1..vN
  std::map<std::string, int> changed_at;                     // flow -> publish that changed it
  int seq = 0;                                               // publishes so far
  std::map<std::string, DraftModel> drafts;                  // p1, p2 (flowrepo), w1, w2 (git)
  bool w1_checked_out = false;                               // main checkout on draft w1
};

long EnvOr(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtol(v, nullptr, 10) : fallback;
}

class GitModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_ / "repo";
    wt_ = dir_ / "wt";
    ASSERT_EQ(Fr("init " + Quote(repo_), dir_.path()).exit_code, 0);
    // git's automatic gc runs in the foreground: detached, it packed and
    // pruned loose objects while the test's fsck was listing them.
    Shell("git config user.email alice@example.com && git config user.name Alice && git config gc.autoDetach false",
          repo_);
    ASSERT_EQ(Fr("flow put --draft initial " + Quote(testing::SourceDir() + "/fixtures/flows")).exit_code, 0);
    ASSERT_EQ(Fr("publish --draft initial").exit_code, 0);
    for (const auto& [id, folder] : kFolders) model_.versions[id] = {Description("main", folder)};
    ASSERT_EQ(Git("worktree add -q -b drafts/main/w2 " + Quote(wt_) + " main").exit_code, 0);
    model_.drafts["w2"] = {true, 0, {}};
  }

  RunResult Fr(const std::string& args, const std::string& cwd = "") {
    return testing::Flowrepo("--user alice@example.com " + args, cwd.empty() ? repo_ : cwd);
  }
  RunResult Git(const std::string& args, const std::string& cwd = "") {
    return Shell("git " + args, cwd.empty() ? repo_ : cwd);
  }
  std::string Description(const std::string& rev, const std::string& folder) {
    RunResult r = Git("show " + rev + ":" + folder + "/app_definition.json");
    if (r.exit_code != 0) return "(missing: " + r.err + ")";
    return nlohmann::json::parse(r.out).value("description", "");
  }
  void SetDescription(const std::string& dir, const std::string& text) {
    Shell("sed -i 's/\"description\": \"[^\"]*\"/\"description\": \"" + text + "\"/' app_definition.json", dir);
  }
  std::string NewToken() { return "t" + std::to_string(++tokens_); }

  // One flowrepo write onto a flowrepo-made draft.
  void PutEdit(const std::string& draft, const std::string& flow) {
    DraftModel& d = model_.drafts[draft];
    std::string from = d.exists ? "drafts/main/" + draft : "main";
    std::string tmp = dir_ / ("put-" + std::to_string(tokens_));
    Shell("mkdir -p " + Quote(tmp) + " && git archive " + from + " " + kFolders.at(flow) + " | tar -x -C " + Quote(tmp),
          repo_);
    std::string token = NewToken();
    SetDescription(tmp + "/" + kFolders.at(flow), token);
    RunResult r = Fr("flow put --draft " + draft + " " + Quote(tmp + "/" + kFolders.at(flow)));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Shell("rm -rf " + Quote(tmp));
    if (!d.exists) d = {true, model_.seq, {}};
    d.edits[flow] = token;
  }

  // A plain-git edit and commit in the work tree that has \a draft.
  void GitEdit(const std::string& draft, const std::string& flow) {
    std::string tree = draft == "w2" ? wt_ : repo_;
    std::string token = NewToken();
    SetDescription(tree + "/" + kFolders.at(flow), token);
    RunResult r = Git("commit -q -am " + token, tree);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    model_.drafts[draft].edits[flow] = token;
  }

  bool Conflicts(const DraftModel& d) {
    for (const auto& [flow, text] : d.edits) {
      if (model_.changed_at[flow] > d.base_seq) return true;
    }
    return false;
  }

  void Publish(const std::string& draft) {
    DraftModel& d = model_.drafts[draft];
    bool checked_out = draft == "w2" || (draft == "w1" && model_.w1_checked_out);
    std::string cwd = draft == "w2" ? wt_ : repo_;
    RunResult r = Fr("publish --draft " + draft, cwd);
    if (d.edits.empty()) {
      // A kept draft with nothing new: done already, or nothing to publish.
      EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 2) << r.err;
      return;
    }
    if (Conflicts(d)) {
      ASSERT_EQ(r.exit_code, 5) << r.out << r.err;
      ResolveByDropping(draft);
      return;
    }
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ++model_.seq;
    for (const auto& [flow, text] : d.edits) {
      model_.versions[flow].push_back(text);
      model_.changed_at[flow] = model_.seq;
    }
    d.edits.clear();
    d.base_seq = model_.seq;
    d.exists = checked_out;  // a checked-out draft is kept, at the publish
  }

  // After a conflict: a flowrepo draft is dropped, a git draft reset onto
  // the workspace (the user gives up the change).
  void ResolveByDropping(const std::string& draft) {
    DraftModel& d = model_.drafts[draft];
    bool checked_out = draft == "w2" || (draft == "w1" && model_.w1_checked_out);
    if (checked_out) {
      ASSERT_EQ(Git("reset -q --hard main", draft == "w2" ? wt_ : repo_).exit_code, 0);
      d = {true, model_.seq, {}};
    } else {
      RunResult r = Fr("draft drop " + draft);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      d = {};
    }
  }

  void Revert(const std::string& flow, std::mt19937& rng) {
    const auto& v = model_.versions[flow];
    DraftModel& d = model_.drafts["p1"];
    if (v.size() < 2 || d.exists) return;
    int k = std::uniform_int_distribution<int>(1, static_cast<int>(v.size()) - 1)(rng);
    if (v[k - 1] == v.back()) return;  // would change nothing
    RunResult r = Fr("revert " + flow + " --to v" + std::to_string(k) + " --draft p1");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    d = {true, model_.seq, {{flow, v[k - 1]}}};
  }

  void SwitchMainCheckout() {
    DraftModel& d = model_.drafts["w1"];
    if (model_.w1_checked_out) {
      ASSERT_EQ(Git("switch -q main").exit_code, 0);
      model_.w1_checked_out = false;
    } else if (d.exists) {
      ASSERT_EQ(Git("switch -q drafts/main/w1").exit_code, 0);
      model_.w1_checked_out = true;
    } else {
      ASSERT_EQ(Git("switch -q -c drafts/main/w1 main").exit_code, 0);
      d = {true, model_.seq, {}};
      model_.w1_checked_out = true;
    }
  }

  void CheckAll(const std::string& where) {
    SCOPED_TRACE(where);
    testing::ExpectFsckClean(repo_);
    EXPECT_EQ(Git("status --porcelain").out, "");
    EXPECT_EQ(Git("status --porcelain", wt_).out, "");
    RunResult check = Fr("check");
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    for (const auto& [flow, folder] : kFolders) {
      const auto& v = model_.versions[flow];
      EXPECT_EQ(Description("main", folder), v.back()) << flow;
      RunResult h = Fr("history " + flow + " --json");
      ASSERT_EQ(h.exit_code, 0) << h.err;
      auto versions = nlohmann::json::parse(h.out)["versions"];
      ASSERT_EQ(versions.size(), v.size()) << flow;
      for (std::size_t i = 0; i < versions.size(); ++i) {
        EXPECT_EQ(versions[i]["version"], static_cast<int>(v.size() - i)) << flow;
      }
    }
    for (const auto& [name, d] : model_.drafts) {
      bool exists = Git("rev-parse -q --verify refs/heads/drafts/main/" + name).exit_code == 0;
      EXPECT_EQ(exists, d.exists) << "draft " << name;
    }
  }

  void CheckEveryVersion() {
    for (const auto& [flow, folder] : kFolders) {
      const auto& v = model_.versions[flow];
      for (std::size_t k = 1; k <= v.size(); ++k) {
        EXPECT_EQ(Description("refs/tags/main/" + flow + "/v" + std::to_string(k), folder), v[k - 1])
            << flow << " v" << k;
      }
    }
  }

  TempDir dir_;
  std::string repo_, wt_;
  Model model_;
  int tokens_ = 0;
};

TEST_F(GitModelTest, RandomGitAndFlowrepoOperationsMatchTheModel) {
  const long seed = EnvOr("FLOWREPO_MODEL_SEED", 20261203);
  const long ops = EnvOr("FLOWREPO_MODEL_OPS", 2000);
  std::mt19937 rng(static_cast<std::mt19937::result_type>(seed));
  std::vector<std::string> flows;
  for (const auto& [id, folder] : kFolders) flows.push_back(id);
  auto pick = [&](const std::vector<std::string>& from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
  };
  for (long i = 0; i < ops; ++i) {
    int roll = std::uniform_int_distribution<int>(0, 99)(rng);
    std::string flow = pick(flows);
    std::ostringstream what;
    what << "seed " << seed << ", operation " << i << ": ";
    if (roll < 25) {
      std::string draft = pick({"p1", "p2"});
      what << "flow put --draft " << flow << " onto " << draft;
      SCOPED_TRACE(what.str());
      PutEdit(draft, flow);
    } else if (roll < 50) {
      std::string draft = model_.w1_checked_out ? pick({"w1", "w2"}) : "w2";
      what << "git commit " << flow << " on " << draft;
      SCOPED_TRACE(what.str());
      GitEdit(draft, flow);
    } else if (roll < 82) {
      std::vector<std::string> existing;
      for (const auto& [name, d] : model_.drafts) {
        if (d.exists) existing.push_back(name);
      }
      std::string draft = pick(existing);
      what << "publish --draft " << draft;
      SCOPED_TRACE(what.str());
      Publish(draft);
    } else if (roll < 90) {
      what << "revert " << flow;
      SCOPED_TRACE(what.str());
      Revert(flow, rng);
    } else {
      what << "switch the main checkout";
      SCOPED_TRACE(what.str());
      SwitchMainCheckout();
    }
    if (HasFailure()) {
      ADD_FAILURE() << "replay with FLOWREPO_MODEL_SEED=" << seed << " (" << what.str() << ")";
      return;
    }
    if (i % 50 == 49) CheckAll(what.str());
    if (HasFailure()) {
      ADD_FAILURE() << "replay with FLOWREPO_MODEL_SEED=" << seed << " (after " << what.str() << ")";
      return;
    }
  }
  CheckAll("end");
  CheckEveryVersion();
  std::printf("model test: seed %ld, %ld operations, %d publishes\n", seed, ops, model_.seq);
}

}  // namespace
}  // namespace flowrepo
