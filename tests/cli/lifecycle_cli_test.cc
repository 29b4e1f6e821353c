// Issue 17 through the flowrepo binary: retiring and moving flows
// (flow rm, flow mv), lists given either way, follow-up hints that run as
// printed in any workspace, promoting a group into a workspace that has
// some of its flows (import --override-existing), copy --env-conflict,
// listing what a draft leaves unbound and binding it by credential type,
// --json for every outcome (structured problems, usage errors), and one
// way to name a revision (FLOW@vN, FLOW@latest, FLOW@REF) everywhere;
// workspace settings edited by command, and imports that declare them.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace flowrepo {
namespace {

using nlohmann::json;
using testing::ExpectFsckClean;
using testing::Flowrepo;
using testing::Quote;
using testing::ReadFile;
using testing::RefsSnapshot;
using testing::RunResult;
using testing::TempDir;
using testing::WriteFile;

class LifecycleCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Flowrepo("--user alice@example.com init repo", dir_.path()).exit_code, 0);
    repo_ = dir_ / "repo";
    ASSERT_EQ(Run("flow put --draft initial " + Quote(testing::SourceDir() + "/fixtures/flows")).exit_code, 0);
    RunResult r = Run("publish --draft initial -m first");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  RunResult Run(const std::string& args) { return Flowrepo("--user alice@example.com " + args, repo_); }
  // id -> group of the flows at the head of workspace \a ws.
  std::map<std::string, std::string> Groups(const std::string& ws = "main") {
    RunResult r = Run("-w " + ws + " flow list --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::string> out;
    for (const auto& f : json::parse(r.out)) out[f["id"]] = f["group"];
    return out;
  }
  json RunJson(const std::string& args) {
    RunResult r = Run(args + " --json");
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }
  // Publishes on main a copy of fixture flow \a folder whose env variables
  // \a edit changed.
  void PublishEnvEdit(const std::string& folder, const std::function<void(json&)>& edit) {
    const std::string copy = dir_ / "edited" / std::filesystem::path(folder).filename();
    std::filesystem::remove_all(dir_ / "edited");
    std::filesystem::create_directories(copy);
    std::filesystem::copy(testing::SourceDir() + "/fixtures/flows/" + folder, copy);
    json env = json::parse(ReadFile(copy + "/env_variables.json"));
    edit(env);
    WriteFile(copy + "/env_variables.json", env.dump(2));
    ASSERT_EQ(Run("flow put --draft env-edit " + Quote(copy)).exit_code, 0);
    RunResult r = Run("publish --draft env-edit -m env");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // The command a "Publish with: flowrepo ..." line of \a out names,
  // without "flowrepo ".
  static std::string PublishHint(const std::string& out) {
    const std::string marker = "Publish with: flowrepo ";
    auto at = out.find(marker);
    if (at == std::string::npos) return "";
    at += marker.size();
    return out.substr(at, out.find('\n', at) - at);
  }

  TempDir dir_;
  std::string repo_;
};

TEST_F(LifecycleCliTest, RemovedFlowIsRetiredAndItsVersionsStay) {
  RunResult r = Run("flow rm nightly-report --draft cleanup");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Groups().count("nightly-report"), 1u) << "only the draft changes before publish";
  r = Run("publish --draft cleanup -m retire --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["removed"], json({"nightly-report"}));
  EXPECT_EQ(Groups().count("nightly-report"), 0u);

  r = Run("history nightly-report --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json history = json::parse(r.out);
  ASSERT_EQ(history["removed"].size(), 1u) << r.out;
  EXPECT_EQ(history["removed"][0]["note"], "retire");
  ASSERT_EQ(history["versions"].size(), 1u);
  EXPECT_EQ(Run("flow show nightly-report@v1 --file app_definition.json").exit_code, 0);
  ExpectFsckClean(repo_);
}

TEST_F(LifecycleCliTest, RemovingAFlowAnotherUsesIsRefusedAtPublish) {
  // banking-assistant calls kyc-check as a sub-flow.
  ASSERT_EQ(Run("flow rm kyc-check").exit_code, 0);
  const std::string refs = RefsSnapshot(repo_);
  RunResult r = Run("publish --draft remove-kyc-check -m gone");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("banking-assistant"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[missing-subflow]"), std::string::npos) << r.err;
  EXPECT_EQ(RefsSnapshot(repo_), refs);
  EXPECT_EQ(Groups().count("kyc-check"), 1u);
  // Removing both in one draft publishes.
  ASSERT_EQ(Run("flow rm banking-assistant --draft remove-kyc-check").exit_code, 0);
  r = Run("publish --draft remove-kyc-check -m gone");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Groups().size(), 4u);
}

TEST_F(LifecycleCliTest, UnknownFlowsAreNamedWithTheClosestAndNothingIsWritten) {
  const std::string refs = RefsSnapshot(repo_);
  RunResult r = Run("flow rm kyc-chek");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("flow 'kyc-chek' not found in workspace 'main'; did you mean 'kyc-check'?"), std::string::npos)
      << r.err;
  r = Run("flow mv faq-answerer,nope --group Help --draft reorg");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("'nope' not found"), std::string::npos) << r.err;
  r = Run("flow rm faq-answerer ticket-triage");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("several flows need --draft"), std::string::npos) << r.err;
  EXPECT_EQ(Run("flow rm faq-answerer faq-answerer --draft d").exit_code, 2);
  EXPECT_EQ(RefsSnapshot(repo_), refs);
}

