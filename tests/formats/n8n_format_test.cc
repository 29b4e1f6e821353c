// The n8n FlowFormat and the conversion of n8n workflow files, on the
// self-made fixtures in fixtures/formats/n8n and small inline documents.

#include "formats/n8n_format.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "flowrepo/formats.h"
#include "json/json_io.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::ExpectError;
using testing::ReadFile;
using testing::SourceDir;

Json Fixture(const std::string& name) {
  std::string path = SourceDir() + "/fixtures/formats/n8n/" + name;
  return ParseJson(ReadFile(path), path);
}

std::vector<Problem> CheckOf(const Json& doc) {
  std::vector<Problem> problems;
  N8nFormat().Check(doc, "wf.json", problems);
  return problems;
}

Json TwoNodes() {
  return Json::parse(R"({
    "name": "t",
    "nodes": [
      {"name": "A", "type": "n8n-nodes-base.manualTrigger", "parameters": {}},
      {"name": "B", "type": "n8n-nodes-base.noOp", "parameters": {}}
    ],
    "connections": {"A": {"main": [[{"node": "B", "type": "main", "index": 0}]]}}
  })");
}

TEST(N8nFormatTest, FixturesAreRecognisedAndValid) {
  for (const char* name : {"invoice-sync.json", "notify-team.json", "error-handler.json", "legacy-no-ids.json"}) {
    Json doc = Fixture(name);
    EXPECT_TRUE(N8nFormat::Recognize(doc)) << name;
    auto problems = CheckOf(doc);
    EXPECT_TRUE(problems.empty()) << name << ": " << problems[0].ToString();
  }
}

TEST(N8nFormatTest, RejectsConnectionToMissingNode) {
  Json doc = TwoNodes();
  doc["connections"]["A"]["main"][0][0]["node"] = "C";
  auto problems = CheckOf(doc);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rule, "dangling-connection");
  EXPECT_EQ(problems[0].pointer, "/connections/A/main/0/0/node");
  EXPECT_EQ(problems[0].message, "connection from 'A' to 'C', which is not a node of this workflow");
}

TEST(N8nFormatTest, RejectsConnectionFromMissingNodeWithEscapedPointer) {
  Json doc = TwoNodes();
  doc["connections"]["x/y"] = {{"main", Json::array({Json::array()})}};
  auto problems = CheckOf(doc);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].pointer, "/connections/x~1y");
  EXPECT_EQ(problems[0].message, "connection from 'x/y', which is not a node of this workflow");
}

TEST(N8nFormatTest, RejectsDuplicateNamesAndIds) {
  Json doc = TwoNodes();
  doc["nodes"][1]["name"] = "A";
  auto problems = CheckOf(doc);
  ASSERT_EQ(problems.size(), 2u);  // and the connection to B has no target now
  EXPECT_EQ(problems[0].rule, "duplicate-node-name");
  EXPECT_EQ(problems[1].rule, "dangling-connection");
  EXPECT_EQ(problems[0].message, "duplicate node name 'A' (also /nodes/0); connections name nodes by name");

  doc = TwoNodes();
  doc["nodes"][0]["id"] = "same";
  doc["nodes"][1]["id"] = "same";
  problems = CheckOf(doc);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rule, "duplicate-node-id");
  EXPECT_EQ(problems[0].pointer, "/nodes/1/id");
}

TEST(N8nFormatTest, NullOutputSlotsAreFine) {
  Json doc = TwoNodes();
  doc["connections"]["A"]["main"] = Json::parse(R"([null, [{"node": "B", "type": "main", "index": 0}]])");
  EXPECT_TRUE(CheckOf(doc).empty());
}

TEST(N8nFormatTest, MissingPartsAreSchemaProblems) {
  auto problems = CheckOf(Json::parse(R"({"nodes": [{"type": "x"}]})"));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].message, "node has no string 'name'");
  EXPECT_EQ(problems[1].message, "required object 'connections' is missing");
}

