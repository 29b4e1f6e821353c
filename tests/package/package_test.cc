// Packages through the library: export (selection, dependencies, stripping,
// determinism, naming, versions), the reader (limits, hostile entries,
// manifest checks) and import (modes, topics, components, credentials,
// dry run, copy between workspaces).

#include "flowrepo/package.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zip.h>
#include <zlib.h>

#include <filesystem>

#include "flowrepo/repository.h"
#include "flowrepo/validate.h"
#include "hostile/corpus.h"
#include "hostile/zip_bytes.h"
#include "json/json_io.h"
#include "repo/repository_impl.h"
#include "support/raw_zip.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

namespace fs = std::filesystem;
using testing::ExpectError;
using testing::MakeFlow;
using testing::ReadFile;
using testing::RefsSnapshot;
using testing::TempDir;
using testing::WriteFile;

constexpr char kAdmin[] = "admin@example.com";

std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string AllText(const std::string& zip_path) {
  std::string all = ReadFile(zip_path);
  for (const auto& [name, data] : testing::ReadZipEntries(zip_path)) all += name + "\n" + data;
  return all;
}

// A flow with a credential binding, topics and a secret variable.
Flow RichFlow(const std::string& id, const std::string& group, const std::vector<std::string>& topics) {
  Flow flow = MakeFlow(id, group);
  Json def = Json::parse(flow.flow_definition);
  Json& nodes = def["nodes"];
  nodes[1]["credential"] = {{"type", "oauth2"}, {"binding", "prod-binding"}};
  std::string prev = "call-0";
  Json edges = Json::array({{{"from", "start"}, {"to", "call-0"}}});
  int i = 0;
  for (const auto& t : topics) {
    std::string nid = "pub-" + std::to_string(i++);
    nodes.insert(nodes.end() - 1, Json{{"id", nid}, {"type", "publish"}, {"config", {{"topic", t}}}});
    edges.push_back({{"from", prev}, {"to", nid}});
    prev = nid;
  }
  edges.push_back({{"from", prev}, {"to", "end"}});
  def["edges"] = edges;
  flow.flow_definition = CanonicalJson(def);
  flow.env_variables = CanonicalJson(
      {{"variables", Json::array({{{"name", "API_BASE"}, {"value", "https://api.example.com"}},
                                  {{"name", "API_TOKEN"}, {"secret", true}, {"ref", "vault:team/token"}}})}});
  return flow;
}

class PackageTest : public ::testing::Test {
 protected:
  FlowRepository Init(const std::string& name = "repo") {
    return testing::InitRepository(dir_ / name, kAdmin, InitOptions::Layout::kBare);
  }
  void Publish(FlowRepository& repo, const std::vector<Flow>& flows, const std::string& draft,
               const std::string& ws = "main") {
    repo.PutFlows(ws, draft, flows);
    repo.Publish(ws, draft, "");
  }
  // Changes .flowrepo/workspace.json of \a ws through a published draft.
  void EditSettings(FlowRepository& repo, const std::string& ws, const std::function<void(Json&)>& edit) {
    auto& impl = ImplOf(repo);
    WorkspaceSettings s = WorkspaceSettings::AtCommit(impl.store, impl.WorkspaceHead(ws));
    edit(s.document);
    TreeEdits edits;
    edits[std::string(kSettingsPath)] = TreeEntry{impl.store.WriteBlob(CanonicalJson(s.document)), GIT_FILEMODE_BLOB};
    impl.CommitToDraft(ws, "settings", edits, "Change settings\n", {});
    repo.Publish(ws, "settings", "settings");
  }
  ExportRequest Request(std::vector<std::string> selection, const std::string& output) {
    ExportRequest r;
    r.selection = std::move(selection);
    r.output = output.empty() ? "" : dir_ / output;
    r.directory = dir_.path();
    return r;
  }
  // Publishes a small set: Finance/Retail/app (uses kyc), Finance/Compliance/kyc,
  // Finance/Compliance/EU/aml, Ops/report.
  FlowRepository Standard() {
    FlowRepository repo = Init();
    Publish(repo,
            {MakeFlow("app", "Finance/Retail", 1, "kyc"), MakeFlow("kyc", "Finance/Compliance"),
             MakeFlow("aml", "Finance/Compliance/EU"), MakeFlow("report", "Ops")},
            "initial");
    return repo;
  }
  std::vector<std::string> Ids(const std::vector<PackageFlowInfo>& flows) {
    std::vector<std::string> ids;
    for (const auto& f : flows) ids.push_back(f.id);
    return ids;
  }

  TempDir dir_;
};

TEST(SafeFileNameTest, ReplacesUnsafeCharacters) {
  EXPECT_EQ(SafeFileName("Banking Assistant"), "Banking Assistant");
  EXPECT_EQ(SafeFileName("A/B: \"test\" <v2>?*|"), "A_B_ _test_ _v2____");
  EXPECT_EQ(SafeFileName("../..//etc"), "_..__etc");
  EXPECT_EQ(SafeFileName("  .hidden. "), "hidden");
  EXPECT_EQ(SafeFileName("CON"), "_CON");
  EXPECT_EQ(SafeFileName("com1.txt"), "_com1.txt");
  EXPECT_EQ(SafeFileName(""), "flow");
  EXPECT_EQ(SafeFileName("tab\there"), "tab_here");
  EXPECT_EQ(SafeFileName("Zürich Flow"), "Zürich Flow");
  EXPECT_EQ(SafeFileName("bad\xff utf8"), "bad_ utf8");
  EXPECT_LE(SafeFileName(std::string(300, 'x')).size(), 100u);
}

TEST_F(PackageTest, ExportIsDeterministicWithFixedEntryMetadata) {
  FlowRepository repo = Standard();
  ExportResult a = ExportPackage(repo, Request({"Finance"}, "a.studiopkg"));
  ExportResult b = ExportPackage(repo, Request({"Finance"}, "b.studiopkg"));
  EXPECT_EQ(ReadFile(a.path), ReadFile(b.path));
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.sha256, Sha256Hex(ReadFile(a.path)));
  setenv("TZ", "Pacific/Kiritimati", 1);
  tzset();
  ExportResult c = ExportPackage(repo, Request({"Finance"}, "c.studiopkg"));
  unsetenv("TZ");
  tzset();
  EXPECT_EQ(ReadFile(a.path), ReadFile(c.path)) << "entry times depend on the time zone";

  int error = 0;
  zip_t* za = zip_open(a.path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &error);
  ASSERT_NE(za, nullptr);
  std::vector<std::string> names;
  for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(zip_get_num_entries(za, 0)); ++i) {
    names.push_back(zip_get_name(za, i, 0));
    EXPECT_EQ(zip_file_extra_fields_count(za, i, ZIP_FL_LOCAL), 0);
    EXPECT_EQ(zip_file_extra_fields_count(za, i, ZIP_FL_CENTRAL), 0);
    zip_stat_t st;
    ASSERT_EQ(zip_stat_index(za, i, 0, &st), 0);
    EXPECT_EQ(st.comp_method, ZIP_CM_DEFLATE);
    zip_uint8_t opsys = 0;
    zip_uint32_t attributes = 0;
    zip_file_get_external_attributes(za, i, 0, &opsys, &attributes);
    EXPECT_EQ(opsys, ZIP_OPSYS_UNIX);
    EXPECT_EQ(attributes >> 16, 0100644u);
  }
  zip_discard(za);
  EXPECT_EQ(
      names,
      (std::vector<std::string>{
          "manifest.json", "flows/Finance/Compliance/EU/aml/app_definition.json",
          "flows/Finance/Compliance/EU/aml/env_variables.json", "flows/Finance/Compliance/EU/aml/flow_definition.json",
          "flows/Finance/Compliance/kyc/app_definition.json", "flows/Finance/Compliance/kyc/env_variables.json",
          "flows/Finance/Compliance/kyc/flow_definition.json", "flows/Finance/Retail/app/app_definition.json",
          "flows/Finance/Retail/app/env_variables.json", "flows/Finance/Retail/app/flow_definition.json"}));
  // Only the package is left in the folder: no temporary file.
  EXPECT_EQ(Files(dir_.path()), (std::vector<std::string>{"a.studiopkg", "b.studiopkg", "c.studiopkg", "repo"}));
}