TEST_F(LifecycleCliTest, MovedFlowsKeepTheirIdsAndVersions) {
  // Lists are given as A,B or as several words.
  RunResult r = Run("flow mv faq-answerer,ticket-triage --group Help/Desk --draft reorg");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run("flow mv aml-screening kyc-check --group '' --draft reorg");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run("publish --draft reorg -m reorganise --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["versions"].size(), 4u);
  auto groups = Groups();
  EXPECT_EQ(groups["faq-answerer"], "Help/Desk");
  EXPECT_EQ(groups["ticket-triage"], "Help/Desk");
  EXPECT_EQ(groups["aml-screening"], "");
  EXPECT_EQ(groups["banking-assistant"], "Finance/Retail");
  r = Run("history faq-answerer --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["versions"].size(), 2u) << r.out;
  // A sub-flow moved keeps its callers valid: they name it by id.
  EXPECT_EQ(Run("validate").exit_code, 0);
  ExpectFsckClean(repo_);
}

TEST_F(LifecycleCliTest, RenamedFlowContinuesItsVersionsAndItsUsersFollow) {
  RunResult r = Run("flow mv kyc-check --id kyc-verification");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("on draft 'rename-kyc-check'"), std::string::npos) << r.out;
  // The flow calling it as a subflow names the new id on the draft.
  const json caller = json::parse(Run("flow show banking-assistant@rename-kyc-check --file flow_definition.json").out);
  EXPECT_NE(caller.dump().find("\"kyc-verification\""), std::string::npos);
  EXPECT_EQ(caller.dump().find("\"kyc-check\""), std::string::npos);

  EXPECT_NE(Run("draft show rename-kyc-check").out.find("  kyc-check (renamed to kyc-verification)\n"),
            std::string::npos);
  EXPECT_EQ(RunJson("draft show rename-kyc-check")["renamed"],
            json::parse(R"([{"from": "kyc-check", "to": "kyc-verification"}])"));
  json published = RunJson("publish -d rename-kyc-check");
  std::map<std::string, int> versions;
  for (const auto& v : published["versions"]) versions[v["flow"]] = v["version"];
  EXPECT_EQ(versions, (std::map<std::string, int>{{"banking-assistant", 2}, {"kyc-verification", 2}}));
  EXPECT_EQ(published["renamed"], json::parse(R"([{"from": "kyc-check", "to": "kyc-verification"}])"));
  EXPECT_EQ(published["removed"], json({"kyc-check"}));

  json history = RunJson("history kyc-verification");
  ASSERT_EQ(history["versions"].size(), 2u) << history;
  EXPECT_EQ(history["versions"][1]["flow"], "kyc-check");
  EXPECT_EQ(history["versions"][1]["version"], 1);
  EXPECT_EQ(RunJson("history kyc-check")["removed"][0]["renamed_to"], "kyc-verification");
  EXPECT_NE(Run("history kyc-verification").out.find("v1 (as kyc-check)\t"), std::string::npos);

  // Renamed twice on one draft: the versions go on from the first id.
  ASSERT_EQ(Run("flow mv kyc-verification --id kyc-2 -d again").exit_code, 0);
  ASSERT_EQ(Run("flow mv kyc-2 --id kyc-3 -d again").exit_code, 0);
  published = RunJson("publish -d again");
  EXPECT_EQ(published["renamed"], json::parse(R"([{"from": "kyc-verification", "to": "kyc-3"}])"));
  history = RunJson("history kyc-3");
  std::vector<std::string> seen;
  for (const auto& v : history["versions"]) seen.push_back(v["flow"].get<std::string>() + " v" + v["version"].dump());
  EXPECT_EQ(seen, (std::vector<std::string>{"kyc-3 v3", "kyc-verification v2", "kyc-check v1"}));
  r = Run("check");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Run("validate").exit_code, 0);

  // Ids that are taken, here or by a removed flow's versions; one flow only.
  const std::string refs = RefsSnapshot(repo_);
  r = Run("flow mv kyc-3 --id kyc-check");
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("flow id 'kyc-check' has versions in workspace 'main'"), std::string::npos) << r.err;
  EXPECT_EQ(Run("flow mv kyc-3 --id aml-screening").exit_code, 5);
  r = Run("flow mv kyc-33 --id kyc-4");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("did you mean 'kyc-3'?"), std::string::npos) << r.err;
  EXPECT_EQ(Run("flow mv kyc-3 aml-screening --id x -d x").exit_code, 2);
  EXPECT_EQ(Run("flow mv kyc-3 --id x --group y").exit_code, 2);
  EXPECT_EQ(Run("flow mv kyc-3 --id 'Not An Id'").exit_code, 2);
  EXPECT_EQ(RefsSnapshot(repo_), refs);
  ExpectFsckClean(repo_);
}