TEST(N8nFormatTest, FactsKeyNodesByIdElseName) {
  auto facts = N8nFormat().Facts(Fixture("invoice-sync.json"));
  ASSERT_EQ(facts.nodes.size(), 5u);
  EXPECT_EQ(facts.nodes[0].key, "0b7f1c2e-1111-4a4a-9c9c-000000000001");
  EXPECT_EQ(facts.nodes[0].pointer, "/nodes/0");
  facts = N8nFormat().Facts(Fixture("legacy-no-ids.json"));
  ASSERT_EQ(facts.nodes.size(), 2u);
  EXPECT_EQ(facts.nodes[1].key, "Postgres");
}

TEST(N8nFormatTest, FactsFindSubWorkflowReferences) {
  auto facts = N8nFormat().Facts(Fixture("invoice-sync.json"));
  ASSERT_EQ(facts.subflows.size(), 2u);
  // A resource locator, then settings.errorWorkflow.
  EXPECT_EQ(facts.subflows[0].node, "Notify team");
  EXPECT_EQ(facts.subflows[0].source, "wf-notify-001");
  EXPECT_EQ(facts.subflows[0].pointer, "/nodes/3/parameters/workflowId/value");
  EXPECT_EQ(facts.subflows[0].kind, SubflowRef::Kind::kForeign);
  EXPECT_TRUE(facts.subflows[0].flow.empty());
  EXPECT_EQ(facts.subflows[1].node, "settings");
  EXPECT_EQ(facts.subflows[1].source, "wf-errors-001");
  EXPECT_EQ(facts.subflows[1].pointer, "/settings/errorWorkflow");

  facts = N8nFormat().Facts(Fixture("error-handler.json"));
  ASSERT_EQ(facts.subflows.size(), 2u);
  // An expression cannot be resolved; a plain string id can.
  EXPECT_EQ(facts.subflows[0].kind, SubflowRef::Kind::kDynamic);
  EXPECT_EQ(facts.subflows[0].source, "={{ $json.workflow.id }}");
  EXPECT_EQ(facts.subflows[1].kind, SubflowRef::Kind::kForeign);
  EXPECT_EQ(facts.subflows[1].source, "wf-notify-001");
  EXPECT_EQ(facts.subflows[1].pointer, "/nodes/2/parameters/workflowId");
}

TEST(N8nFormatTest, ReferencesOfOtherSourcesAndUrlLocators) {
  Json doc = TwoNodes();
  doc["nodes"].push_back({{"name", "Inline"},
                          {"type", "n8n-nodes-base.executeWorkflow"},
                          {"parameters", {{"source", "parameter"}, {"workflowJson", "{}"}}}});
  doc["nodes"].push_back(
      {{"name", "ByUrl"},
       {"type", "n8n-nodes-base.executeWorkflow"},
       {"parameters",
        {{"workflowId", {{"__rl", true}, {"mode", "url"}, {"value", "https://n8n.example.com/workflow/AbC12?x=1"}}}}}});
  doc["nodes"].push_back(
      {{"name", "Numeric"}, {"type", "n8n-nodes-base.executeWorkflow"}, {"parameters", {{"workflowId", 42}}}});
  auto facts = N8nFormat().Facts(doc);
  ASSERT_EQ(facts.subflows.size(), 2u);
  EXPECT_EQ(facts.subflows[0].source, "AbC12");
  EXPECT_EQ(facts.subflows[1].source, "42");
}

TEST(N8nFormatTest, FactsListCredentialsAndComponents) {
  auto facts = N8nFormat().Facts(Fixture("invoice-sync.json"));
  ASSERT_EQ(facts.credentials.size(), 2u);
  EXPECT_EQ(facts.credentials[0].node, "Fetch open invoices");
  EXPECT_EQ(facts.credentials[0].type, "httpHeaderAuth");
  EXPECT_EQ(facts.credentials[0].binding, "cred-billing-17");
  EXPECT_EQ(facts.credentials[0].pointer, "/nodes/1/credentials/httpHeaderAuth/id");
  // A legacy reference is the credential's name.
  EXPECT_EQ(facts.credentials[1].binding, "Finance service account");
  EXPECT_EQ(facts.credentials[1].pointer, "/nodes/4/credentials/googleApi");
  EXPECT_TRUE(facts.components.count("n8n:n8n-nodes-base.httpRequest"));
  EXPECT_TRUE(facts.components.count("n8n:n8n-nodes-base.executeWorkflow"));
  EXPECT_EQ(facts.components.size(), 5u);
}