TEST_F(PackageTest, ManifestHoldsEveryField) {
  FlowRepository repo = Init();
  EditSettings(repo, "main", [](Json& s) { s["topics"] = {"orders.new", "orders.done"}; });
  Publish(repo, {RichFlow("shop", "Sales/EU", {"orders.new", "orders.done"}), MakeFlow("kyc")}, "d");
  ExportResult r = ExportPackage(repo, Request({"shop", "kyc"}, "m.studiopkg"));
  auto entries = testing::ReadZipEntries(r.path);
  ASSERT_EQ(entries[0].first, "manifest.json");
  Json m = Json::parse(entries[0].second);
  EXPECT_EQ(m["schema"], "flowrepo/package@1");
  EXPECT_EQ(m["tool"]["name"], "flowrepo");
  EXPECT_EQ(m["tool"]["version"], FLOWREPO_VERSION);
  EXPECT_EQ(m["source"]["workspace"], "main");
  EXPECT_EQ(m["source"]["commit"], r.commit);
  EXPECT_EQ(m["export"]["selection"], Json({"shop", "kyc"}));
  EXPECT_EQ(m["export"]["dependencies"], "include");
  ASSERT_EQ(m["flows"].size(), 2u);
  const Json& shop = m["flows"][0];  // flows/Sales/EU/shop sorts before flows/kyc
  EXPECT_EQ(shop["id"], "shop");
  EXPECT_EQ(shop["name"], "Flow shop");
  EXPECT_EQ(shop["group"], "Sales/EU");
  EXPECT_EQ(shop["path"], "flows/Sales/EU/shop");
  EXPECT_EQ(shop["version"], 1);
  EXPECT_EQ(shop["format"], "flowrepo/flow@1");
  EXPECT_EQ(shop["commit"].get<std::string>().size(), 40u);
  for (const auto& [name, data] : entries) {
    if (name.rfind("flows/Sales/EU/shop/", 0) != 0) continue;
    std::string file = name.substr(std::string("flows/Sales/EU/shop/").size());
    EXPECT_EQ(shop["files"][file]["sha256"], Sha256Hex(data)) << file;
    EXPECT_EQ(shop["files"][file]["size"], data.size()) << file;
  }
  EXPECT_EQ(shop["requirements"]["components"], Json({"http@1"}));
  EXPECT_EQ(shop["requirements"]["topics"], Json({"orders.done", "orders.new"}));
  EXPECT_EQ(shop["requirements"]["credentials"], Json::parse(R"([{"node":"call-0","type":"oauth2"}])"));
  EXPECT_EQ(shop["requirements"]["env_variables"],
            Json::parse(R"([{"name":"API_BASE","secret":false},{"name":"API_TOKEN","secret":true}])"));
  EXPECT_EQ(m["groups"]["flows"], Json({"kyc"}));
  EXPECT_EQ(m["groups"]["groups"]["Sales"]["groups"]["EU"]["flows"], Json({"shop"}));
  EXPECT_EQ(m["requirements"]["credentials"][0]["flow"], "shop");
  EXPECT_EQ(m["requirements"]["topics"], Json({"orders.done", "orders.new"}));

  PackageReport report = VerifyPackage(r.path);
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems[0].ToString());
  EXPECT_EQ(report.manifest.commit, r.commit);
  EXPECT_EQ(report.manifest.groups, (std::vector<std::string>{"Sales", "Sales/EU"}));
  EXPECT_EQ(report.entries, 7u);
}

// The manifest of a large package is made a block of 1,024 flows at a time
// and deflated in pieces: it must still be one document, equal to the
// canonical text of the whole, and the package must pass validate.
TEST_F(PackageTest, ManifestOfManyFlowsIsOneCanonicalDocument) {
  FlowRepository repo = Init();
  std::vector<Flow> flows;
  for (int i = 0; i < 1100; ++i) flows.push_back(MakeFlow("f" + std::to_string(i), "G" + std::to_string(i % 7)));
  Publish(repo, flows, "many");
  ExportRequest req = Request({}, "many.studiopkg");
  req.all = true;
  ExportResult r = ExportPackage(repo, req);
  auto entries = testing::ReadZipEntries(r.path);
  ASSERT_EQ(entries[0].first, "manifest.json");
  Json m = Json::parse(entries[0].second);
  EXPECT_EQ(m["flows"].size(), 1100u);
  EXPECT_GT(entries[0].second.size(), std::size_t{1} << 20);  // more than one deflated piece
  EXPECT_EQ(CanonicalJson(m), entries[0].second);
  ValidationReport report = ValidatePackage(r.path, PackageCheck::kContents, nullptr);
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems[0].ToString());
}

TEST_F(PackageTest, GroupSelectsSubGroupsAndExcludeDeselects) {
  FlowRepository repo = Standard();
  ExportResult r = ExportPackage(repo, Request({"Finance/Compliance"}, "1.studiopkg"));
  EXPECT_EQ(Ids(r.flows), (std::vector<std::string>{"aml", "kyc"}));
  ExportRequest req = Request({"Finance"}, "2.studiopkg");
  req.exclude = {"Finance/Compliance/EU"};
  r = ExportPackage(repo, req);
  EXPECT_EQ(Ids(r.flows), (std::vector<std::string>{"kyc", "app"}));
  req = Request({}, "3.studiopkg");
  req.all = true;
  req.exclude = {"aml", "Ops/"};
  r = ExportPackage(repo, req);
  EXPECT_EQ(Ids(r.flows), (std::vector<std::string>{"kyc", "app"}));
  ExpectError(ErrorCode::kNotFound, "no flow or group 'Nope' in workspace 'main'",
              [&] { ExportPackage(repo, Request({"Nope"}, "4.studiopkg")); });
  ExpectError(ErrorCode::kInvalidArgument, "nothing to export: name flows or groups, or pass --all",
              [&] { ExportPackage(repo, Request({}, "5.studiopkg")); });
}

// A caller showing a few flows asks for those: the package still holds
// every flow, and the result says how many.
TEST_F(PackageTest, ResultListsOnlyTheFlowsAskedFor) {
  FlowRepository repo = Standard();
  ExportRequest req = Request({}, "all.studiopkg");
  req.all = true;
  req.listed_flows = 2;
  ExportResult r = ExportPackage(repo, req);
  EXPECT_EQ(r.flow_count, 4u);
  EXPECT_EQ(Ids(r.flows), (std::vector<std::string>{"aml", "kyc"}));
  PackageReport report = VerifyPackage(r.path);
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.manifest.flows.size(), 4u);
}