TEST_F(LifecycleCliTest, MovesThatWouldBreakTheLayoutAreRefused) {
  const std::string refs = RefsSnapshot(repo_);
  RunResult r = Run("flow mv nightly-report --group Finance/Compliance/aml-screening --draft x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("inside flow folder 'flows/Finance/Compliance/aml-screening'"), std::string::npos) << r.err;
  r = Run("flow mv nightly-report --group ../etc --draft x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("invalid group"), std::string::npos) << r.err;
  // A group named like a flow folder already there clashes with it.
  r = Run("flow mv nightly-report --group Finance/Retail/Banking-Assistant --draft x");
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(RefsSnapshot(repo_), refs);
}

TEST_F(LifecycleCliTest, ExportListsAreSplitUnlessAnItemNamesAGroup) {
  ASSERT_EQ(Run("flow mv nightly-report --group 'Ops, Night' -d ops").exit_code, 0);
  ASSERT_EQ(Run("publish -d ops").exit_code, 0);
  auto exported = [&](const std::string& args) {
    json r = RunJson("export " + args + " --deps reference -o out.studiopkg --force");
    std::vector<std::string> ids;
    for (const auto& f : r["flows"]) ids.push_back(f["id"]);
    return ids;
  };
  // A group whose name holds a comma is taken whole, in a list or alone.
  EXPECT_EQ(exported("'Ops, Night'"), std::vector<std::string>{"nightly-report"});
  EXPECT_EQ(exported("kyc-check,aml-screening nightly-report --exclude aml-screening --exclude 'Ops, Night'"),
            std::vector<std::string>{"kyc-check"});
  EXPECT_EQ(exported("Finance/Compliance,nightly-report --exclude kyc-check,nightly-report"),
            std::vector<std::string>{"aml-screening"});
  // An item that is neither is read as a list, and says so when a part is unknown.
  RunResult r = Run("export kyc-check --exclude 'Ops, Night,aml-screnning' -o x.studiopkg");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("no flow or group 'aml-screnning' in workspace 'main' (read 'Ops, Night,aml-screnning' as a "
                       "list; give a group with a comma whole); did you mean 'aml-screening'?"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(repo_ + "/x.studiopkg"));
}

TEST_F(LifecycleCliTest, EveryCommandNamesItsDraftWithDraftOption) {
  ASSERT_EQ(Run("export Finance -o finance.studiopkg").exit_code, 0);
  ASSERT_EQ(Run("workspace create prod --from main").exit_code, 0);
  ASSERT_EQ(Run("-w prod import finance.studiopkg --override-existing -d promote").exit_code, 0);
  RunResult r = Run("-w prod bind banking-assistant -d promote --credential accounts=prod-oauth");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(PublishHint(r.out), "-w prod publish --draft promote") << r.out;

  // The old first-word spelling works for one release, with a warning.
  r = Run("-w prod bind promote --type oauth2=prod-oauth --type api-key=kyc-key");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: 'flowrepo bind DRAFT' is the old spelling, which the next release drops; write "
                       "'flowrepo bind --draft promote'"),
            std::string::npos)
      << r.err;
  const std::string flow = testing::SourceDir() + "/fixtures/changes/banking-assistant";
  r = Run("flow put " + Quote(flow) + " --draft change");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  r = Run("flow put change2 " + Quote(flow));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("write 'flowrepo flow put --draft change2'"), std::string::npos) << r.err;

  // Missing or given twice differently: a usage error, nothing written.
  const std::string refs = RefsSnapshot(repo_);
  for (const std::string args : {"publish", "publish change --draft change2", "bind --type a=b"}) {
    r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
  }
  r = Run("flow put " + Quote(flow));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("flow put needs --draft DRAFT"), std::string::npos) << r.err;
  EXPECT_NE(Run("publish").err.find("publish needs --draft DRAFT"), std::string::npos);
  EXPECT_NE(Run("publish change -d change2").err.find("publish names two drafts: 'change' and --draft 'change2'"),
            std::string::npos);
  EXPECT_EQ(RefsSnapshot(repo_), refs);

  r = Run("-w prod publish --draft promote");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run("publish change");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("write 'flowrepo publish --draft change'"), std::string::npos) << r.err;
}