TEST(N8nFormatTest, StripRemovesCredentialIdsSampleDataAndInstanceId) {
  N8nFormat format;
  Json doc = Fixture("invoice-sync.json");
  Json stripped = format.StripForExport(doc, StripOptions{});
  EXPECT_FALSE(stripped.contains("pinData"));
  EXPECT_FALSE(stripped["meta"].contains("instanceId"));
  EXPECT_EQ(stripped["nodes"][1]["credentials"]["httpHeaderAuth"], Json({{"name", "Billing API header"}}));
  EXPECT_EQ(stripped["nodes"][4]["credentials"]["googleApi"], "Finance service account");
  // Nothing else changes.
  Json expected = doc;
  expected.erase("pinData");
  expected["meta"].erase("instanceId");
  expected["nodes"][1]["credentials"]["httpHeaderAuth"].erase("id");
  EXPECT_EQ(stripped, expected);
  // The credential stays bound by name: n8n matches it on import.
  auto facts = format.Facts(stripped);
  EXPECT_EQ(facts.credentials[0].binding, "Billing API header");

  StripOptions keep;
  keep.keep_sample_data = true;
  EXPECT_TRUE(format.StripForExport(doc, keep).contains("pinData"));
}

TEST(N8nFormatTest, DocumentBecomesOneFlowWithSourceFields) {
  std::string path = SourceDir() + "/fixtures/formats/n8n/invoice-sync.json";
  DocumentOptions options;
  options.group = "Finance";
  options.file_name = "invoice-sync.json";
  auto flows = FlowsFromDocument(ReadFile(path), options);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].summary.id, "invoice-sync");
  EXPECT_EQ(flows[0].summary.name, "Invoice sync");
  EXPECT_EQ(flows[0].summary.format, "n8n");
  EXPECT_EQ(flows[0].summary.group, "Finance");
  Json app = Json::parse(flows[0].app_definition);
  EXPECT_EQ(app["format"], "n8n");
  EXPECT_EQ(app["source_id"], "wf-invoice-001");
  EXPECT_EQ(app["source_file"], "invoice-sync.json");
  EXPECT_EQ(app["id"], "invoice-sync");
  // The definition is the document, value for value.
  EXPECT_EQ(Json::parse(flows[0].flow_definition), Json::parse(ReadFile(path)));
}

TEST(N8nFormatTest, NumericIdsAndMissingNamesStillGiveIds) {
  DocumentOptions options;
  options.file_name = "0042_Some Export.json";
  Json doc = TwoNodes();
  doc.erase("name");
  doc["id"] = 42;
  auto flows = FlowsFromDocument(doc.dump(), options);
  EXPECT_EQ(flows[0].summary.id, "0042-some-export");
  EXPECT_EQ(flows[0].summary.name, "0042_Some Export");
  EXPECT_EQ(Json::parse(flows[0].app_definition)["source_id"], "42");
  // A name without any latin letter or digit falls back to the file name.
  doc["name"] = "请假审批";
  flows = FlowsFromDocument(doc.dump(), options);
  EXPECT_EQ(flows[0].summary.id, "0042-some-export");
  EXPECT_EQ(flows[0].summary.name, "请假审批");
}