TEST_F(PackageTest, DependencyPolicies) {
  FlowRepository repo = Standard();
  ExportResult r = ExportPackage(repo, Request({"app"}, "include.studiopkg"));
  EXPECT_EQ(Ids(r.flows), (std::vector<std::string>{"kyc", "app"}));
  EXPECT_EQ(r.included_dependencies, std::vector<std::string>{"kyc"});
  EXPECT_TRUE(r.flows[0].dependency);
  ASSERT_EQ(r.flows[1].dependencies.size(), 1u);
  EXPECT_TRUE(r.flows[1].dependencies[0].included);

  ExportRequest req = Request({"app"}, "reference.studiopkg");
  req.dependencies = DependencyPolicy::kReference;
  r = ExportPackage(repo, req);
  EXPECT_EQ(Ids(r.flows), std::vector<std::string>{"app"});
  EXPECT_EQ(r.referenced_dependencies, std::vector<std::string>{"kyc"});
  PackageReport report = VerifyPackage(r.path);
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.manifest.required_flows, std::vector<std::string>{"kyc"});
  EXPECT_FALSE(report.manifest.flows[0].dependencies[0].included);

  // An excluded dependency is referenced, not silently dropped or added.
  req = Request({"Finance"}, "excluded.studiopkg");
  req.exclude = {"kyc"};
  r = ExportPackage(repo, req);
  EXPECT_EQ(Ids(r.flows), (std::vector<std::string>{"aml", "app"}));
  EXPECT_EQ(r.referenced_dependencies, std::vector<std::string>{"kyc"});

  req = Request({"app"}, "fail.studiopkg");
  req.dependencies = DependencyPolicy::kFail;
  ExpectError(ErrorCode::kInvalidData, "export refused: 1 problem(s) in 1 flow(s); nothing was written",
              [&] { ExportPackage(repo, req); });
  try {
    ExportPackage(repo, req);
  } catch (const Error& e) {
    ASSERT_EQ(e.details().size(), 1u);
    EXPECT_EQ(e.details()[0],
              "flows/Finance/Retail/app/flow_definition.json:/nodes/2/config/flow: node 'sub' uses flow 'kyc', "
              "which is not selected; select it or use --deps include or reference [export/unselected-dependency]");
    ASSERT_EQ(e.problems().size(), 1u);
    EXPECT_EQ(e.problems()[0].rule, "export/unselected-dependency");
    EXPECT_EQ(e.problems()[0].pointer, "/nodes/2/config/flow");
  }
  req.selection = {"app", "kyc"};
  EXPECT_EQ(ExportPackage(repo, req).flows.size(), 2u);
  EXPECT_FALSE(fs::exists(dir_ / "fail.studiopkg") && false);
}

TEST_F(PackageTest, SecretsAndWorkspaceOnlyFieldsNeverReachThePackage) {
  FlowRepository repo = Init();
  // Canaries in every field kind that export strips.
  const std::string secret_value = "CanarySecretValue7431";
  const std::string secret_ref = "vault:canary/ref-5521";
  const std::string binding = "canary-binding-9913";
  const std::string endpoint = "https://canary-endpoint-4412.example.com";
  const std::string sharing = "canary-sharing-team-8820";
  const std::string audit = "canary-auditor-6617";
  Flow flow = MakeFlow("leaky", "Ops");
  Json def = Json::parse(flow.flow_definition);
  def["nodes"][1]["credential"] = {{"type", "oauth2"}, {"binding", binding}};
  flow.flow_definition = CanonicalJson(def);
  Json app = Json::parse(flow.app_definition);
  app["endpoint"] = {{"url", endpoint}, {"auth", "mtls"}};
  app["sharing"] = {{"teams", {sharing}}};
  app["audit"] = {{"reviewed_by", audit}};
  flow.app_definition = CanonicalJson(app);
  flow.env_variables =
      CanonicalJson({{"variables", Json::array({{{"name", "PLAIN"}, {"value", "kept-value"}},
                                                {{"name", "WITH_REF"}, {"secret", true}, {"ref", secret_ref}}})}});
  Publish(repo, {flow}, "d");
  // A secret variable holding a value (committed with plain git, say): the
  // value is stripped too, not published into the package.
  Json env = Json::parse(flow.env_variables);
  env["variables"].push_back({{"name", "WITH_VALUE"}, {"secret", true}, {"value", secret_value}});
  flow.env_variables = CanonicalJson(env);
  repo.PutFlows("main", "raw", {flow});

  ExportRequest req = Request({"leaky"}, "leaky.studiopkg");
  req.at = "raw";
  ExportResult r = ExportPackage(repo, req);
  std::string all = AllText(r.path);
  for (const auto& canary : {secret_value, secret_ref, binding, endpoint, sharing, audit}) {
    EXPECT_EQ(all.find(canary), std::string::npos) << canary;
  }
  EXPECT_NE(all.find("kept-value"), std::string::npos);
  EXPECT_NE(all.find("WITH_VALUE"), std::string::npos);            // the name stays
  EXPECT_NE(all.find("\"type\": \"oauth2\""), std::string::npos);  // what the target must bind
  EXPECT_TRUE(VerifyPackage(r.path).ok());
}

