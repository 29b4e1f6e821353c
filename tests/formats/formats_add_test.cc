// AddFlows and ExportForeign on temporary repositories: ids, references,
// updates, refusals, declared components, publish, diff, package round trip.

#include <gtest/gtest.h>

#include <filesystem>

#include "flowrepo/formats.h"
#include "flowrepo/package.h"
#include "flowrepo/repository.h"
#include "json/json_io.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::ExpectError;
using testing::ReadFile;
using testing::SourceDir;
using testing::TempDir;
using testing::WriteFile;

constexpr char kAdmin[] = "admin@example.com";

class FormatsAddTest : public ::testing::Test {
 protected:
  FlowRepository Init(const std::string& name = "repo") { return testing::InitRepository(dir_ / name, kAdmin); }
  static std::string Fixtures(const std::string& sub) { return SourceDir() + "/fixtures/formats/" + sub; }
  static AddFlowsRequest Request(std::vector<std::string> paths, const std::string& draft) {
    AddFlowsRequest r;
    r.draft = draft;
    r.paths = std::move(paths);
    return r;
  }
  static Json App(const FlowRepository& repo, const std::string& spec) {
    return Json::parse(repo.ReadFlow("main", ParseFlowSpec(spec)).app_definition);
  }

  TempDir dir_;
};

TEST_F(FormatsAddTest, DirectoryOfN8nWorkflowsMapsSubWorkflowReferences) {
  FlowRepository repo = Init();
  AddFlowsRequest request = Request({Fixtures("n8n")}, "n8n");
  request.group = "Finance";
  AddFlowsResult r = AddFlows(repo, request);
  EXPECT_EQ(r.files, 4u);
  EXPECT_TRUE(r.refused.empty());
  ASSERT_EQ(r.flows.size(), 4u);
  ASSERT_TRUE(r.write);
  EXPECT_TRUE(r.write->created_draft);
  // Files sorted by path: error-handler, invoice-sync, legacy-no-ids, notify-team.
  EXPECT_EQ(r.flows[1].summary.id, "invoice-sync");
  EXPECT_EQ(r.flows[1].references, (std::vector<std::pair<std::string, std::string>>{
                                       {"wf-errors-001", "error-handler"}, {"wf-notify-001", "notify-team"}}));
  EXPECT_EQ(r.flows[0].unresolved, std::vector<std::string>{"={{ $json.workflow.id }}"});
  EXPECT_FALSE(r.declared_components.empty());

  PublishResult published = repo.Publish("main", "n8n", "first");
  EXPECT_EQ(published.versions.size(), 4u);
  Json app = App(repo, "invoice-sync");
  EXPECT_EQ(app["references"]["wf-notify-001"], "notify-team");
  EXPECT_EQ(app["source_id"], "wf-invoice-001");
}

TEST_F(FormatsAddTest, ReferencesToFlowsAlreadyOnTheDraftAreMapped) {
  FlowRepository repo = Init();
  AddFlows(repo, Request({Fixtures("n8n/notify-team.json")}, "d"));
  AddFlowsResult r = AddFlows(repo, Request({Fixtures("n8n/error-handler.json")}, "d"));
  ASSERT_EQ(r.flows.size(), 1u);
  EXPECT_EQ(r.flows[0].references,
            (std::vector<std::pair<std::string, std::string>>{{"wf-notify-001", "notify-team"}}));
}

TEST_F(FormatsAddTest, ReAddingAFileUpdatesItsFlowAndCollidingIdsAreMadeUnique) {
  FlowRepository repo = Init();
  const std::string file = Fixtures("n8n/notify-team.json");
  AddFlows(repo, Request({file}, "d"));
  AddFlowsResult again = AddFlows(repo, Request({file}, "d"));
  ASSERT_EQ(again.flows.size(), 1u);
  EXPECT_EQ(again.flows[0].summary.id, "notify-team");
  EXPECT_EQ(again.flows[0].action, AddedFlow::Action::kUpdated);

  // Another workflow with the same name but another source id is a new flow.
  Json doc = Json::parse(ReadFile(file));
  doc["id"] = "wf-other";
  WriteFile(dir_ / "other/notify.json", doc.dump());
  AddFlowsResult other = AddFlows(repo, Request({dir_ / "other/notify.json"}, "d"));
  EXPECT_EQ(other.flows[0].summary.id, "notify-team-2");
  EXPECT_EQ(other.flows[0].action, AddedFlow::Action::kAdded);

  // Two copies in one batch.
  WriteFile(dir_ / "twice/a.json", ReadFile(file));
  WriteFile(dir_ / "twice/b.json", ReadFile(file));
  AddFlowsResult twice = AddFlows(repo, Request({dir_ / "twice"}, "d"));
  ASSERT_EQ(twice.flows.size(), 2u);
  EXPECT_EQ(twice.flows[0].summary.id, "notify-team");
  EXPECT_EQ(twice.flows[0].action, AddedFlow::Action::kUpdated);
  EXPECT_EQ(twice.flows[1].summary.id, "notify-team-3");
  EXPECT_EQ(twice.flows[1].action, AddedFlow::Action::kAdded);
  // The same source id twice: the reference is ambiguous, so unmapped.
  WriteFile(dir_ / "twice/caller.json", ReadFile(Fixtures("n8n/error-handler.json")));
  AddFlowsResult caller = AddFlows(repo, Request({dir_ / "twice/caller.json"}, "d"));
  EXPECT_TRUE(caller.flows[0].references.empty());
  EXPECT_EQ(caller.flows[0].unresolved.size(), 2u);
}