TEST_F(LifecycleCliTest, HintsRunAsPrintedInAnotherWorkspace) {
  ASSERT_EQ(Run("workspace create prod --from main").exit_code, 0);
  RunResult r = Run("-w prod flow rm nightly-report");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string hint = PublishHint(r.out);
  EXPECT_EQ(hint, "-w prod publish --draft remove-nightly-report") << r.out;
  r = Run(hint);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Groups("prod").count("nightly-report"), 0u);
  EXPECT_EQ(Groups("main").count("nightly-report"), 1u);

  // A copy into another workspace names that workspace.
  r = Run("copy faq-answerer --to-workspace prod --name 'FAQ Answerer 2' --draft faq2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  hint = PublishHint(r.out);
  EXPECT_EQ(hint, "-w prod publish --draft faq2") << r.out;
  r = Run(hint);
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // From another directory, -C comes first.
  r = Flowrepo("--user alice@example.com -C repo flow rm ticket-triage", dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(PublishHint(r.out), "-C repo publish --draft remove-ticket-triage") << r.out;
}

TEST_F(LifecycleCliTest, OverrideExistingPromotesAGroupInOneDraft) {
  ASSERT_EQ(Run("workspace create prod --from main").exit_code, 0);
  // prod keeps kyc-check elsewhere; main changes one flow and adds one.
  ASSERT_EQ(Run("-w prod flow mv kyc-check --group Checks --draft regroup").exit_code, 0);
  ASSERT_EQ(Run("-w prod publish --draft regroup -m regroup").exit_code, 0);
  ASSERT_EQ(
      Run("flow put --draft change " + Quote(testing::SourceDir() + "/fixtures/changes/banking-assistant")).exit_code,
      0);
  ASSERT_EQ(Run("flow new card-limits --name 'Card Limits' --group Finance/Retail --draft change").exit_code, 0);
  ASSERT_EQ(Run("publish --draft change -m fraud").exit_code, 0);
  ASSERT_EQ(Run("export Finance -o finance.studiopkg").exit_code, 0);

  // Without it, the ids prod has are refused.
  const std::string refs = RefsSnapshot(repo_);
  RunResult r = Run("-w prod import finance.studiopkg");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_EQ(Run("-w prod import finance.studiopkg --override-existing --as-new").exit_code, 2);
  EXPECT_EQ(RefsSnapshot(repo_), refs);

  json imported = RunJson("-w prod import finance.studiopkg --override-existing --draft promote");
  std::map<std::string, std::pair<std::string, std::string>> actions;  // id -> action, group
  for (const auto& f : imported["flows"]) actions[f["id"]] = {f["action"], f["group"]};
  using Row = std::pair<std::string, std::string>;
  EXPECT_EQ(actions["banking-assistant"], Row("overridden", "Finance/Retail"));
  EXPECT_EQ(actions["kyc-check"], Row("overridden", "Checks")) << "a replaced flow keeps its group";
  EXPECT_EQ(actions["aml-screening"], Row("overridden", "Finance/Compliance"));
  EXPECT_EQ(actions["card-limits"], Row("added", "Finance/Retail"));
  EXPECT_EQ(actions.size(), 4u);

  // Credentials are never imported: each replaced flow is bound again.
  for (const char* bind : {"banking-assistant --credential accounts=core-banking-prod",
                           "aml-screening --credential screen=screening", "kyc-check --credential lookup=kyc"}) {
    ASSERT_EQ(Run("-w prod bind --draft promote " + std::string(bind)).exit_code, 0) << bind;
  }
  json published = RunJson("-w prod publish --draft promote -m promote");
  std::map<std::string, int> versions;
  for (const auto& v : published["versions"]) versions[v["flow"]] = v["version"];
  EXPECT_EQ(versions["banking-assistant"], 2);
  EXPECT_EQ(versions["card-limits"], 1);
  EXPECT_EQ(Run("-w prod flow show banking-assistant --file flow_definition.json").out,
            Run("flow show banking-assistant --file flow_definition.json").out);
  ExpectFsckClean(repo_);
}

TEST_F(LifecycleCliTest, CopyToAWorkspaceKeepsOrOverwritesItsEnv) {
  ASSERT_EQ(Run("workspace create prod --from main").exit_code, 0);
  PublishEnvEdit("Support/Knowledge/faq-answerer",
                 [](json& env) { env["variables"][0]["value"] = "https://kb2.example.com/api"; });
  json kept = RunJson("copy faq-answerer --to-workspace prod --override faq-answerer --dry-run");
  EXPECT_EQ(kept["flows"][0]["kept_env"], json({"KB_URL"}));
  json replaced =
      RunJson("copy faq-answerer --to-workspace prod --override faq-answerer --env-conflict overwrite --draft faq");
  EXPECT_EQ(replaced["flows"][0]["overwritten_env"], json({"KB_URL"}));
  ASSERT_EQ(Run("-w prod publish --draft faq").exit_code, 0);
  json env = json::parse(Run("-w prod flow show faq-answerer --file env_variables.json").out);
  EXPECT_EQ(env["variables"][0]["value"], "https://kb2.example.com/api");
  RunResult r = Run("copy faq-answerer --name Other --env-conflict overwrite");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("need --to-workspace"), std::string::npos) << r.err;
}

