// Export, import, bind and copy between workspaces through the flowrepo
// binary: exit codes, messages, --json output, and what unzip sees.

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "hostile/corpus.h"
#include "support/raw_zip.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::Flowrepo;
using testing::Quote;
using testing::ReadFile;
using testing::RefsSnapshot;
using testing::RunResult;
using testing::Shell;
using testing::TempDir;
using testing::WriteFile;

class PackageCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = NewRepo("repo");
    PublishFixtures(repo_);
  }
  std::string NewRepo(const std::string& name) {
    RunResult r = Flowrepo("--user alice@example.com init " + name, dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return dir_ / name;
  }
  RunResult Run(const std::string& args, const std::string& repo = "") {
    return Flowrepo("--user alice@example.com " + args, repo.empty() ? repo_ : repo);
  }
  json RunJson(const std::string& args, const std::string& repo = "") {
    RunResult r = Run(args + " --json", repo);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }
  std::string Fixtures() const { return testing::SourceDir() + "/fixtures"; }
  void PublishFixtures(const std::string& repo) {
    ASSERT_EQ(Run("flow put --draft initial " + Quote(Fixtures() + "/flows"), repo).exit_code, 0);
    RunResult r = Run("publish --draft initial -m first", repo);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Changes .flowrepo/workspace.json of \a ws with plain git on a draft,
  // then publishes the draft.
  void EditSettings(const std::string& repo, const std::string& ws, const std::function<void(json&)>& edit) {
    std::string tree = dir_ / ("settings-" + ws);
    RunResult r = Shell("git worktree add -q " + Quote(tree) + " -b drafts/" + ws + "/settings " + ws, repo);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json settings = json::parse(ReadFile(tree + "/.flowrepo/workspace.json"));
    edit(settings);
    WriteFile(tree + "/.flowrepo/workspace.json", settings.dump(2) + "\n");
    r = Shell("git -c user.name=T -c user.email=t@example.com commit -qam settings && cd " + Quote(repo) +
                  " && git worktree remove --force " + Quote(tree),
              tree);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = Run("-w " + ws + " publish --draft settings -m settings", repo);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Every byte unzip can get out of \a package, plus the raw file.
  std::string Contents(const std::string& package) {
    return ReadFile(package) + Shell("unzip -p " + Quote(package)).out;
  }
  std::vector<std::string> FlowIds(const json& exported) {
    std::vector<std::string> ids;
    for (const auto& f : exported["flows"]) ids.push_back(f["id"]);
    return ids;
  }

  TempDir dir_;
  std::string repo_;
};

TEST_F(PackageCliTest, GroupSelectionWithDeselection) {
  json r = RunJson("export Finance --exclude aml-screening -o finance.studiopkg");
  EXPECT_EQ(FlowIds(r), (std::vector<std::string>{"kyc-check", "banking-assistant"}));
  r = RunJson("export Support --exclude Support/Knowledge --deps reference -o support.studiopkg");
  EXPECT_EQ(FlowIds(r), std::vector<std::string>{"ticket-triage"});
  EXPECT_EQ(r["referenced_dependencies"], json({"faq-answerer"}));
  RunResult list = Shell("unzip -Z1 finance.studiopkg", repo_);
  EXPECT_EQ(list.out,
            "manifest.json\n"
            "flows/Finance/Compliance/kyc-check/app_definition.json\n"
            "flows/Finance/Compliance/kyc-check/env_variables.json\n"
            "flows/Finance/Compliance/kyc-check/flow_definition.json\n"
            "flows/Finance/Retail/banking-assistant/app_definition.json\n"
            "flows/Finance/Retail/banking-assistant/env_variables.json\n"
            "flows/Finance/Retail/banking-assistant/flow_definition.json\n");
  json manifest = json::parse(Shell("unzip -p finance.studiopkg manifest.json", repo_).out);
  EXPECT_EQ(manifest["groups"]["groups"]["Finance"]["groups"]["Retail"]["flows"], json({"banking-assistant"}));
  RunResult bad = Run("export Finanse");
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_EQ(bad.err, "flowrepo: error: no flow or group 'Finanse' in workspace 'main'; did you mean 'Finance'?\n");
}

TEST_F(PackageCliTest, DependencyPolicies) {
  json r = RunJson("export banking-assistant -o include.studiopkg");
  EXPECT_EQ(FlowIds(r), (std::vector<std::string>{"kyc-check", "banking-assistant"}));
  EXPECT_EQ(r["included_dependencies"], json({"kyc-check"}));
  RunResult human = Run("export banking-assistant -o include2.studiopkg");
  EXPECT_NE(human.out.find("Included because selected flows use them: kyc-check"), std::string::npos) << human.out;

  r = RunJson("export banking-assistant --deps reference -o reference.studiopkg");
  EXPECT_EQ(FlowIds(r), std::vector<std::string>{"banking-assistant"});
  json manifest = json::parse(Shell("unzip -p reference.studiopkg manifest.json", repo_).out);
  EXPECT_EQ(manifest["requirements"]["flows"], json({"kyc-check"}));
  EXPECT_EQ(manifest["flows"][0]["dependencies"],
            json::parse(R"([{"flow": "kyc-check", "node": "kyc", "included": false}])"));

  RunResult fail = Run("export banking-assistant --deps fail -o fail.studiopkg");
  EXPECT_EQ(fail.exit_code, 4);
  EXPECT_EQ(fail.err,
            "flowrepo: error: export refused: 1 problem(s) in 1 flow(s); nothing was written\n"
            "  flows/Finance/Retail/banking-assistant/flow_definition.json:/nodes/1/config/flow: node 'kyc' uses "
            "flow 'kyc-check', which is not selected; select it or use --deps include or reference "
            "[export/unselected-dependency]\n");
  EXPECT_FALSE(fs::exists(repo_ + "/fail.studiopkg"));
  EXPECT_EQ(Run("export banking-assistant kyc-check --deps fail -o ok.studiopkg").exit_code, 0);
}

TEST_F(PackageCliTest, FileNamingRule) {
  std::string out = dir_ / "out";
  fs::create_directories(out);
  EXPECT_EQ(RunJson("export Operations --dir " + Quote(out))["path"], out + "/export.studiopkg");
  EXPECT_EQ(RunJson("export Operations --dir " + Quote(out))["path"], out + "/export 1.studiopkg");
  EXPECT_EQ(RunJson("export Operations --dir " + Quote(out))["path"], out + "/export 2.studiopkg");
  fs::remove(out + "/export 1.studiopkg");
  EXPECT_EQ(RunJson("export Operations --dir " + Quote(out))["path"], out + "/export 1.studiopkg");
  RunResult here = Run("export Operations");
  EXPECT_EQ(here.exit_code, 0);
  EXPECT_NE(here.out.find("to 'export.studiopkg'"), std::string::npos) << here.out;

  WriteFile(out + "/mine.zip", "precious");
  RunResult r = Run("export Operations -o " + Quote(out + "/mine.zip"));
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(r.err, "flowrepo: error: '" + out + "/mine.zip' already exists; pass --force to overwrite it\n");
  EXPECT_EQ(ReadFile(out + "/mine.zip"), "precious");
  EXPECT_EQ(Run("export Operations --force -o " + Quote(out + "/mine.zip")).exit_code, 0);
  EXPECT_EQ(Shell("unzip -tq " + Quote(out + "/mine.zip")).exit_code, 0);
  // Nothing but packages: no temporary files.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(out)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"export 1.studiopkg", "export 2.studiopkg", "export.studiopkg", "mine.zip"}));
}

TEST_F(PackageCliTest, SingleVersionNaming) {
  ASSERT_EQ(Run("flow put --draft change " + Quote(Fixtures() + "/changes/banking-assistant")).exit_code, 0);
  ASSERT_EQ(Run("publish --draft change -m fraud").exit_code, 0);
  json r = RunJson("export banking-assistant --version 1");
  EXPECT_EQ(r["path"], "Banking Assistant.zip");
  ASSERT_EQ(r["flows"].size(), 1u);
  EXPECT_EQ(r["flows"][0]["version"], 1);
  json manifest = json::parse(Shell("unzip -p 'Banking Assistant.zip' manifest.json", repo_).out);
  EXPECT_EQ(manifest["export"]["version"], 1);
  EXPECT_EQ(manifest["requirements"]["flows"], json({"kyc-check"}));  // one flow: dependencies referenced
  RunResult again = Run("export banking-assistant --version 1");
  EXPECT_EQ(again.exit_code, 5);
  r = RunJson("export banking-assistant --version latest -o v2.zip");
  EXPECT_EQ(r["flows"][0]["version"], 2);
  EXPECT_NE(Shell("unzip -p v2.zip", repo_).out.find("\"fraud\""), std::string::npos);
  EXPECT_EQ(Shell("unzip -p 'Banking Assistant.zip'", repo_).out.find("\"fraud\""), std::string::npos);
  EXPECT_EQ(Run("export banking-assistant --version 9").exit_code, 3);
  EXPECT_EQ(Run("export banking-assistant --version two").exit_code, 2);
}

TEST_F(PackageCliTest, DeterministicPackages) {
  ASSERT_EQ(Run("export --all -o a.studiopkg").exit_code, 0);
  ASSERT_EQ(Run("flow new later --draft later").exit_code, 0);  // a draft does not change the export
  ASSERT_EQ(Shell("TZ=America/Los_Angeles " + std::string(FLOWREPO_BINARY) +
                      " --user alice@example.com export --all -o b.studiopkg",
                  repo_)
                .exit_code,
            0);
  EXPECT_EQ(ReadFile(repo_ + "/a.studiopkg"), ReadFile(repo_ + "/b.studiopkg"));
  std::string commit = Shell("git rev-parse main", repo_).out;
  commit.pop_back();
  ASSERT_EQ(Run("publish --draft later").exit_code, 0);
  // Later commits do not change what the earlier commit exports.
  ASSERT_EQ(Run("export --all --at " + commit + " -o c.studiopkg").exit_code, 0);
  EXPECT_EQ(ReadFile(repo_ + "/a.studiopkg"), ReadFile(repo_ + "/c.studiopkg"));
  ASSERT_EQ(Run("export --all --exclude later -o d.studiopkg").exit_code, 0);
  EXPECT_NE(ReadFile(repo_ + "/a.studiopkg"), ReadFile(repo_ + "/d.studiopkg"));  // another commit
}

TEST_F(PackageCliTest, SecretStripping) {
  // The fixtures hold credential bindings, secret references, endpoints,
  // sharing and audit data; a draft adds a secret variable with a value.
  std::string flow = dir_ / "leak/nightly-report";
  Shell("mkdir -p " + Quote(flow) + " && cp " + Quote(Fixtures() + "/flows/Operations/nightly-report/") + "* " +
        Quote(flow));
  const std::string canary = "CanaryValue-5b9d01c7e2";
  WriteFile(flow + "/env_variables.json",
            json({{"variables", {{{"name", "REPORT_DB_PASSWORD"}, {"secret", true}, {"value", canary}}}}}).dump());
  ASSERT_EQ(Run("flow put --draft leak " + Quote(flow)).exit_code, 0);
  RunResult r = Run("export --all --at leak -o all.studiopkg");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string all = Contents(repo_ + "/all.studiopkg");
  ASSERT_NE(all.find("\"kyc-check\""), std::string::npos);  // unzip -p did extract the documents
  for (const char* stripped :
       {"core-banking-prod", "kyc-provider", "screening-prod", "vault:finance/core-banking/api-key",
        "flows.internal.example.com", "\"sharing\"", "\"audit\"", "reviewed_by", "\"endpoint\"", "\"binding\""}) {
    EXPECT_EQ(all.find(stripped), std::string::npos) << stripped;
  }
  EXPECT_EQ(all.find(canary), std::string::npos);
  EXPECT_NE(all.find("REPORT_DB_PASSWORD"), std::string::npos);
  EXPECT_NE(all.find("CORE_BANKING_KEY"), std::string::npos);

  // A secret in a free-form field refuses the export; no file is written.
  std::string def = ReadFile(flow + "/flow_definition.json");
  json j = json::parse(def);
  j["nodes"][1]["config"]["url"] = "https://report:" + canary + "@db.example.com/q";
  WriteFile(flow + "/flow_definition.json", j.dump());
  ASSERT_EQ(Run("flow put --draft leak " + Quote(flow)).exit_code, 0);
  r = Run("export nightly-report --at leak -o leak.studiopkg");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("flowrepo: error: export refused: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("flows/Operations/nightly-report/flow_definition.json:/nodes/1/config/url: "), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find(canary), std::string::npos);
  EXPECT_FALSE(fs::exists(repo_ + "/leak.studiopkg"));
  EXPECT_EQ(Shell("ls -a | grep -c flowrepo-export", repo_).out, "0\n");
}

TEST_F(PackageCliTest, ImportAsNew) {
  ASSERT_EQ(Run("export banking-assistant -o pkg.studiopkg").exit_code, 0);
  RunResult refused = Run("import pkg.studiopkg");
  EXPECT_EQ(refused.exit_code, 4);
  EXPECT_NE(refused.err.find("flow 'banking-assistant' already exists in workspace 'main' "
                             "(flows/Finance/Retail/banking-assistant); use --override banking-assistant"),
            std::string::npos)
      << refused.err;
  json r = RunJson("import pkg.studiopkg --as-new");
  ASSERT_EQ(r["flows"].size(), 2u);
  EXPECT_EQ(r["draft"], "import-pkg");
  EXPECT_EQ(r["flows"][0]["id"], "kyc-check-2");
  EXPECT_EQ(r["flows"][1]["id"], "banking-assistant-2");
  EXPECT_EQ(r["flows"][1]["name"], "Banking Assistant (2)");
  RunResult show = Run("flow show banking-assistant-2@import-pkg --file flow_definition.json");
  EXPECT_NE(show.out.find("\"flow\": \"kyc-check-2\""), std::string::npos) << show.out;
  EXPECT_EQ(r["flows"][1]["unbound_secrets"], json({"CORE_BANKING_KEY"}));
  ASSERT_EQ(Run("bind --draft import-pkg banking-assistant-2 --credential accounts=core-banking-prod --secret "
                "CORE_BANKING_KEY=vault:finance/core-banking/api-key")
                .exit_code,
            0);
  ASSERT_EQ(Run("bind --draft import-pkg kyc-check-2 --credential lookup=kyc-provider --secret "
                "KYC_TOKEN=vault:finance/kyc/token")
                .exit_code,
            0);
  RunResult p = Run("publish --draft import-pkg -m copies --json");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(json::parse(p.out)["versions"].size(), 2u);
  EXPECT_EQ(RunJson("flow list").size(), 8u);
}

TEST_F(PackageCliTest, OverrideThenPublishThenRevert) {
  ASSERT_EQ(Run("flow put --draft change " + Quote(Fixtures() + "/changes/banking-assistant")).exit_code, 0);
  ASSERT_EQ(Run("publish --draft change -m fraud").exit_code, 0);
  ASSERT_EQ(Run("export banking-assistant --version 1").exit_code, 0);
  RunResult r = Run("import 'Banking Assistant.zip' --override banking-assistant");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("banking-assistant (Finance/Retail): overrides the existing flow"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("node 'accounts' needs a credential: flowrepo bind banking-assistant --draft "
                       "import-banking-assistant --credential accounts=NAME"),
            std::string::npos)
      << r.out;
  ASSERT_EQ(
      Run("bind --draft import-banking-assistant banking-assistant --credential accounts=core-banking-prod").exit_code,
      0);
  json p = RunJson("publish --draft import-banking-assistant -m 'back to v1 via package'");
  EXPECT_EQ(p["versions"][0]["version"], 3);
  EXPECT_EQ(Run("flow show banking-assistant@v3 --file flow_definition.json").out,
            Run("flow show banking-assistant@v1 --file flow_definition.json").out);
  // The package's app definition, with the endpoint, sharing and audit of
  // the replaced flow.
  json v1 = json::parse(Run("flow show banking-assistant@v1 --file app_definition.json").out);
  json v2 = json::parse(Run("flow show banking-assistant@v2 --file app_definition.json").out);
  json v3 = json::parse(Run("flow show banking-assistant@v3 --file app_definition.json").out);
  EXPECT_EQ(v3["description"], v1["description"]);
  for (const char* kept : {"endpoint", "sharing", "audit"}) EXPECT_EQ(v3[kept], v2[kept]) << kept;
  ASSERT_EQ(Run("revert banking-assistant --to v2").exit_code, 0);
  p = RunJson("publish --draft revert-banking-assistant-v2 -m again");
  EXPECT_EQ(p["versions"][0]["version"], 4);
  EXPECT_EQ(Run("flow show banking-assistant@v4 --file flow_definition.json").out,
            Run("flow show banking-assistant@v2 --file flow_definition.json").out);
  EXPECT_EQ(RunJson("history banking-assistant")["versions"].size(), 4u);
  testing::ExpectFsckClean(repo_);
}

TEST_F(PackageCliTest, TopicMappingWithSeveralTopics) {
  ASSERT_EQ(Run("export Support -o support.studiopkg").exit_code, 0);
  std::string target = NewRepo("target");
  EditSettings(target, "main", [](json& s) { s["topics"] = {"helpdesk.in", "helpdesk.out"}; });
  std::string before = RefsSnapshot(target);
  RunResult r = Run("import " + Quote(repo_ + "/support.studiopkg"), target);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("topic 'support.routed' does not exist in workspace 'main'; map it with --topic "
                       "support.routed=TOPIC [import/missing-topic]"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("topic 'support.tickets' does not exist"), std::string::npos) << r.err;
  EXPECT_EQ(RefsSnapshot(target), before);
  json ok = RunJson("import " + Quote(repo_ + "/support.studiopkg") +
                        " --topic support.tickets=helpdesk.in --topic support.routed=helpdesk.out",
                    target);
  EXPECT_EQ(ok["flows"][1]["topics"], json({{"support.routed", "helpdesk.out"}, {"support.tickets", "helpdesk.in"}}));
  RunResult p = Run("publish --draft import-support", target);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  std::string def = Run("flow show ticket-triage --file flow_definition.json", target).out;
  EXPECT_NE(def.find("\"topic\": \"helpdesk.in\""), std::string::npos) << def;
  EXPECT_NE(def.find("\"topic\": \"helpdesk.out\""), std::string::npos) << def;
  EXPECT_EQ(def.find("support.tickets"), std::string::npos) << def;
}

TEST_F(PackageCliTest, MissingComponentRefusedWithClearList) {
  ASSERT_EQ(Run("export banking-assistant -o pkg.studiopkg").exit_code, 0);
  std::string target = NewRepo("target");
  EditSettings(target, "main", [](json& s) { s["components"] = json::array({{{"name", "http"}, {"version", "1"}}}); });
  std::string before = RefsSnapshot(target);
  RunResult r = Run("import " + Quote(repo_ + "/pkg.studiopkg"), target);
  EXPECT_EQ(r.exit_code, 4);
  std::string pkg = repo_ + "/pkg.studiopkg";
  EXPECT_EQ(r.err, "flowrepo: error: import of '" + pkg +
                       "' refused: 2 problem(s); workspace 'main' unchanged\n"
                       "  " +
                       pkg +
                       ": component 'javascript@1' (used by 'banking-assistant', 'kyc-check') is not "
                       "available in workspace 'main'; declare it with --declare-components "
                       "[import/missing-component]\n"
                       "  " +
                       pkg +
                       ": component 'llm-chat@1' (used by 'banking-assistant') is not available in "
                       "workspace 'main'; declare it with --declare-components [import/missing-component]\n");
  EXPECT_EQ(RefsSnapshot(target), before);
}

TEST_F(PackageCliTest, UnboundCredentialsBlockPublish) {
  ASSERT_EQ(Run("export banking-assistant -o pkg.studiopkg").exit_code, 0);
  std::string target = NewRepo("target");
  ASSERT_EQ(Run("import " + Quote(repo_ + "/pkg.studiopkg") + " --draft incoming", target).exit_code, 0);
  RunResult p = Run("publish --draft incoming", target);
  EXPECT_EQ(p.exit_code, 4);
  EXPECT_NE(p.err.find("node 'accounts' needs a 'oauth2' credential; bind one with 'flowrepo bind'"), std::string::npos)
      << p.err;
  EXPECT_NE(p.err.find("node 'lookup' needs a 'api-key' credential"), std::string::npos) << p.err;
  RunResult b = Run("bind --draft incoming banking-assistant --credential accounts=core-banking-eu", target);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  RunResult wrong = Run("bind --draft incoming kyc-check --credential nope=x", target);
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_EQ(wrong.err,
            "flowrepo: error: node 'nope' of flow 'kyc-check' needs no credential (nodes that do: "
            "'lookup')\n");
  ASSERT_EQ(Run("bind --draft incoming kyc-check --credential lookup=kyc-eu", target).exit_code, 0);
  // The secret variables too: a package supplies no reference.
  p = Run("publish --draft incoming", target);
  EXPECT_EQ(p.exit_code, 4);
  EXPECT_NE(p.err.find("secret variable 'CORE_BANKING_KEY' has no reference; bind one with 'flowrepo bind "
                       "banking-assistant --draft DRAFT --secret CORE_BANKING_KEY=REFERENCE' [unbound-secret]"),
            std::string::npos)
      << p.err;
  ASSERT_EQ(
      Run("bind --draft incoming banking-assistant --secret CORE_BANKING_KEY=vault:eu/core-banking", target).exit_code,
      0);
  ASSERT_EQ(Run("bind --draft incoming kyc-check --secret KYC_TOKEN=vault:eu/kyc", target).exit_code, 0);
  p = Run("publish --draft incoming", target);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(Run("flow show banking-assistant --file flow_definition.json", target).out.find("core-banking-eu"),
            std::string::npos);
}

TEST_F(PackageCliTest, DryRunWritesNothing) {
  ASSERT_EQ(Run("export --all -o all.studiopkg").exit_code, 0);
  std::string target = NewRepo("target");
  std::string before = RefsSnapshot(target);
  std::string objects = Shell("find .git/objects -type f | sort", target).out;
  RunResult r = Run("import " + Quote(repo_ + "/all.studiopkg") + " --dry-run", target);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Dry run: would import 6 flow(s) from '" + repo_ +
                       "/all.studiopkg' onto draft 'import-all' of workspace 'main' (new draft)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Nothing was written.\n"), std::string::npos);
  EXPECT_EQ(RefsSnapshot(target), before);
  EXPECT_EQ(Shell("find .git/objects -type f | sort", target).out, objects);
  json plan =
      RunJson("import " + Quote(repo_ + "/all.studiopkg") + " --dry-run --flows kyc-check,faq-answerer", target);
  EXPECT_EQ(plan["dry_run"], true);
  EXPECT_EQ(plan["commit"], "");
  EXPECT_EQ(plan["flows"].size(), 2u);
}

// The dry run and the import plan through one function: whatever the
// import refuses, the dry run refuses the same way.
// A hostile package supplies a secret reference, and a node that sends the
// secret to an outside URL: the reference is not imported, the variable
// arrives unbound and publish refuses it until bound.
TEST_F(PackageCliTest, PackageSecretReferenceArrivesUnboundAndBlocksPublish) {
  ASSERT_EQ(Run("export nightly-report -o nightly.studiopkg").exit_code, 0);
  const std::string pkg = repo_ + "/nightly.studiopkg";
  const std::string env = "flows/Operations/nightly-report/env_variables.json";
  json vars = json::parse(Shell("unzip -p " + Quote(pkg) + " " + env).out);
  vars["variables"].push_back({{"name", "DB_ROOT"}, {"secret", true}, {"ref", "vault:prod/databases/root"}});
  const std::string hostile = dir_ / "hostile.studiopkg";
  WriteFile(hostile, testing::hostile::WithEntry(ReadFile(pkg), env, vars.dump(2) + "\n"));
  std::string target = NewRepo("target");
  RunResult r = Run("import " + Quote(hostile) + " --draft incoming", target);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("secret 'DB_ROOT' needs a reference: flowrepo bind nightly-report --draft incoming --secret "
                       "DB_ROOT=REFERENCE"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(Run("flow show nightly-report@incoming --file env_variables.json", target).out.find("vault:"),
            std::string::npos);
  RunResult p = Run("publish --draft incoming", target);
  EXPECT_EQ(p.exit_code, 4);
  EXPECT_NE(p.err.find("secret variable 'DB_ROOT' has no reference"), std::string::npos) << p.err;
  RunResult b =
      Run("bind --draft incoming nightly-report --secret DB_ROOT=vault:staging/db --secret "
          "SMTP_PASSWORD=vault:staging/smtp",
          target);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  p = Run("publish --draft incoming", target);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(Run("flow show nightly-report --file env_variables.json", target).out.find("vault:staging/db"),
            std::string::npos);
  RunResult nothing = Run("bind --draft incoming nightly-report", target);
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_EQ(nothing.err,
            "flowrepo: error: nothing to bind: pass --credential NODE=CREDENTIAL, --type TYPE=CREDENTIAL or "
            "--secret VARIABLE=REFERENCE\n");
}

TEST_F(PackageCliTest, DryRunRefusesWhatTheImportRefuses) {
  std::string source = NewRepo("source");
  ASSERT_EQ(Run("flow new daily --group ops --draft d", source).exit_code, 0);
  ASSERT_EQ(Run("flow new reports --draft d", source).exit_code, 0);
  ASSERT_EQ(Run("publish --draft d -m first", source).exit_code, 0);
  ASSERT_EQ(Run("export daily -o " + Quote(dir_ / "daily.studiopkg"), source).exit_code, 0);
  ASSERT_EQ(Run("export reports -o " + Quote(dir_ / "reports.studiopkg"), source).exit_code, 0);

  // The target has a top-level flow 'ops': the package's group 'ops'
  // would be a folder inside it.
  std::string target = NewRepo("target");
  ASSERT_EQ(Run("flow new ops --draft t", target).exit_code, 0);
  ASSERT_EQ(Run("flow new weekly --group reports --draft t", target).exit_code, 0);
  ASSERT_EQ(Run("publish --draft t -m first", target).exit_code, 0);
  const std::string before = RefsSnapshot(target);
  const std::string daily = dir_ / "daily.studiopkg";
  RunResult dry = Run("import " + Quote(daily) + " --dry-run", target);
  RunResult real = Run("import " + Quote(daily), target);
  EXPECT_EQ(dry.exit_code, 4) << dry.out << dry.err;
  EXPECT_EQ(real.exit_code, 4) << real.err;
  EXPECT_EQ(dry.err, real.err);
  EXPECT_EQ(real.err, "flowrepo: error: import of '" + daily +
                          "' refused: flows/ops/daily/app_definition.json: group 'ops' is inside flow folder "
                          "'flows/ops' (flow 'ops' of workspace 'main') [import/layout]; workspace 'main' "
                          "unchanged\n");
  // The other way round: the package's top-level flow 'reports' would be a
  // folder holding the target's flow 'weekly', which would vanish.
  const std::string reports = dir_ / "reports.studiopkg";
  dry = Run("import " + Quote(reports) + " --dry-run", target);
  real = Run("import " + Quote(reports), target);
  EXPECT_EQ(dry.exit_code, 4) << dry.out << dry.err;
  EXPECT_EQ(real.exit_code, 4) << real.err;
  EXPECT_EQ(dry.err, real.err);
  EXPECT_NE(real.err.find("flow folder 'flows/reports' would hold flow folder 'flows/reports/weekly' (flow "
                          "'weekly' of workspace 'main') [import/layout]"),
            std::string::npos)
      << real.err;
  EXPECT_EQ(RefsSnapshot(target), before);
  EXPECT_EQ(Run("flow list --json", target).out.find("\"daily\""), std::string::npos);
}

TEST_F(PackageCliTest, CrossWorkspaceCopy) {
  ASSERT_EQ(Run("workspace create prod --from main").exit_code, 0);
  ASSERT_EQ(Run("flow put --draft change " + Quote(Fixtures() + "/changes/banking-assistant")).exit_code, 0);
  ASSERT_EQ(Run("publish --draft change -m fraud").exit_code, 0);
  std::string files = Shell("ls -a", repo_).out;
  RunResult dry = Run("copy banking-assistant --to-workspace prod --override banking-assistant --dry-run");
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("Dry run: would import 1 flow(s) from workspace 'main' onto draft "
                         "'copy-banking-assistant-from-main' of workspace 'prod'"),
            std::string::npos)
      << dry.out;
  json r = RunJson("copy banking-assistant --to-workspace prod --override banking-assistant");
  EXPECT_EQ(r["draft"], "copy-banking-assistant-from-main");
  EXPECT_EQ(r["workspace"], "prod");
  ASSERT_EQ(Run("-w prod bind --draft copy-banking-assistant-from-main banking-assistant --credential "
                "accounts=core-banking-prod")
                .exit_code,
            0);
  json p = RunJson("-w prod publish --draft copy-banking-assistant-from-main");
  // prod's v1 is what it was created with; the override is the next version.
  EXPECT_EQ(p["versions"][0]["tag"], "refs/tags/prod/banking-assistant/v2");
  EXPECT_EQ(Run("-w prod flow show banking-assistant --file flow_definition.json").out,
            Run("flow show banking-assistant --file flow_definition.json").out);
  EXPECT_EQ(Shell("ls -a", repo_).out, files);  // no file in between
  RunResult collide = Run("copy kyc-check --to-workspace prod");
  EXPECT_EQ(collide.exit_code, 4);
  EXPECT_NE(collide.err.find("flow 'kyc-check' already exists in workspace 'prod'"), std::string::npos);
  json as_new = RunJson("copy kyc-check --to-workspace prod --name 'KYC Check EU' --id kyc-eu");
  EXPECT_EQ(as_new["flows"][0]["id"], "kyc-eu");
}

TEST_F(PackageCliTest, UnzipListsTestsAndExtractsPackages) {
  ASSERT_EQ(Run("export --all -o all.studiopkg").exit_code, 0);
  RunResult t = Shell("unzip -t all.studiopkg", repo_);
  EXPECT_EQ(t.exit_code, 0) << t.out << t.err;
  EXPECT_NE(t.out.find("No errors detected in compressed data of all.studiopkg."), std::string::npos);
  RunResult l = Shell("unzip -l all.studiopkg", repo_);
  EXPECT_EQ(l.exit_code, 0);
  EXPECT_NE(l.out.find("flows/Support/Knowledge/faq-answerer/flow_definition.json"), std::string::npos);
  EXPECT_NE(l.out.find("19 files"), std::string::npos) << l.out;
  RunResult x = Shell("unzip -q all.studiopkg -d extracted", dir_.path() + "/repo");
  EXPECT_EQ(x.exit_code, 0) << x.err;
  EXPECT_EQ(ReadFile(repo_ + "/extracted/flows/Operations/nightly-report/flow_definition.json"),
            Run("flow show nightly-report --file flow_definition.json").out);
}

TEST_F(PackageCliTest, HostilePackagesLeaveRepositoryUnchanged) {
  ASSERT_EQ(Run("export Operations -o good.studiopkg").exit_code, 0);
  auto entries = testing::ReadZipEntries(repo_ + "/good.studiopkg");
  entries.emplace_back("flows/../../evil.json", "{}");
  WriteFile(dir_ / "evil.studiopkg", testing::RezipStored(entries));
  std::string before = RefsSnapshot(repo_);
  RunResult r = Run("import " + Quote(dir_ / "evil.studiopkg") + " --json");
  EXPECT_EQ(r.exit_code, 4);
  json error = json::parse(r.out)["error"];
  EXPECT_EQ(error["code"], "invalid-data");
  std::string message = error["message"];
  EXPECT_EQ(message.rfind("import of '" + (dir_ / "evil.studiopkg") + "' refused: ", 0), 0u) << message;
  // One problem is named in the message itself, several are listed.
  const std::string problem = "flows/../../evil.json: entry name has a '..' path part [package/entry-name]";
  EXPECT_NE((message + error.value("details", json::array()).dump()).find(problem), std::string::npos) << r.out;
  EXPECT_NE(r.err.find(problem), std::string::npos) << r.err;
  EXPECT_EQ(RefsSnapshot(repo_), before);
  EXPECT_EQ(Run("import " + Quote(dir_ / "nothing.studiopkg")).exit_code, 3);
  RunResult limit = Run("import good.studiopkg --max-entries 2");
  EXPECT_EQ(limit.exit_code, 4);
  EXPECT_NE(limit.err.find("package has 4 entries, more than 2 (the limit) [package/limit]"), std::string::npos)
      << limit.err;
}

TEST_F(PackageCliTest, HelpShowsExamples) {
  for (const char* cmd : {"export", "import", "bind", "copy"}) {
    RunResult r = Flowrepo(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("Example"), std::string::npos) << cmd << ": " << r.out;
  }
}

}  // namespace
}  // namespace flowrepo