TEST_F(FormatsAddTest, ListedFlowsBoundsTheResultNotTheWrite) {
  FlowRepository repo = Init();
  AddFlowsResult all = AddFlows(repo, Request({Fixtures("n8n")}, "all"));
  AddFlowsRequest request = Request({Fixtures("n8n")}, "listed");
  request.listed_flows = 1;
  AddFlowsResult listed = AddFlows(repo, request);
  ASSERT_EQ(listed.flows.size(), 1u);
  EXPECT_EQ(listed.flows[0].summary.id, all.flows[0].summary.id);
  EXPECT_EQ(listed.added, 4u);
  EXPECT_EQ(listed.updated, 0u);
  std::size_t unresolved = 0;
  for (const AddedFlow& f : all.flows) unresolved += !f.unresolved.empty();
  EXPECT_EQ(listed.unresolved, unresolved);
  EXPECT_EQ(repo.ListFlows({"main", "", "drafts/main/listed"}).size(), 4u);
}

TEST_F(FormatsAddTest, FilesAreTakenInPathOrderFolderByFolder) {
  // "x/" before "x y/", as std::filesystem::path orders them: the first
  // file of a name keeps the plain id.
  const std::string file = Fixtures("n8n/notify-team.json");
  WriteFile(dir_ / "in/x y/a.json", ReadFile(file));
  WriteFile(dir_ / "in/x/a.json", ReadFile(file));
  FlowRepository repo = Init();
  AddFlowsResult r = AddFlows(repo, Request({dir_ / "in"}, "d"));
  ASSERT_EQ(r.flows.size(), 2u);
  EXPECT_EQ(r.flows[0].summary.group, "x");
  EXPECT_EQ(r.flows[0].summary.id, "notify-team");
  EXPECT_EQ(r.flows[1].summary.group, "x y");
  EXPECT_EQ(r.flows[1].summary.id, "notify-team-2");
}

TEST_F(FormatsAddTest, ExplicitIdAndGroup) {
  FlowRepository repo = Init();
  AddFlowsRequest request = Request({Fixtures("node-red/single-tab.json")}, "d");
  request.id = "status-ping";
  request.group = "Ops/Monitoring";
  AddFlowsResult r = AddFlows(repo, request);
  EXPECT_EQ(r.flows[0].summary.path(), "flows/Ops/Monitoring/status-ping");
  request.paths = {Fixtures("n8n")};
  ExpectError(ErrorCode::kInvalidArgument, "--id names one flow, but 4 would be added",
              [&] { AddFlows(repo, request); });
  request.id = "Bad Id";
  ExpectError(ErrorCode::kInvalidArgument, "", [&] { AddFlows(repo, request); });
}

TEST_F(FormatsAddTest, RefusedFilesAreReportedAndTheRestAdded) {
  FlowRepository repo = Init();
  WriteFile(dir_ / "in/empty.json", "{}");
  WriteFile(dir_ / "in/broken.json", "{\"nodes\": [");
  WriteFile(dir_ / "in/dupkey.json", R"({"nodes": [], "nodes": []})");
  WriteFile(dir_ / "in/notes.txt", "not json, not looked at");
  WriteFile(dir_ / "in/ok.json", ReadFile(Fixtures("node-red/single-tab.json")));
  AddFlowsResult r = AddFlows(repo, Request({dir_ / "in"}, "d"));
  EXPECT_EQ(r.files, 4u);
  ASSERT_EQ(r.flows.size(), 1u);
  ASSERT_EQ(r.refused.size(), 3u);
  std::map<std::string, std::string> reasons;
  for (const auto& x : r.refused) {
    reasons[std::filesystem::path(x.file).filename().string()] = x.reason + ": " + x.message;
  }
  EXPECT_EQ(reasons["empty.json"], "not-a-flow: not a flow of any known format: an empty JSON object");
  EXPECT_EQ(reasons["dupkey.json"].rfind("json: ", 0), 0u) << reasons["dupkey.json"];
  EXPECT_NE(reasons["dupkey.json"].find("duplicate key 'nodes'"), std::string::npos);
  EXPECT_EQ(reasons["broken.json"].rfind("json: ", 0), 0u);

  // Nothing addable: an error listing every refusal, and no draft.
  ExpectError(ErrorCode::kInvalidData, "no flow added: 1 file(s) refused",
              [&] { AddFlows(repo, Request({dir_ / "in/empty.json"}, "e")); });
  EXPECT_EQ(repo.ListDrafts("main").size(), 1u);
  ExpectError(ErrorCode::kNotFound, "'" + (dir_ / "missing.json") + "' does not exist",
              [&] { AddFlows(repo, Request({dir_ / "missing.json"}, "e")); });
}