TEST(N8nFormatTest, RecognitionRefusesWhatIsNotAFlow) {
  ExpectError(ErrorCode::kInvalidData, "x.json: not a flow of any known format: an empty JSON object",
              [] { DetectFormat("{}", "x.json"); });
  ExpectError(ErrorCode::kInvalidData,
              "x.json: not a flow of any known format: its keys are quoted pieces of JSON text "
              "(\"\\\"nodes\\\"\"), not fields: a mangled export",
              [] { DetectFormat(R"({"\"nodes\"": "[", "\"name\"": "\"x\","})", "x.json"); });
  ExpectError(ErrorCode::kInvalidData, "x.json: not a flow of any known format: an empty JSON array",
              [] { DetectFormat("[]", "x.json"); });
  EXPECT_EQ(DetectFormat(TwoNodes().dump(), "x.json"), "n8n");
}

TEST(N8nFormatTest, ForcedFormatRefusesAnotherFormatsDocument) {
  DocumentOptions options;
  options.format = "n8n";
  options.file_name = "flows.json";
  ExpectError(ErrorCode::kInvalidData, "flows.json: not a flow of format 'n8n': it looks like a node-red flow",
              [&] { FlowsFromDocument(R"([{"id": "a", "type": "inject"}])", options); });
  options.format = "zapier";
  ExpectError(ErrorCode::kInvalidArgument, "unknown format 'zapier'; use auto, n8n, node-red or native",
              [&] { FlowsFromDocument("{}", options); });
}

TEST(N8nFormatTest, InvalidDocumentIsRefusedWithEveryProblem) {
  Json doc = TwoNodes();
  doc["connections"]["A"]["main"][0][0]["node"] = "C";
  doc["nodes"][1]["name"] = "A";
  DocumentOptions options;
  options.file_name = "wf.json";
  try {
    FlowsFromDocument(doc.dump(), options);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidData);
    EXPECT_EQ(std::string(e.what()),
              "wf.json: invalid n8n flow: duplicate node name 'A' (also /nodes/0); connections "
              "name nodes by name (and 1 more)");
    ASSERT_EQ(e.details().size(), 2u);
    EXPECT_EQ(e.details()[1],
              "/connections/A/main/0/0/node: connection from 'A' to 'C', which is not a node of "
              "this workflow [dangling-connection]");
  }
}

TEST(N8nFormatTest, LiteralKeyInAUrlIsRefusedAsSecret) {
  Json doc = TwoNodes();
  doc["nodes"][1]["type"] = "n8n-nodes-base.httpRequest";
  doc["nodes"][1]["parameters"] = {{"url", "https://maps.example.com/api?key=AIzaSyD4vX9qk2LmN8pQ7rS1tU3wY5zA6bC0dEf"}};
  DocumentOptions options;
  options.file_name = "wf.json";
  try {
    FlowsFromDocument(doc.dump(), options);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidData);
    EXPECT_NE(std::string(e.what()).find("plain-text secret in n8n flow"), std::string::npos) << e.what();
    ASSERT_FALSE(e.details().empty());
    EXPECT_EQ(e.details()[0].rfind("/nodes/1/parameters/url: ", 0), 0u) << e.details()[0];
    // The message never repeats the value.
    EXPECT_EQ(std::string(e.what()).find("AIza"), std::string::npos);
  }
}

TEST(N8nFormatTest, ForeignFilesWriteTheWorkflowBackStripped) {
  std::string path = SourceDir() + "/fixtures/formats/n8n/invoice-sync.json";
  DocumentOptions options;
  options.file_name = "invoice-sync.json";
  auto flows = FlowsFromDocument(ReadFile(path), options);
  auto files = ForeignFiles(flows, "n8n");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].name, "invoice-sync.json");
  Json expected = N8nFormat().StripForExport(Json::parse(ReadFile(path)), StripOptions{});
  EXPECT_EQ(Json::parse(files[0].content), expected);
  files = ForeignFiles(flows, "n8n", ExportRequest::SampleData::kKeep);
  EXPECT_TRUE(Json::parse(files[0].content).contains("pinData"));
  ExpectError(ErrorCode::kInvalidArgument,
              "cannot write as node-red: 1 flow(s) of another format: 'invoice-sync' (n8n)",
              [&] { ForeignFiles(flows, "node-red"); });
}

}  // namespace
}  // namespace flowrepo