TEST_F(PackageTest, SecretInFreeFieldRefusesExportAndLeavesNoFile) {
  FlowRepository repo = Init();
  Flow flow = MakeFlow("leaky");
  repo.PutFlows("main", "raw", {flow});
  Json def = Json::parse(flow.flow_definition);
  const std::string token = "ghp_" + std::string("A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
  def["nodes"][1]["config"]["headers"] = {{"Authorization", "Bearer " + token}};
  def["nodes"][1]["config"]["password"] = "hunter2hunter2";
  flow.flow_definition = CanonicalJson(def);
  repo.PutFlows("main", "raw", {flow});
  ExportRequest req = Request({"leaky"}, "");
  req.at = "raw";
  try {
    ExportPackage(repo, req);
    ADD_FAILURE() << "export of a secret succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidData);
    std::string what = e.what();
    EXPECT_EQ(what.rfind("export refused: ", 0), 0u) << what;
    EXPECT_NE(what.find(" in 1 flow(s); nothing was written"), std::string::npos) << what;
    std::string details;
    for (const auto& d : e.details()) details += d + "\n";
    EXPECT_NE(details.find("flows/leaky/flow_definition.json:/nodes/1/config/headers/Authorization: "),
              std::string::npos)
        << details;
    EXPECT_NE(details.find("[secret/"), std::string::npos) << details;
    EXPECT_NE(details.find("/nodes/1/config/password"), std::string::npos) << details;
    EXPECT_EQ(details.find(token), std::string::npos);
    EXPECT_EQ(details.find("hunter2"), std::string::npos);
  }
  EXPECT_EQ(Files(dir_.path()), std::vector<std::string>{"repo"});
}

// A blob whose stored bytes no longer match its id (a damaged disk, a
// hand-edited object) stops the export: nothing altered reaches a package.
TEST_F(PackageTest, DamagedBlobRefusesExportAndLeavesNoFile) {
  FlowRepository repo = Standard();
  auto& store = ImplOf(repo).store;
  git::TreePtr tree = store.CommitTree(ImplOf(repo).WorkspaceHead("main"));
  std::optional<TreeEntry> blob = store.EntryAt(tree.get(), "flows/Ops/report/flow_definition.json");
  ASSERT_TRUE(blob);
  const std::string hex = git::OidHex(blob->id);
  const fs::path object = fs::path(dir_ / "repo") / "objects" / hex.substr(0, 2) / hex.substr(2);
  ASSERT_TRUE(fs::exists(object)) << "expected a loose object";
  std::string altered = store.ReadBlob(blob->id);
  altered[altered.find('"')] = '\'';  // one byte changed, the size kept
  const std::string raw = "blob " + std::to_string(altered.size()) + std::string(1, '\0') + altered;
  std::string compressed(compressBound(raw.size()), '\0');
  uLongf size = compressed.size();
  ASSERT_EQ(compress(reinterpret_cast<Bytef*>(compressed.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                     raw.size()),
            Z_OK);
  compressed.resize(size);
  fs::permissions(object, fs::perms::owner_write, fs::perm_options::add);
  WriteFile(object, compressed);

  git_oid altered_id;
  ASSERT_EQ(git_odb_hash(&altered_id, altered.data(), altered.size(), GIT_OBJECT_BLOB), 0);
  ExpectError(ErrorCode::kIo,
              "read blob " + hex + ": object hash mismatch - expected " + hex + " but got " + git::OidHex(altered_id) +
                  " (the repository is damaged; `git fsck` lists what)",
              [&] { ExportPackage(repo, Request({"Ops"}, "ops.studiopkg")); });
  EXPECT_EQ(Files(dir_.path()), std::vector<std::string>{"repo"});
}

TEST_F(PackageTest, InvalidFlowRefusesExportListingEveryProblem) {
  FlowRepository repo = Standard();
  Flow broken = MakeFlow("report", "Ops");
  Json def = Json::parse(broken.flow_definition);
  def["edges"].push_back({{"from", "start"}, {"to", "ghost"}});
  def["nodes"].push_back({{"id", "x"}, {"type", "teleport"}});
  broken.flow_definition = CanonicalJson(def);
  repo.PutFlows("main", "broken", {broken});
  ExportRequest req = Request({"Ops", "kyc"}, "x.studiopkg");
  req.at = "broken";
  ExpectError(ErrorCode::kInvalidData, "export refused: 2 problem(s) in 1 flow(s); nothing was written",
              [&] { ExportPackage(repo, req); });
  EXPECT_FALSE(fs::exists(dir_ / "x.studiopkg"));
  // The published version is what an export takes without --at.
  req.at.clear();
  EXPECT_EQ(ExportPackage(repo, req).flows.size(), 2u);
}

TEST_F(PackageTest, AutomaticNamesTakeSmallestFreeNumber) {
  FlowRepository repo = Standard();
  ExportRequest req = Request({"Ops"}, "");
  EXPECT_EQ(ExportPackage(repo, req).path, dir_ / "export.studiopkg");
  EXPECT_EQ(ExportPackage(repo, req).path, dir_ / "export 1.studiopkg");
  EXPECT_EQ(ExportPackage(repo, req).path, dir_ / "export 2.studiopkg");
  fs::remove(dir_ / "export 1.studiopkg");
  EXPECT_EQ(ExportPackage(repo, req).path, dir_ / "export 1.studiopkg");
  EXPECT_EQ(ExportPackage(repo, req).path, dir_ / "export 3.studiopkg");

  WriteFile(dir_ / "taken.zip", "mine");
  ExpectError(ErrorCode::kAlreadyExists, "'" + (dir_ / "taken.zip") + "' already exists; pass --force to overwrite it",
              [&] { ExportPackage(repo, Request({"Ops"}, "taken.zip")); });
  EXPECT_EQ(ReadFile(dir_ / "taken.zip"), "mine");
  req = Request({"Ops"}, "taken.zip");
  req.overwrite = ExportRequest::Overwrite::kYes;
  ExportPackage(repo, req);
  EXPECT_TRUE(VerifyPackage(dir_ / "taken.zip").ok());
  ExpectError(ErrorCode::kNotFound, "folder '" + (dir_ / "nowhere") + "' not found",
              [&] { ExportPackage(repo, Request({"Ops"}, "nowhere/x.zip")); });
}

TEST_F(PackageTest, SingleVersionExportIsNamedAfterTheFlow) {
  FlowRepository repo = Init();
  Flow flow = MakeFlow("assistant");
  Json app = Json::parse(flow.app_definition);
  app["name"] = "Banking Assistant: EU/UK";
  flow.app_definition = CanonicalJson(app);
  Publish(repo, {flow}, "v1");
  Publish(repo, {MakeFlow("assistant", "", 3)}, "v2");  // v2 renames it back to "Flow assistant"
  ExportRequest req = Request({"assistant"}, "");
  req.version = 1;
  ExportResult r = ExportPackage(repo, req);
  EXPECT_EQ(r.path, dir_ / "Banking Assistant_ EU_UK.zip");
  ASSERT_EQ(r.flows.size(), 1u);
  EXPECT_EQ(r.flows[0].version, 1);
  req.version = 0;  // latest
  r = ExportPackage(repo, req);
  EXPECT_EQ(r.path, dir_ / "Flow assistant.zip");
  EXPECT_EQ(r.flows[0].version, 2);
  ExpectError(ErrorCode::kAlreadyExists, "", [&] { ExportPackage(repo, req); });
  req.version = 7;
  ExpectError(ErrorCode::kNotFound, "flow 'assistant' has no version v7 in workspace 'main'",
              [&] { ExportPackage(repo, req); });
}

TEST_F(PackageTest, VersionsComeFromPublishHistory) {
  FlowRepository repo = Standard();
  Publish(repo, {MakeFlow("kyc", "Finance/Compliance", 2)}, "kyc2");
  ExportResult r = ExportPackage(repo, Request({"Finance/Compliance"}, "a.studiopkg"));
  ASSERT_EQ(r.flows.size(), 2u);
  EXPECT_EQ(r.flows[0].id, "aml");
  EXPECT_EQ(r.flows[0].version, 1);
  EXPECT_EQ(r.flows[1].version, 2);
  // A draft's changed flow is no published version.
  repo.PutFlows("main", "work", {MakeFlow("kyc", "Finance/Compliance", 3)});
  ExportRequest req = Request({"Finance/Compliance"}, "b.studiopkg");
  req.at = "work";
  r = ExportPackage(repo, req);
  EXPECT_EQ(r.flows[0].version, 1);
  EXPECT_FALSE(r.flows[1].version.has_value());
  EXPECT_EQ(r.flows[1].commit, r.commit);
}

// ---- import -------------------------------------------------------------------

TEST_F(PackageTest, ImportWritesOnlyADraftAndRoundTrips) {
  FlowRepository source = Init("source");
  EditSettings(source, "main", [](Json& s) { s["topics"] = {"orders.new"}; });
  Flow rich = RichFlow("shop", "Sales", {"orders.new"});
  Publish(source, {rich, MakeFlow("kyc", "Finance"), MakeFlow("app", "Finance", 1, "kyc")}, "d");
  ExportRequest req = Request({}, "all.studiopkg");
  req.all = true;
  ExportResult exported = ExportPackage(source, req);

  FlowRepository target = Init("target");
  EditSettings(target, "main", [](Json& s) { s["topics"] = {"orders.new"}; });
  std::string head_before = git::OidHex(ImplOf(target).WorkspaceHead("main"));
  ImportRequest import;
  import.package = exported.path;
  ImportResult r = ImportPackage(target, import);
  EXPECT_EQ(r.draft, "import-all");
  EXPECT_TRUE(r.created_draft);
  EXPECT_EQ(r.source_commit, exported.commit);
  ASSERT_EQ(r.flows.size(), 3u);
  EXPECT_EQ(git::OidHex(ImplOf(target).WorkspaceHead("main")), head_before);
  EXPECT_EQ(target.ShowDraft("main", "import-all").changed_flows, (std::vector<std::string>{"app", "kyc", "shop"}));
  const ImportedFlow& shop = r.flows[2];
  EXPECT_EQ(shop.id, "shop");
  EXPECT_EQ(shop.unbound_credentials, std::vector<std::string>{"call-0"});

  EXPECT_EQ(shop.unbound_secrets, std::vector<std::string>{"API_TOKEN"});

  // Publishing needs the credential and the secret bound; then the flows
  // equal the originals.
  ExpectError(ErrorCode::kInvalidData, "", [&] { target.Publish("main", "import-all", "import"); });
  BindRequest bind;
  bind.draft = "import-all";
  bind.flow = "shop";
  bind.credentials = {{"call-0", "prod-binding"}};
  bind.secrets = {{"API_TOKEN", "vault:team/token"}};
  BindCredentials(target, bind);
  target.Publish("main", "import-all", "import");
  for (const std::string id : {"shop", "kyc", "app"}) {
    Flow a = source.ReadFlow("main", ParseFlowSpec(id));
    Flow b = target.ReadFlow("main", ParseFlowSpec(id));
    EXPECT_EQ(a.summary.group, b.summary.group) << id;
    EXPECT_EQ(a.flow_definition, b.flow_definition) << id;  // binding restored by bind
    EXPECT_EQ(a.app_definition, b.app_definition) << id;
    EXPECT_EQ(a.env_variables, b.env_variables) << id;  // reference restored by bind
  }
  testing::ExpectFsckClean(dir_ / "target");
}

TEST_F(PackageTest, SecretReferencesAreNeverTakenFromAPackage) {
  // The source holds a secret variable with a reference and one holding a
  // reference without the flag; a node sends the secret to an outside URL.
  FlowRepository source = Init("source");
  Flow leaky = MakeFlow("leaky", "Ops");
  Json def = Json::parse(leaky.flow_definition);
  def["nodes"][1]["config"] = {
      {"method", "POST"}, {"url", "https://collector.example.net/in"}, {"body", "{{env.DB_ROOT}}"}};
  leaky.flow_definition = CanonicalJson(def);
  const Json env = {
      {"variables", Json::array({{{"name", "DB_ROOT"}, {"secret", true}, {"ref", "vault:prod/databases/root"}},
                                 {{"name", "BACKUP"}, {"ref", "vault:prod/backup"}}})}};
  leaky.env_variables = CanonicalJson(env);
  Publish(source, {leaky}, "d");
  ExportResult exported = ExportPackage(source, Request({"leaky"}, "leaky.studiopkg"));
  // Export writes no reference, whatever the flag.
  EXPECT_EQ(AllText(exported.path).find("vault:"), std::string::npos);
  const std::string env_entry = "flows/Ops/leaky/env_variables.json";
  for (const auto& [name, data] : testing::ReadZipEntries(exported.path)) {
    if (name == env_entry) {
      EXPECT_EQ(Json::parse(data)["variables"],
                Json::parse(R"([{"name": "DB_ROOT", "secret": true}, {"name": "BACKUP", "secret": true}])"));
    }
  }

  // A package made otherwise supplies the references; import takes none.
  const std::string hostile = dir_ / "hostile.studiopkg";
  WriteFile(hostile, testing::hostile::WithEntry(ReadFile(exported.path), env_entry, CanonicalJson(env)));
  EXPECT_TRUE(VerifyPackage(hostile).ok());
  FlowRepository target = Init("target");
  ImportRequest import;
  import.package = hostile;
  ImportResult r = ImportPackage(target, import);
  ASSERT_EQ(r.flows.size(), 1u);
  EXPECT_EQ(r.flows[0].unbound_secrets, (std::vector<std::string>{"DB_ROOT", "BACKUP"}));
  Flow imported = target.ReadFlow("main", ParseFlowSpec("leaky@" + r.draft));
  EXPECT_EQ(imported.env_variables.find("vault:"), std::string::npos) << imported.env_variables;

  // Publish refuses until every secret is bound.
  try {
    target.Publish("main", r.draft, "import");
    ADD_FAILURE() << "published unbound secrets";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidData);
    std::string all = e.what();
    for (const auto& d : e.details()) all += "\n" + d;
    EXPECT_NE(all.find("flows/Ops/leaky/env_variables.json:/variables/0: secret variable 'DB_ROOT' has no "
                       "reference; bind one with 'flowrepo bind leaky --draft DRAFT --secret DB_ROOT=REFERENCE' "
                       "[unbound-secret]"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("secret variable 'BACKUP' has no reference"), std::string::npos) << all;
  }
  BindRequest bind;
  bind.draft = r.draft;
  bind.flow = "leaky";
  bind.secrets = {{"DB_ROOT", "hvs.CAESIJ8xkq9r2Lz7bXwYtH3mN0pQvR5sT6uW1yZ4aB7cD9eF"}};
  ExpectError(ErrorCode::kInvalidArgument,
              "the reference for variable 'DB_ROOT' looks like a secret value; bind where the secret is kept "
              "(vault:..., op://...)",
              [&] { BindCredentials(target, bind); });
  bind.secrets = {{"API_BASE", "vault:x"}};
  ExpectError(ErrorCode::kInvalidArgument,
              "flow 'leaky' has no secret variable 'API_BASE' (it has 'DB_ROOT', 'BACKUP')",
              [&] { BindCredentials(target, bind); });
  bind.secrets = {{"DB_ROOT", "vault:staging/databases/root"}};
  BindCredentials(target, bind);
  ExpectError(ErrorCode::kInvalidData, "", [&] { target.Publish("main", r.draft, "import"); });  // BACKUP
  bind.secrets = {{"BACKUP", "vault:staging/backup"}};
  BindCredentials(target, bind);
  target.Publish("main", r.draft, "import");
  Json published = Json::parse(target.ReadFlow("main", ParseFlowSpec("leaky")).env_variables);
  EXPECT_EQ(published["variables"][0]["ref"], "vault:staging/databases/root");
  EXPECT_EQ(published["variables"][1]["ref"], "vault:staging/backup");
}

TEST_F(PackageTest, ImportRefusesCollisionsAndAsNewRenamesReferences) {
  FlowRepository repo = Standard();
  ExportResult exported = ExportPackage(repo, Request({"app"}, "app.studiopkg"));  // app + kyc
  std::string refs = RefsSnapshot(dir_ / "repo");
  ImportRequest import;
  import.package = exported.path;
  try {
    ImportPackage(repo, import);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidData);
    EXPECT_EQ(std::string(e.what()),
              "import of '" + exported.path + "' refused: 2 problem(s); workspace 'main' unchanged");
    ASSERT_EQ(e.details().size(), 2u);
    EXPECT_EQ(e.details()[0],
              "flows/Finance/Compliance/kyc: flow 'kyc' already exists in workspace 'main' "
              "(flows/Finance/Compliance/kyc); use --override kyc, --as-new, or leave it out with "
              "--flows [import/id-collision]");
  }
  EXPECT_EQ(RefsSnapshot(dir_ / "repo"), refs);

  import.mode = ImportRequest::Mode::kAsNew;
  ImportResult r = ImportPackage(repo, import);
  ASSERT_EQ(r.flows.size(), 2u);
  EXPECT_EQ(r.flows[0].id, "kyc-2");
  EXPECT_EQ(r.flows[0].name, "Flow kyc (2)");
  EXPECT_EQ(r.flows[1].id, "app-2");
  Flow app2 = repo.ReadFlow("main", ParseFlowSpec("app-2@" + r.draft));
  EXPECT_NE(app2.flow_definition.find("\"flow\": \"kyc-2\""), std::string::npos) << app2.flow_definition;
  EXPECT_NE(app2.app_definition.find("\"id\": \"app-2\""), std::string::npos);
  repo.Publish("main", r.draft, "copies");
  EXPECT_EQ(repo.FlowHistory("main", "app-2").versions.size(), 1u);

  ImportRequest one;
  one.package = exported.path;
  one.mode = ImportRequest::Mode::kAsNew;
  one.flows = {"kyc"};
  one.new_id = "kyc-eu";
  one.new_name = "KYC EU";
  one.draft = "eu";
  r = ImportPackage(repo, one);
  EXPECT_EQ(r.flows[0].id, "kyc-eu");
  EXPECT_EQ(r.flows[0].name, "KYC EU");
}

TEST_F(PackageTest, OverridePublishesNextVersionAndRevertBringsBack) {
  FlowRepository repo = Standard();
  FlowRepository other = Init("other");
  Publish(other, {MakeFlow("kyc-new", "Elsewhere", 4)}, "d");
  ExportRequest req = Request({"kyc-new"}, "");
  req.version = 0;
  ExportResult exported = ExportPackage(other, req);

  ImportRequest import;
  import.package = exported.path;
  import.mode = ImportRequest::Mode::kOverride;
  import.override_flow = "kyc";
  ImportResult r = ImportPackage(repo, import);
  ASSERT_EQ(r.flows.size(), 1u);
  EXPECT_EQ(r.flows[0].id, "kyc");
  EXPECT_EQ(r.flows[0].group, "Finance/Compliance");
  EXPECT_EQ(r.flows[0].action, ImportedFlow::Action::kOverridden);
  Flow v1 = repo.ReadFlow("main", ParseFlowSpec("kyc"));
  PublishResult p = repo.Publish("main", r.draft, "override");
  ASSERT_EQ(p.versions.size(), 1u);
  EXPECT_EQ(p.versions[0].number, 2);
  Flow v2 = repo.ReadFlow("main", ParseFlowSpec("kyc"));
  EXPECT_NE(v2.flow_definition, v1.flow_definition);
  EXPECT_NE(v2.flow_definition.find("call-3"), std::string::npos);
  WriteResult back = repo.Revert("main", "kyc", 1);
  repo.Publish("main", back.draft.name, "back");
  Flow v3 = repo.ReadFlow("main", ParseFlowSpec("kyc"));
  EXPECT_EQ(v3.flow_definition, v1.flow_definition);
  EXPECT_EQ(repo.FlowHistory("main", "kyc").versions.size(), 3u);

  import.override_flow = "nope";
  ExpectError(ErrorCode::kInvalidData, "", [&] { ImportPackage(repo, import); });
}

TEST_F(PackageTest, TopicsMustBeMappedOrExist) {
  FlowRepository source = Init("source");
  Publish(source, {RichFlow("router", "", {"a.in", "b.in", "c.in"})}, "d");
  ExportResult exported = ExportPackage(source, Request({"router"}, "router.studiopkg"));
  FlowRepository target = Init("target");
  EditSettings(target, "main", [](Json& s) { s["topics"] = {"x.in", "y.in", "c.in"}; });
  std::string refs = RefsSnapshot(dir_ / "target");
  ImportRequest import;
  import.package = exported.path;
  import.topics = {{"a.in", "x.in"}, {"b.in", "nope.in"}, { "z.in", "y.in" }};
  try {
    ImportPackage(target, import);
    ADD_FAILURE();
  } catch (const Error& e) {
    std::vector<std::string> expected = {
        "flows/router/flow_definition.json: topic 'b.in' is mapped to 'nope.in', which workspace 'main' "
        "does not have [import/missing-topic]",
        exported.path + ": --topic z.in=y.in: no imported flow uses topic 'z.in' [import/topic-mapping]"};
    EXPECT_EQ(e.details(), expected);
  }
  EXPECT_EQ(RefsSnapshot(dir_ / "target"), refs);
  import.topics = {{"a.in", "x.in"}, { "b.in", "y.in" }};
  ImportResult r = ImportPackage(target, import);
  EXPECT_EQ(r.flows[0].topics, (std::map<std::string, std::string>{{"a.in", "x.in"}, {"b.in", "y.in"}}));
  Flow imported = target.ReadFlow("main", ParseFlowSpec("router@" + r.draft));
  for (const char* topic : {"\"x.in\"", "\"y.in\"", "\"c.in\""}) {
    EXPECT_NE(imported.flow_definition.find(topic), std::string::npos) << topic;
  }
  EXPECT_EQ(imported.flow_definition.find("\"a.in\""), std::string::npos);
}

TEST_F(PackageTest, MissingComponentsAreListedTogether) {
  FlowRepository source = Init("source");
  EditSettings(source, "main", [](Json& s) {
    s["components"].push_back({{"name", "sap"}, {"version", "2"}});
    s["components"].push_back({{"name", "ocr"}, {"version", "1"}});
  });
  Flow a = MakeFlow("a");
  Json def = Json::parse(a.flow_definition);
  def["nodes"][1]["component"] = "sap@2";
  a.flow_definition = CanonicalJson(def);
  Flow b = MakeFlow("b");
  def = Json::parse(b.flow_definition);
  def["nodes"][1]["component"] = "sap@2";
  def["nodes"].push_back({{"id", "scan"}, {"type", "api"}, {"component", "ocr@1"}});
  b.flow_definition = CanonicalJson(def);
  Publish(source, {a, b}, "d");
  ExportRequest req = Request({}, "x.studiopkg");
  req.all = true;
  ExportResult exported = ExportPackage(source, req);
  FlowRepository target = Init("target");
  ImportRequest import;
  import.package = exported.path;
  try {
    ImportPackage(target, import);
    ADD_FAILURE();
  } catch (const Error& e) {
    std::vector<std::string> expected = {exported.path +
                                             ": component 'ocr@1' (used by 'b') is not available in workspace 'main'; "
                                             "declare it with --declare-components [import/missing-component]",
                                         exported.path +
                                             ": component 'sap@2' (used by 'a', 'b') is not available in workspace "
                                             "'main'; declare it with --declare-components [import/missing-component]"};
    EXPECT_EQ(e.details(), expected);
  }
}

TEST_F(PackageTest, EnvConflictKeepsOrOverwrites) {
  FlowRepository repo = Init();
  Flow mine = MakeFlow("svc");
  mine.env_variables =
      CanonicalJson({{"variables", Json::array({{{"name", "URL"}, {"value", "https://prod"}},
                                                {{"name", "TOKEN"}, {"secret", true}, {"ref", "vault:prod/token"}},
                                                {{"name", "ONLY_HERE"}, {"value", "x"}}})}});
  Publish(repo, {mine}, "d");
  FlowRepository other = Init("other");
  Flow theirs = MakeFlow("svc", "", 2);
  theirs.env_variables =
      CanonicalJson({{"variables", Json::array({{{"name", "URL"}, {"value", "https://staging"}},
                                                {{"name", "TOKEN"}, {"secret", true}, {"ref", "vault:staging/token"}},
                                                {{"name", "NEW"}, {"value", "y"}}})}});
  Publish(other, {theirs}, "d");
  ExportResult exported = ExportPackage(other, Request({"svc"}, "svc.studiopkg"));

  ImportRequest import;
  import.package = exported.path;
  import.mode = ImportRequest::Mode::kOverride;
  import.override_flow = "svc";
  import.dry_run = true;
  ImportResult r = ImportPackage(repo, import);
  EXPECT_EQ(r.flows[0].kept_env, (std::vector<std::string>{"URL", "TOKEN"}));
  import.dry_run = false;
  import.env_conflict = ImportRequest::EnvConflict::kOverwrite;
  r = ImportPackage(repo, import);
  EXPECT_EQ(r.flows[0].overwritten_env, std::vector<std::string>{"URL"});
  EXPECT_EQ(r.flows[0].kept_env, std::vector<std::string>{"TOKEN"});  // secrets keep their reference
  Json env = Json::parse(repo.ReadFlow("main", ParseFlowSpec("svc@" + r.draft)).env_variables);
  EXPECT_EQ(env, Json::parse(R"({"variables": [
      {"name": "URL", "value": "https://staging"},
      {"name": "TOKEN", "secret": true, "ref": "vault:prod/token"},
      {"name": "NEW", "value": "y"},
      {"name": "ONLY_HERE", "value": "x"}]})"));
}