TEST_F(FormatsAddTest, SplitFlowsPublishAndExportAsOneFile) {
  FlowRepository repo = Init();
  AddFlowsRequest request = Request({Fixtures("node-red/home-flows.json")}, "home");
  request.split = SplitTabs::kYes;
  request.group = "Home";
  AddFlowsResult r = AddFlows(repo, request);
  ASSERT_EQ(r.flows.size(), 4u);
  // A link, a subflow and a config node used by the kitchen tab.
  EXPECT_EQ(r.flows[0].references,
            (std::vector<std::pair<std::string, std::string>>{
                {"c.broker", "home-config"}, {"g.from-kitchen", "home-garden"}, {"sf.debounce", "home-debounce"}}));
  repo.Publish("main", "home", "split");

  ExportRequest exp;
  exp.selection = {"Home"};
  exp.output = dir_ / "home.json";
  ForeignExportResult out = ExportForeign(repo, exp, "node-red");
  ASSERT_EQ(out.paths.size(), 1u);
  Json back = Json::parse(ReadFile(dir_ / "home.json"));
  Json original = Json::parse(ReadFile(Fixtures("node-red/home-flows.json")));
  EXPECT_EQ(back.size(), original.size());
  std::set<std::string> a, b;
  for (const auto& n : back) a.insert(n.dump());
  for (const auto& n : original) b.insert(n.dump());
  EXPECT_EQ(a, b);
  // Exporting one tab pulls in what it uses, unless told otherwise.
  exp.selection = {"home-kitchen"};
  exp.output = dir_ / "kitchen";
  out = ExportForeign(repo, exp, "node-red");
  EXPECT_EQ(out.files.size(), 1u);
  // The garden (a link), the subflow and the config nodes it uses.
  EXPECT_EQ(out.files[0].flows.size(), 4u);
}

TEST_F(FormatsAddTest, SubflowChangeDiffsNodeByNode) {
  FlowRepository repo = Init();
  AddFlowsRequest request = Request({Fixtures("node-red/home-flows.json")}, "v1");
  request.split = SplitTabs::kYes;
  request.group = "Home";
  AddFlows(repo, request);
  repo.Publish("main", "v1", "v1");
  std::string text = ReadFile(Fixtures("node-red/home-flows.json"));
  text.replace(text.find("\"rate\": \"1\""), 11, "\"rate\": \"3\"");
  WriteFile(dir_ / "v2/home-flows.json", text);
  request.paths = {dir_ / "v2/home-flows.json"};
  request.draft = "v2";
  AddFlowsResult r = AddFlows(repo, request);
  for (const auto& f : r.flows) EXPECT_EQ(f.action, AddedFlow::Action::kUpdated) << f.summary.id;
  PublishResult p = repo.Publish("main", "v2", "slower");
  ASSERT_EQ(p.versions.size(), 1u);
  EXPECT_EQ(p.versions[0].flow, "home-debounce");
  FlowDiff diff = repo.Diff("main", "home-debounce", "v1", "v2");
  ASSERT_EQ(diff.changes.size(), 1u);
  EXPECT_EQ(diff.changes[0].node, "sf.delay");
  EXPECT_EQ(diff.changes[0].pointer, "/1/rate");
  EXPECT_EQ(diff.changes[0].before, "\"1\"");
  EXPECT_EQ(diff.changes[0].after, "\"3\"");
}

TEST_F(FormatsAddTest, PackageRoundTripRenamesReferences) {
  FlowRepository repo = Init();
  AddFlows(repo, Request({Fixtures("n8n")}, "n8n"));
  repo.Publish("main", "n8n", "first");
  ExportRequest exp;
  exp.all = true;
  exp.output = dir_ / "all.studiopkg";
  ExportPackage(repo, exp);

  FlowRepository target = Init("target");
  ImportRequest imp;
  imp.package = exp.output;
  imp.mode = ImportRequest::Mode::kAsNew;
  imp.draft = "in";
  // Without the components the import is refused, naming them.
  try {
    ImportPackage(target, imp);
    ADD_FAILURE() << "expected missing components";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidData);
    bool named = false;
    for (const auto& d : e.details()) named |= d.find("'n8n:n8n-nodes-base.slack'") != std::string::npos;
    EXPECT_TRUE(named);
  }
  // Declare them by adding the same workflows to a scratch draft of the target.
  AddFlows(target, Request({Fixtures("n8n")}, "scratch"));
  target.Publish("main", "scratch", "n8n nodes");
  ImportResult in = ImportPackage(target, imp);
  ASSERT_EQ(in.flows.size(), 4u);
  EXPECT_EQ(in.flows[1].id, "invoice-sync-2");
  target.Publish("main", "in", "imported");
  Json app = Json::parse(target.ReadFlow("main", ParseFlowSpec("invoice-sync-2")).app_definition);
  EXPECT_EQ(app["references"]["wf-notify-001"], "notify-team-2");
  EXPECT_EQ(app["references"]["wf-errors-001"], "error-handler-2");
}

}  // namespace
}  // namespace flowrepo