TEST_F(LifecycleCliTest, UnboundCredentialsAreListedAndBoundByType) {
  // Packages carry no credentials: an import leaves every node unbound.
  ASSERT_EQ(Run("export Finance -o finance.studiopkg").exit_code, 0);
  ASSERT_EQ(Run("workspace create prod --from main").exit_code, 0);
  ASSERT_EQ(Run("-w prod import finance.studiopkg --override-existing --draft promote").exit_code, 0);
  json unbound = RunJson("-w prod draft show promote --unbound");
  EXPECT_EQ(unbound["types"], json({{"api-key", 1}, {"oauth2", 2}}));
  std::map<std::string, json> nodes;
  for (const auto& f : unbound["flows"]) nodes[f["flow"]] = f["credentials"];
  EXPECT_EQ(nodes["banking-assistant"],
            json::parse(R"([{"node": "accounts", "type": "oauth2", "pointer": "/nodes/3/credential/binding"}])"));
  EXPECT_EQ(nodes.size(), 3u);
  RunResult r = Run("-w prod draft show promote --unbound");
  EXPECT_NE(r.out.find(
                "Bind 2 node(s) needing 'oauth2' with: flowrepo -w prod bind --draft promote --type oauth2=CREDENTIAL"),
            std::string::npos)
      << r.out;

  // A type no unbound node needs is refused with the ones that are, and
  // nothing is bound.
  const std::string refs = RefsSnapshot(repo_);
  r = Run("-w prod bind -d promote --type oauth2=prod-oauth --type oauth=typo");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no unbound node needs a 'oauth' credential in the flows draft 'promote' changes "
                       "(unbound types: 'api-key', 'oauth2')"),
            std::string::npos)
      << r.err;
  r = Run("-w prod bind -d promote --type oauth2=ghp_pLIix6MEOLeMa61EqJomTEI1JEzO3joOj37H");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("the credential for type 'oauth2' looks like a secret value"), std::string::npos) << r.err;
  EXPECT_EQ(Run("-w prod bind -d promote --credential accounts=x").exit_code, 2) << "--credential needs a FLOW";
  EXPECT_EQ(RefsSnapshot(repo_), refs);

  json bound = RunJson("-w prod bind --draft promote --type oauth2=prod-oauth");
  EXPECT_EQ(bound["flows"], json({"aml-screening", "banking-assistant"}));
  unbound = RunJson("-w prod draft show promote --unbound");
  EXPECT_EQ(unbound["types"], json({{"api-key", 1}}));
  ASSERT_EQ(Run("-w prod bind kyc-check --draft promote --type api-key=kyc-key").exit_code, 0);
  EXPECT_EQ(RunJson("-w prod draft show promote --unbound")["flows"], json::array());
  r = Run("-w prod publish --draft promote -m promote");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json def = json::parse(Run("-w prod flow show banking-assistant --file flow_definition.json").out);
  EXPECT_EQ(def["nodes"][3]["credential"]["binding"], "prod-oauth");
}

TEST_F(LifecycleCliTest, JsonErrorsCarryEachProblemWhole) {
  ASSERT_EQ(Run("flow rm kyc-check --draft bad").exit_code, 0);
  RunResult r = Run("publish --draft bad --json");
  EXPECT_EQ(r.exit_code, 4);
  json error = json::parse(r.out)["error"];
  EXPECT_EQ(error["code"], "invalid-data");
  EXPECT_EQ(error["message"], "publish refused: 1 problem(s) in 1 flow(s); workspace 'main' unchanged");
  EXPECT_EQ(error["problems"], json::parse(R"([{
      "flow": "banking-assistant",
      "file": "flows/Finance/Retail/banking-assistant/flow_definition.json",
      "pointer": "/nodes/1/config/flow",
      "rule": "missing-subflow",
      "message": "node 'kyc' uses flow 'kyc-check', which draft 'bad' removes"}])"));

  // An import refusal gives each problem the flow it is about, also where
  // the file is a package folder.
  ASSERT_EQ(Run("export Support -o support.studiopkg").exit_code, 0);
  r = Run("import support.studiopkg --json");
  EXPECT_EQ(r.exit_code, 4);
  error = json::parse(r.out)["error"];
  ASSERT_EQ(error["problems"].size(), 2u) << r.out;
  EXPECT_EQ(error["problems"][0]["rule"], "import/id-collision");
  EXPECT_EQ(error["problems"][0]["flow"], "faq-answerer");
  EXPECT_EQ(error["details"].size(), 2u);
}