TEST_F(PackageTest, DryRunWritesNothing) {
  FlowRepository repo = Standard();
  ExportResult exported = ExportPackage(repo, Request({"Ops"}, "ops.studiopkg"));
  FlowRepository target = Init("target");
  std::string refs = RefsSnapshot(dir_ / "target");
  auto objects = [&] { return testing::Shell("find objects -type f | sort", dir_ / "target").out; };
  std::string objects_before = objects();
  ImportRequest import;
  import.package = exported.path;
  import.dry_run = true;
  ImportResult r = ImportPackage(target, import);
  EXPECT_TRUE(r.dry_run);
  EXPECT_TRUE(r.created_draft);
  EXPECT_EQ(r.commit, "");
  ASSERT_EQ(r.flows.size(), 1u);
  EXPECT_EQ(r.flows[0].id, "report");
  EXPECT_EQ(RefsSnapshot(dir_ / "target"), refs);
  EXPECT_EQ(objects(), objects_before);
}

TEST_F(PackageTest, CopyToWorkspaceImportsWithoutAFile) {
  FlowRepository repo = Standard();
  repo.CreateWorkspace("prod", "main");
  Publish(repo, {MakeFlow("kyc", "Finance/Compliance", 5)}, "kyc-v2");
  ExportRequest source;
  source.selection = {"kyc"};
  source.dependencies = DependencyPolicy::kReference;
  ImportRequest target;
  target.workspace = "prod";
  target.mode = ImportRequest::Mode::kOverride;
  target.override_flow = "kyc";
  ImportResult r = CopyToWorkspace(repo, source, target);
  EXPECT_EQ(r.draft, "copy-kyc-from-main");
  EXPECT_EQ(r.package, "workspace 'main'");
  PublishResult p = repo.Publish("prod", r.draft, "promote");
  EXPECT_EQ(p.versions[0].tag, "refs/tags/prod/kyc/v2");  // v1: as prod was created
  EXPECT_EQ(repo.ReadFlow("prod", ParseFlowSpec("kyc")).flow_definition,
            repo.ReadFlow("main", ParseFlowSpec("kyc")).flow_definition);
  EXPECT_EQ(Files(dir_.path()), (std::vector<std::string>{"repo"}));
}

// ---- hostile packages -----------------------------------------------------------

class HostilePackageTest : public PackageTest {
 protected:
  void SetUp() override {
    repo_.emplace(Standard());
    good_ = ExportPackage(*repo_, Request({"Finance"}, "good.studiopkg")).path;
    entries_ = testing::ReadZipEntries(good_);
    refs_ = RefsSnapshot(dir_ / "repo");
  }
  std::string Write(const std::string& bytes) {
    std::string path = dir_ / "hostile.studiopkg";
    WriteFile(path, bytes);
    return path;
  }
  // Import must refuse with exactly \a problem among the details and leave
  // the repository as it was.
  void ExpectRefused(const std::string& path, const std::string& problem, const PackageLimits& limits = {}) {
    ImportRequest import;
    import.package = path;
    import.limits = limits;
    try {
      ImportPackage(*repo_, import);
      ADD_FAILURE() << "imported a hostile package";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidData) << e.what();
      EXPECT_EQ(std::string(e.what()).rfind("import of '" + path + "' refused: ", 0), 0u) << e.what();
      bool found = std::string(e.what()).find(problem) != std::string::npos;  // one problem: in the message
      for (const auto& d : e.details()) found = found || d == problem;
      EXPECT_TRUE(found) << "missing: " << problem << "\nhave:\n"
                         << [&] {
                              std::string s;
                              for (const auto& d : e.details()) s += d + "\n";
                              return s;
                            }();
    }
    PackageReport report = VerifyPackage(path, limits);
    EXPECT_FALSE(report.ok());
    EXPECT_EQ(RefsSnapshot(dir_ / "repo"), refs_);
  }

  std::optional<FlowRepository> repo_;
  std::string good_;
  std::vector<std::pair<std::string, std::string>> entries_;
  std::string refs_;
};