TEST_F(LifecycleCliTest, UsageErrorsAreJsonWhenAskedAndSuggestTheCommand) {
  RunResult r = Run("pubish bad");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "flowrepo: error: 'pubish' is not a flowrepo command; did you mean 'publish'?\n"
            "Run with --help for more information.\n");
  r = Run("draft shw bad --json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(json::parse(r.out), json::parse(R"({"error": {"code": "invalid-argument",
      "message": "'shw' is not a flowrepo draft command; did you mean 'show'?"}})"));
  r = Run("--json flow rm");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(json::parse(r.out)["error"]["message"], "FLOW is required");
  r = Run("flow list --nope --json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(json::parse(r.out)["error"]["code"], "invalid-argument");
  // --help still prints help, and --version the version.
  EXPECT_EQ(Run("flow rm --help --json").exit_code, 0);
}

TEST_F(LifecycleCliTest, EveryCommandNamesARevisionAsFlowAtRevision) {
  ASSERT_EQ(Run("flow mv faq-answerer --group Help --draft m").exit_code, 0);
  json published = RunJson("publish --draft m");
  const std::string v2_commit = published["commit"];

  // diff: FLOW@REV pairs, the older form, an abbreviated commit id, and a
  // group change that stays valid JSON.
  const std::string expected = Run("diff faq-answerer v1 v2 --json").out;
  EXPECT_EQ(Run("diff faq-answerer@v1 faq-answerer@v2 --json").out, expected);
  EXPECT_EQ(Run("diff faq-answerer@v1 v2 --json").out, expected);
  EXPECT_EQ(Run("diff faq-answerer@v1 faq-answerer@latest --json").out, Run("diff faq-answerer@v1 main --json").out);
  json diff = RunJson("diff faq-answerer@v1 faq-answerer@" + v2_commit.substr(0, 7));
  ASSERT_EQ(diff["changes"].size(), 1u) << diff;
  EXPECT_EQ(diff["changes"][0]["before"], "Support/Knowledge");
  EXPECT_EQ(diff["changes"][0]["after"], "Help");
  RunResult r = Run("diff faq-answerer@v1 kyc-check@v1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("names flow 'kyc-check', not 'faq-answerer'"), std::string::npos) << r.err;
  EXPECT_EQ(Run("diff faq-answerer").exit_code, 2);

  // revert: FLOW@vN, or --to.
  json reverted = RunJson("revert faq-answerer@v1");
  EXPECT_EQ(reverted["draft"]["name"], "revert-faq-answerer-v1");
  EXPECT_EQ(Run("revert faq-answerer@v1 --to v1").exit_code, 2);
  EXPECT_EQ(Run("revert faq-answerer").exit_code, 2);
  EXPECT_EQ(Run("revert faq-answerer@main").exit_code, 2);

  // export: FLOW@vN is --version N (vN or N), FLOW@latest the newest.
  json v1 = RunJson("export faq-answerer@v1 -o at.zip");
  EXPECT_EQ(v1["flows"][0]["version"], 1);
  EXPECT_EQ(RunJson("export faq-answerer --version v1 -o v.zip")["flows"][0]["version"], 1);
  EXPECT_EQ(RunJson("export faq-answerer@latest -o latest.zip")["flows"][0]["version"], 2);
  EXPECT_EQ(Run("export faq-answerer@v1 --version 2 -o x.zip").exit_code, 2);
  EXPECT_EQ(Run("export faq-answerer@v1 kyc-check -o x.zip").exit_code, 2);
  EXPECT_EQ(Run("flow show faq-answerer@" + v2_commit.substr(0, 7) + " --file app_definition.json").exit_code, 0);
}

TEST_F(LifecycleCliTest, ImportDeclaresComponentsAFreshWorkspaceLacks) {
  ASSERT_EQ(Run("flow add " + Quote(testing::SourceDir() + "/fixtures/formats/n8n") + " --draft n8n").exit_code, 0);
  ASSERT_EQ(Run("publish --draft n8n").exit_code, 0);
  ASSERT_EQ(Run("export error-handler invoice-sync legacy-copy-rows notify-team -o all.studiopkg").exit_code, 0);
  ASSERT_EQ(Flowrepo("--user alice@example.com init fresh", dir_.path()).exit_code, 0);
  const std::string fresh = dir_ / "fresh";
  const std::string package = Quote(repo_ + "/all.studiopkg");
  auto run = [&](const std::string& args) { return Flowrepo("--user alice@example.com " + args, fresh); };

  RunResult r = run("import " + package);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("declare it with --declare-components [import/missing-component]"), std::string::npos) << r.err;
  r = run("import " + package + " --declare-components --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json imported = json::parse(r.out);
  EXPECT_GE(imported["declared_components"].size(), 5u) << r.out;
  r = run("publish --draft import-all --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["settings_changes"].size(), imported["declared_components"].size());
  json listed = json::parse(run("settings component list --json").out);
  for (const auto& c : imported["declared_components"]) {
    EXPECT_NE(std::find(listed.begin(), listed.end(), c), listed.end()) << c;
  }
}

TEST_F(LifecycleCliTest, SettingsCommandsEditComponentsAndTopicsOnADraft) {
  // Withdrawing a component a flow uses is refused at publish.
  RunResult r = Run("settings component remove http@1 --draft s");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Publish with: flowrepo publish --draft s"), std::string::npos) << r.out;
  r = Run("publish --draft s");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("[missing-component]"), std::string::npos) << r.err;
  ASSERT_EQ(Run("draft drop s").exit_code, 0);

  // Topics: a workspace that lists none accepts any; listing some makes
  // it manage them, so the draft lists every topic its flows use.
  ASSERT_EQ(Run("settings topic add support.tickets,support.routed --draft topics").exit_code, 0);
  r = Run("publish --draft topics");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("topic 'compliance.alerts' is used here"), std::string::npos) << r.err;
  ASSERT_EQ(Run("settings topic add compliance.alerts --draft topics").exit_code, 0);
  EXPECT_EQ(json::parse(Run("settings topic list --at topics --json").out),
            json({"compliance.alerts", "support.routed", "support.tickets"}));
  EXPECT_EQ(json::parse(Run("settings topic list --json").out), json::array());
  json published = RunJson("publish --draft topics");
  EXPECT_EQ(published["settings_changes"].size(), 3u);

  // Mistakes change nothing: a name listed twice, one not listed, a
  // malformed one, a viewer.
  const std::string refs = RefsSnapshot(repo_);
  EXPECT_EQ(Run("settings topic add support.tickets").exit_code, 5);
  r = Run("settings topic remove support.tiket");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("did you mean 'support.tickets'?"), std::string::npos) << r.err;
  EXPECT_EQ(Run("settings topic add 'a*'").exit_code, 2);
  ASSERT_EQ(Run("role grant viewer@example.com viewer").exit_code, 0);
  const std::string after_grant = RefsSnapshot(repo_);
  EXPECT_EQ(Flowrepo("--user viewer@example.com settings component add 'n8n:*'", repo_).exit_code, 6);
  EXPECT_EQ(Flowrepo("--user viewer@example.com settings component list", repo_).exit_code, 0);
  EXPECT_EQ(RefsSnapshot(repo_), after_grant);
  EXPECT_NE(refs, after_grant);  // only the grant moved the workspace
}