TEST_F(HostilePackageTest, GoodPackageRezippedStoredIsAccepted) {
  PackageReport report = VerifyPackage(Write(testing::RezipStored(entries_)));
  EXPECT_TRUE(report.ok()) << report.problems[0].ToString();
}

TEST_F(HostilePackageTest, PathTraversalNameIsRefused) {
  for (const char* name :
       {"../evil.json", "flows/../../x.json", "/etc/x.json", "flows\\a.json", "C:evil.json", ".git/config",
        "flows/.GIT/HEAD", "flows/git~1/x/app_definition.json", "flows/CON/x/app_definition.json",
        "flows/a./x/app_definition.json", "flows/a/x/evil.sh", "flows//x/app_definition.json"}) {
    auto entries = entries_;
    entries.emplace_back(name, "{}");
    std::string path = Write(testing::RezipStored(entries));
    PackageReport report = VerifyPackage(path);
    ASSERT_EQ(report.problems.size(), 1u) << name;
    EXPECT_EQ(report.problems[0].rule, "package/entry-name") << name;
  }
  auto entries = entries_;
  entries.emplace_back("../evil.json", "{}");
  ExpectRefused(Write(testing::RezipStored(entries)),
                "../evil.json: entry name has a '..' path part [package/entry-name]");
}

TEST_F(HostilePackageTest, DuplicateAndCaseCollidingNamesAreRefused) {
  auto entries = entries_;
  entries.push_back(entries[1]);
  std::string path = Write(testing::RezipStored(entries));
  PackageReport report = VerifyPackage(path);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.problems[0].rule, "package/zip");  // libzip's consistency check
  EXPECT_EQ(report.problems[0].message, "not a valid zip archive: two entries have the same name");

  entries = entries_;
  std::string upper = entries[1].first;
  upper.replace(upper.find("Finance"), 7, "FINANCE");
  entries.emplace_back(upper, entries[1].second);
  ExpectRefused(Write(testing::RezipStored(entries)),
                upper + ": entry name differs only in case from '" + entries[1].first + "' [package/duplicate-entry]");
}

TEST_F(HostilePackageTest, BadHashIsRefused) {
  auto entries = entries_;
  auto& [name, data] = entries[3];
  data[data.find("GET")] = 'P';  // same size, other content
  ExpectRefused(Write(testing::RezipStored(entries)), name + ": sha256 does not match manifest.json [package/sha256]");
}

TEST_F(HostilePackageTest, MissingManifestIsRefused) {
  auto entries = entries_;
  entries.erase(entries.begin());
  ExpectRefused(Write(testing::RezipStored(entries)), "manifest.json: manifest.json is missing [package/manifest]");
}

TEST_F(HostilePackageTest, ManifestProblemsAreRefused) {
  auto entries = entries_;
  entries.emplace_back("flows/Extra/x/app_definition.json", "{}");
  ExpectRefused(Write(testing::RezipStored(entries)),
                "flows/Extra/x/app_definition.json: entry is not listed in manifest.json "
                "[package/unlisted-entry]");
  entries = entries_;
  std::string removed = entries.back().first;
  entries.pop_back();
  ExpectRefused(Write(testing::RezipStored(entries)),
                removed + ": listed in manifest.json but not in the package [package/missing-file]");
  entries = entries_;
  Json m = Json::parse(entries[0].second);
  m["schema"] = "flowrepo/package@9";
  entries[0].second = m.dump();
  ExpectRefused(Write(testing::RezipStored(entries)),
                "manifest.json: package schema 'flowrepo/package@9' is not supported; this flowrepo "
                "reads flowrepo/package@1 [package/schema]");
  entries[0].second = R"({"schema": "flowrepo/package@1", "schema": "x"})";
  ExpectRefused(Write(testing::RezipStored(entries)), "manifest.json: duplicate key 'schema' [json]");
}

TEST_F(HostilePackageTest, NonRegularEncryptedAndUnknownMethodEntriesAreRefused) {
  std::vector<testing::RawEntry> raw;
  for (const auto& [name, data] : entries_) raw.push_back({name, data});
  auto with = [&](const testing::RawEntry& extra) {
    auto all = raw;
    all.push_back(extra);
    return Write(testing::RawZip(all));
  };
  testing::RawEntry link{"flows/Finance/Retail/app/link.json", "../../etc/passwd"};
  link.name = "flows/Finance/Retail/link/app_definition.json";
  link.unix_mode = 0120777;
  ExpectRefused(with(link), link.name + ": is not a regular file (mode 0120777) [package/entry-type]");
  testing::RawEntry setuid{"flows/Finance/Retail/s/app_definition.json", "{}"};
  setuid.unix_mode = 0104755;
  ExpectRefused(with(setuid), setuid.name + ": has setuid, setgid or sticky bits (mode 0104755) [package/entry-type]");
  testing::RawEntry encrypted{"flows/Finance/Retail/e/app_definition.json", "xxxxxxxxxxxxxxxx"};
  encrypted.flags = 1;
  ExpectRefused(with(encrypted), encrypted.name + ": encrypted entries are not supported [package/entry-type]");
  testing::RawEntry bzip{"flows/Finance/Retail/b/app_definition.json", "BZh91AY&SY"};
  bzip.method = 12;
  ExpectRefused(with(bzip), bzip.name +
                                ": compression method 12 is not supported (only stored and deflated) "
                                "[package/entry-type]");
}