TEST_F(LifecycleCliTest, ExportRoleIsAWorkspaceSettingOnlyAnAdminChanges) {
  ASSERT_EQ(Run("role grant bob@example.com integrator").exit_code, 0);
  ASSERT_EQ(Run("role grant vic@example.com viewer").exit_code, 0);
  ASSERT_EQ(Run("workspace create prod --from main").exit_code, 0);
  auto as = [&](const std::string& user, const std::string& args) {
    return Flowrepo("--user " + user + " " + args, repo_);
  };
  EXPECT_EQ(Run("settings export-role").out, "integrator\n");
  EXPECT_EQ(as("vic@example.com", "export Finance -o v.studiopkg").exit_code, 6);
  ASSERT_EQ(as("bob@example.com", "export Finance -o b.studiopkg").exit_code, 0);

  // An integrator may propose it; publishing it needs an admin.
  RunResult r = as("bob@example.com", "settings export-role admin -d lock");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(Run("settings export-role --at lock --json").out), json({{"export_role", "admin"}}));
  EXPECT_NE(Run("draft show lock").out.find("publishing this draft needs the admin role"), std::string::npos);
  EXPECT_EQ(as("bob@example.com", "publish -d lock").exit_code, 6);
  json published = RunJson("publish -d lock");
  ASSERT_EQ(published["settings_changes"].size(), 1u);
  EXPECT_EQ(published["settings_changes"][0]["key"], "export_role");
  EXPECT_EQ(published["settings_changes"][0]["needs_admin"], true);

  // Now only admins take flows out: by export, and by copy into another workspace.
  const std::string refs = RefsSnapshot(repo_);
  r = as("bob@example.com", "export Finance -o b2.studiopkg --force");
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_EQ(r.err,
            "flowrepo: error: user 'bob@example.com' needs role 'admin' in workspace 'main' to export, as the "
            "workspace's export_role says (has 'integrator')\n");
  EXPECT_FALSE(std::filesystem::exists(repo_ + "/b2.studiopkg"));
  EXPECT_EQ(as("bob@example.com", "copy kyc-check --to-workspace prod --override kyc-check").exit_code, 6);
  EXPECT_EQ(as("bob@example.com", "export kyc-check@v1").exit_code, 6);
  EXPECT_EQ(RefsSnapshot(repo_), refs);
  EXPECT_EQ(Run("export Finance -o a.studiopkg").exit_code, 0);
  // Other workspaces keep their own setting.
  EXPECT_EQ(as("bob@example.com", "-w prod export Finance -o p.studiopkg").exit_code, 0);

  ASSERT_EQ(Run("settings export-role viewer -d open").exit_code, 0);
  ASSERT_EQ(Run("publish -d open").exit_code, 0);
  EXPECT_EQ(as("vic@example.com", "export Finance -o v.studiopkg").exit_code, 0);
  EXPECT_EQ(Run("settings export-role owner").exit_code, 2);
}

TEST_F(LifecycleCliTest, EnvDefaultsAreSetOnADraftAndSecretsOnlyByReference) {
  RunResult r =
      Run("settings env set REGION=eu-west-1 'GREETING=Hello, world' --secret DB_PASSWORD=vault:prod/db -d env");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Publish with: flowrepo publish --draft env"), std::string::npos) << r.out;
  EXPECT_EQ(json::parse(Run("settings env list --at env --json").out), json::parse(R"([
      {"name": "DB_PASSWORD", "secret": true, "ref": "vault:prod/db"},
      {"name": "GREETING", "value": "Hello, world"},
      {"name": "REGION", "value": "eu-west-1"}])"));
  EXPECT_EQ(Run("settings env list").out, "(none)\n");

  // Secrets never land in git: not as a value, not as a "reference".
  const std::string refs = RefsSnapshot(repo_);
  const std::string token = "ghp_pLIix6MEOLeMa61EqJomTEI1JEzO3joOj37H";
  r = Run("settings env set API_TOKEN=" + token + " -d env");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("env default 'API_TOKEN''s value looks like a secret value"), std::string::npos) << r.err;
  EXPECT_EQ(Run("settings env set --secret API_TOKEN=" + token + " -d env").exit_code, 2);
  EXPECT_EQ(Run("settings env set 1ST=x -d env").exit_code, 2);
  EXPECT_EQ(Run("settings env set A=x --secret A=vault:a -d env").exit_code, 2);
  r = Run("settings env remove REGIN -d env");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("did you mean 'REGION'?"), std::string::npos) << r.err;
  EXPECT_EQ(RefsSnapshot(repo_), refs);

  ASSERT_EQ(Run("settings env set REGION=eu-central-1 -d env").exit_code, 0);
  ASSERT_EQ(Run("settings env remove GREETING -d env").exit_code, 0);
  json published = RunJson("publish -d env");
  std::vector<std::string> messages;
  for (const auto& c : published["settings_changes"]) messages.push_back(c["message"]);
  EXPECT_EQ(messages, (std::vector<std::string>{"env default added: 'DB_PASSWORD'", "env default added: 'REGION'"}));
  EXPECT_EQ(json::parse(Run("settings env list --json").out).size(), 2u);
  // Values stay out of commit messages: the log is copied more widely than the tree.
  EXPECT_EQ(testing::Shell("git log --format=%B main", repo_).out.find("eu-central-1"), std::string::npos);
}