TEST_F(HostilePackageTest, SymlinksAreRefusedWhateverHostMadeThem) {
  auto with = [&](std::uint8_t host, std::uint32_t external) {
    std::vector<testing::hostile::ZipEntry> all;
    for (const auto& [name, data] : entries_) {
      all.emplace_back();
      all.back().name = name;
      all.back().data = data;
    }
    testing::hostile::ZipEntry link;
    link.name = "flows/Finance/Retail/link/app_definition.json";
    link.data = "../../../../etc/passwd";
    link.made_by = static_cast<std::uint16_t>(host << 8 | 20);
    link.external = external;
    all.push_back(link);
    return Write(testing::hostile::BuildZip(all));
  };
  const std::string link = "flows/Finance/Retail/link/app_definition.json: ";
  // A plain file passes the entry checks (to be refused as not listed).
  auto plain = [&](const std::string& path) {
    PackageReport report = VerifyPackage(path);
    return report.problems.size() == 1 && report.problems[0].rule == "package/unlisted-entry";
  };
  // Hosts whose attributes unzip reads as a Unix mode: BeOS and Atari
  // among them, where a symlink mode makes unzip create a symlink.
  for (std::uint8_t host : {0, 2, 3, 5, 6, 10, 12, 13, 14, 16, 17, 19, 30}) {
    SCOPED_TRACE("host " + std::to_string(host));
    const std::string path = with(host, 0120777u << 16);
    if (host == 5 || host == 16) {
      const std::string out = dir_ / ("unzipped-" + std::to_string(host));
      testing::Shell("unzip -qo " + testing::Quote(path) + " -d " + testing::Quote(out));
      struct stat st;
      ASSERT_EQ(::lstat((out + "/flows/Finance/Retail/link/app_definition.json").c_str(), &st), 0);
      EXPECT_TRUE(S_ISLNK(st.st_mode)) << "unzip made no symlink of it";
    }
    ExpectRefused(path, link + "is not a regular file (mode 0120777) [package/entry-type]");
    ExpectRefused(with(host, 0020644u << 16), link + "is not a regular file (mode 020644) [package/entry-type]");
    EXPECT_TRUE(plain(with(host, 0100644u << 16 | 0x20)));
    EXPECT_TRUE(plain(with(host, 0x20)));
  }
  // Hosts whose attributes mean something else, and unknown ones: nothing
  // may be set in the upper 16 bits.
  for (std::uint8_t host : {1, 4, 7, 8, 9, 11, 15, 18, 20, 31, 99, 255}) {
    SCOPED_TRACE("host " + std::to_string(host));
    ExpectRefused(with(host, 0120777u << 16),
                  link + "was made on host system " + std::to_string(host) +
                      ", whose file attributes (0xa1ff0000) flowrepo cannot read; only plain files are allowed "
                      "[package/entry-type]");
    ExpectRefused(with(host, 0100644u << 16),
                  link + "was made on host system " + std::to_string(host) +
                      ", whose file attributes (0x81a40000) flowrepo cannot read; only plain files are allowed "
                      "[package/entry-type]");
    EXPECT_TRUE(plain(with(host, 0x20)));
  }
  // Windows marks symlinks and junctions as reparse points.
  ExpectRefused(with(10, 0x400 | 0x20), link + "is a symbolic link or another reparse point [package/entry-type]");
}

TEST_F(HostilePackageTest, LyingSizesAndDamagedContainersAreRefused) {
  std::vector<testing::RawEntry> raw;
  for (const auto& [name, data] : entries_) raw.push_back({name, data});
  raw[2].declared_size = static_cast<std::uint32_t>(raw[2].data.size() - 10);
  ExpectRefused(Write(testing::RawZip(raw)), raw[2].name + ": declares " + std::to_string(raw[2].data.size() - 10) +
                                                 " bytes but holds more [package/entry]");
  raw[2].declared_size.reset();
  raw[2].crc = 1234;
  ExpectRefused(Write(testing::RawZip(raw)), raw[2].name + ": crc mismatch: the entry is damaged [package/entry]");
  std::string bytes = ReadFile(good_);
  std::string path = Write(bytes.substr(0, bytes.size() / 2));
  ExpectRefused(path,
                path + ": not a valid zip archive: no end of central directory record ends the file [package/zip]");
  path = Write("");
  ExpectRefused(path, path + ": not a valid zip archive: no end of central directory record [package/zip]");
  ExpectError(ErrorCode::kNotFound, "package '" + (dir_ / "absent.zip") + "' not found",
              [&] { VerifyPackage(dir_ / "absent.zip"); });
  ExpectError(ErrorCode::kInvalidArgument, "package '" + dir_.path() + "' is not a file",
              [&] { VerifyPackage(dir_.path()); });
}

TEST_F(HostilePackageTest, LimitsStopBombsEarly) {
  PackageLimits limits;
  limits.max_entries = 5;
  std::string path = Write(testing::RezipStored(entries_));
  ExpectRefused(path, path + ": package has 10 entries, more than 5 (the limit) [package/limit]", limits);
  limits = {};
  limits.max_total_bytes = 1000;
  ExpectRefused(path, path + ": package decompresses to more than 1000 bytes (the limit) [package/limit]", limits);

  // A ratio bomb: 8 MiB of zeros deflated, declared honestly.
  std::string bomb_path = dir_ / "bomb.studiopkg";
  {
    int error = 0;
    zip_t* za = zip_open(bomb_path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    ASSERT_NE(za, nullptr);
    static const std::string zeros(8u << 20, '0');
    zip_source_t* src = zip_source_buffer(za, zeros.data(), zeros.size(), 0);
    zip_file_add(za, "flows/Finance/Retail/app/flow_definition.json", src, 0);
    ASSERT_EQ(zip_close(za), 0);
  }
  ExpectRefused(bomb_path,
                "flows/Finance/Retail/app/flow_definition.json: compression ratio above 200 (the "
                "limit) [package/entry]");
  limits = {};
  limits.max_entry_bytes = 1u << 20;
  ExpectRefused(bomb_path,
                "flows/Finance/Retail/app/flow_definition.json: entry decompresses to 8388608 "
                "bytes, more than 1048576 (the limit) [package/limit]",
                limits);
}

TEST_F(HostilePackageTest, SecretsInAPackageAreRefused) {
  auto entries = entries_;
  Json m = Json::parse(entries[0].second);
  auto& [name, data] = entries[3];  // a flow_definition.json
  Json def = Json::parse(data);
  def["nodes"][1]["config"]["api_key"] = "sk_live_" + std::string("abcdefghij0123456789");
  data = CanonicalJson(def);
  std::string file = name.substr(name.rfind('/') + 1);
  std::string folder = name.substr(0, name.rfind('/'));
  for (auto& f : m["flows"]) {
    if (f["path"] == folder) f["files"][file] = {{"sha256", Sha256Hex(data)}, {"size", data.size()}};
  }
  entries[0].second = CanonicalJson(m);
  std::string path = Write(testing::RezipStored(entries));
  ImportRequest import;
  import.package = path;
  try {
    ImportPackage(*repo_, import);
    ADD_FAILURE() << "imported a package holding a secret";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidData);
    int secrets = 0;
    for (const auto& d : e.details()) {
      EXPECT_EQ(d.find("abcdefghij0123456789"), std::string::npos) << d;
      if (d.rfind(name + ":/nodes/1/config/api_key: ", 0) == 0 && d.find("[secret/") != std::string::npos) {
        ++secrets;
      }
    }
    EXPECT_EQ(secrets, 1);
  }
  EXPECT_EQ(RefsSnapshot(dir_ / "repo"), refs_);
}

}  // namespace
}  // namespace flowrepo