TEST_F(LifecycleCliTest, FlowAddRefusalsGivePointerAndRuleAsValidateDoes) {
  json workflow = json::parse(ReadFile(testing::SourceDir() + "/fixtures/formats/n8n/notify-team.json"));
  workflow["nodes"][0]["parameters"]["token"] = "ghp_pLIix6MEOLeMa61EqJomTEI1JEzO3joOj37H";
  const std::string file = dir_ / "leaky.json";
  WriteFile(file, workflow.dump());
  RunResult r = Run("flow add " + Quote(file) + " --draft leak");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find(file + ":/nodes/0/parameters/token: plain-text secret (GitHub personal access token)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("[secret/github-pat]"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("ghp_pLIix6"), std::string::npos) << "the secret itself is never printed";
  r = Run("flow add " + Quote(file) + " --draft leak --json");
  const json problems = json::parse(r.out)["error"]["problems"];
  ASSERT_EQ(problems.size(), 2u) << r.out;
  EXPECT_EQ(problems[0]["rule"], "add/secret");
  EXPECT_EQ(problems[1]["pointer"], "/nodes/0/parameters/token");
  EXPECT_EQ(problems[1]["rule"], "secret/github-pat");
  EXPECT_EQ(Run("draft list").out, "(no drafts)\n");
}

TEST_F(LifecycleCliTest, ValidateChecksN8nAndNodeRedFilesAsFlowAddReadsThem) {
  const std::string formats = testing::SourceDir() + "/fixtures/formats";
  RunResult r = Run("validate " + Quote(formats + "/n8n/notify-team.json"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ok: 1 flow(s) checked in file '"), std::string::npos) << r.out;
  // A folder without flow folders holds files: every one is checked.
  json folder = RunJson("validate " + Quote(formats + "/n8n"));
  EXPECT_EQ(folder["flows"].size(), 4u) << folder;
  EXPECT_EQ(RunJson("validate " + Quote(formats + "/node-red") + " --format node-red")["ok"], true);

  const std::string bad = dir_ / "bad";
  std::filesystem::create_directories(bad);
  json workflow = json::parse(ReadFile(formats + "/n8n/notify-team.json"));
  workflow["nodes"][0]["parameters"]["token"] = "ghp_pLIix6MEOLeMa61EqJomTEI1JEzO3joOj37H";
  WriteFile(bad + "/leaky.json", workflow.dump());
  WriteFile(bad + "/broken.json", "{\"nodes\": [");
  std::filesystem::copy(formats + "/n8n/invoice-sync.json", bad + "/invoice-sync.json");
  const std::string refs = RefsSnapshot(repo_);
  r = Run("validate " + Quote(bad) + " --json");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const json report = json::parse(r.out);
  EXPECT_EQ(report["flows"], json({bad + "/invoice-sync.json"}));
  std::vector<std::string> rules;
  for (const auto& p : report["problems"]) rules.push_back(p["rule"]);
  EXPECT_EQ(rules, (std::vector<std::string>{"add/json", "add/secret", "secret/github-pat"})) << r.out;
  EXPECT_EQ(r.out.find("ghp_pLIix6"), std::string::npos) << "the secret itself is never printed";
  EXPECT_NE(r.err.find("flowrepo: error: 3 file(s): " + bad + "/broken.json"), std::string::npos) << r.err;
  EXPECT_EQ(RefsSnapshot(repo_), refs);
}

TEST_F(LifecycleCliTest, ReAddingAFileKeepsTheFlowsGroupUnlessOneIsGiven) {
  const std::string file = Quote(testing::SourceDir() + "/fixtures/formats/n8n/notify-team.json");
  ASSERT_EQ(Run("flow add " + file + " --group Team --draft a").exit_code, 0);
  ASSERT_EQ(Run("publish a").exit_code, 0);
  RunResult r = Run("flow add " + file + " --draft b");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("updated\tn8n\tflows/Team/notify-team"), std::string::npos) << r.out;
  EXPECT_EQ(Groups()["notify-team"], "Team");
  ASSERT_EQ(Run("flow add " + file + " --draft b --group Other").exit_code, 0);
  ASSERT_EQ(Run("publish --draft b").exit_code, 0);
  EXPECT_EQ(Groups()["notify-team"], "Other");
}

}  // namespace
}  // namespace flowrepo
