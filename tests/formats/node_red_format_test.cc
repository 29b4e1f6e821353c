// The Node-RED FlowFormat, splitting a flows file into tabs and writing it
// back, on the self-made fixtures in fixtures/formats/node-red.

#include "formats/node_red_format.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "flowrepo/formats.h"
#include "json/json_io.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

using testing::ExpectError;
using testing::ReadFile;
using testing::SourceDir;

std::string FixturePath(const std::string& name) { return SourceDir() + "/fixtures/formats/node-red/" + name; }

Json Fixture(const std::string& name) { return ParseJson(ReadFile(FixturePath(name)), name); }

std::vector<Problem> CheckOf(const Json& doc) {
  std::vector<Problem> problems;
  NodeRedFormat().Check(doc, "flows.json", problems);
  return problems;
}

// Nodes by id, for comparisons that ignore order.
std::map<std::string, Json> ById(const Json& nodes) {
  std::map<std::string, Json> out;
  for (const auto& n : nodes) out.emplace(n["id"].get<std::string>(), n);
  return out;
}

TEST(NodeRedFormatTest, FixturesAreRecognisedAndValid) {
  for (const char* name : {"home-flows.json", "single-tab.json", "selection.json", "subflow-module.json"}) {
    Json doc = Fixture(name);
    EXPECT_TRUE(NodeRedFormat::Recognize(doc)) << name;
    auto problems = CheckOf(doc);
    EXPECT_TRUE(problems.empty()) << name << ": " << problems[0].ToString();
  }
  EXPECT_TRUE(NodeRedFormat::IsSubflowModule(Fixture("subflow-module.json")));
}

TEST(NodeRedFormatTest, RejectsWireToMissingNode) {
  Json doc = Fixture("single-tab.json");
  doc[1]["wires"][0].push_back("nowhere");
  auto problems = CheckOf(doc);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rule, "dangling-wire");
  EXPECT_EQ(problems[0].pointer, "/1/wires/0/1");
  EXPECT_EQ(problems[0].message, "wire from 'a1f0c2d3e4b50002' to 'nowhere', which is not a node of this flow");
}

TEST(NodeRedFormatTest, RejectsDuplicateIdsAndBrokenSubflowPorts) {
  Json doc = Fixture("single-tab.json");
  doc[3]["id"] = "a1f0c2d3e4b50002";
  auto problems = CheckOf(doc);
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].rule, "duplicate-node-id");
  EXPECT_EQ(problems[0].message, "duplicate node id 'a1f0c2d3e4b50002' (also /1)");

  doc = Fixture("home-flows.json");
  doc[2]["in"][0]["wires"][0]["id"] = "gone";
  problems = CheckOf(doc);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].pointer, "/2/in/0/wires/0/id");
  EXPECT_EQ(problems[0].rule, "dangling-wire");
}

TEST(NodeRedFormatTest, TabsAndLinksOutsideTheDocumentAreFine) {
  // selection.json's nodes sit on a tab it does not hold and link elsewhere.
  auto facts = NodeRedFormat().Facts(Fixture("selection.json"));
  ASSERT_EQ(facts.subflows.size(), 1u);
  EXPECT_EQ(facts.subflows[0].source, "c3d4e5f6a7b80001");
  EXPECT_EQ(facts.subflows[0].pointer, "/2/links/0");
  EXPECT_EQ(facts.subflows[0].kind, SubflowRef::Kind::kForeign);
}

TEST(NodeRedFormatTest, RejectsWhatIsNotAFlowsArray) {
  auto problems = CheckOf(Json::parse(R"({"id": "x"})"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rule, "schema");
  problems = CheckOf(Json::parse(R"([{"id": "a"}, 3])"));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].message, "node 'a' has no string 'type'");
  EXPECT_EQ(problems[1].message, "node must be an object");
}

TEST(NodeRedFormatTest, FactsOfAWholeFlowsFile) {
  auto facts = NodeRedFormat().Facts(Fixture("home-flows.json"));
  EXPECT_EQ(facts.nodes.size(), 15u);
  EXPECT_EQ(facts.nodes[6].key, "k.motion");
  EXPECT_EQ(facts.nodes[6].pointer, "/6");
  // The subflow and the link target are inside: no references.
  EXPECT_TRUE(facts.subflows.empty());
  // Config nodes are credentials bound to themselves; dashboard layout is not.
  ASSERT_EQ(facts.credentials.size(), 1u);
  EXPECT_EQ(facts.credentials[0].node, "c.broker");
  EXPECT_EQ(facts.credentials[0].type, "mqtt-broker");
  EXPECT_EQ(facts.credentials[0].binding, "c.broker");
  EXPECT_TRUE(facts.components.count("node-red:mqtt in"));
  EXPECT_TRUE(facts.components.count("node-red:delay"));
  EXPECT_FALSE(facts.components.count("node-red:tab"));
  EXPECT_FALSE(facts.components.count("node-red:subflow:sf.debounce"));
}

TEST(NodeRedFormatTest, SubflowModuleFacts) {
  auto facts = NodeRedFormat().Facts(Fixture("subflow-module.json"));
  ASSERT_EQ(facts.nodes.size(), 1u);
  EXPECT_EQ(facts.nodes[0].pointer, "/flow/0");
  EXPECT_TRUE(facts.subflows.empty());
  EXPECT_EQ(facts.components, std::set<std::string>{"node-red:switch"});
}

TEST(NodeRedFormatTest, StripRemovesCredentialsAndCredentialEnvValues) {
  Json doc = Fixture("home-flows.json");
  doc[4]["credentials"] = {{"user", "home"}, {"password", "hunter2"}};
  doc[0]["env"] = Json::parse(R"([{"name": "TOKEN", "type": "cred", "value": "abc"},
                                  {"name": "ROOM", "type": "str", "value": "kitchen"}])");
  Json stripped = NodeRedFormat().StripForExport(doc, StripOptions{});
  EXPECT_FALSE(stripped[4].contains("credentials"));
  EXPECT_FALSE(stripped[0]["env"][0].contains("value"));
  EXPECT_EQ(stripped[0]["env"][1]["value"], "kitchen");
  Json expected = doc;
  expected[4].erase("credentials");
  expected[0]["env"][0].erase("value");
  EXPECT_EQ(stripped, expected);
  // The fixture itself has nothing to strip.
  EXPECT_EQ(NodeRedFormat().StripForExport(Fixture("home-flows.json"), StripOptions{}), Fixture("home-flows.json"));
}

TEST(NodeRedFormatTest, SplitTabsMakesTabSubflowAndConfigFlows) {
  DocumentOptions options;
  options.group = "Home";
  options.file_name = "home-flows.json";
  options.split = SplitTabs::kYes;
  auto flows = FlowsFromDocument(ReadFile(FixturePath("home-flows.json")), options);
  ASSERT_EQ(flows.size(), 4u);
  std::vector<std::string> ids, names;
  for (const auto& f : flows) {
    ids.push_back(f.summary.id);
    names.push_back(f.summary.name);
    EXPECT_EQ(f.summary.group, "Home");
    EXPECT_EQ(f.summary.format, "node-red");
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"home-kitchen", "home-garden", "home-debounce", "home-config"}));
  EXPECT_EQ(names, (std::vector<std::string>{"Kitchen", "Garden", "Debounce", "Home config nodes"}));
  Json kitchen = Json::parse(flows[0].flow_definition);
  EXPECT_EQ(kitchen.size(), 6u);  // the tab, four nodes and the group
  Json app = Json::parse(flows[0].app_definition);
  EXPECT_EQ(app["source_id"], "t.kitchen");
  EXPECT_EQ(app["description"], "Lights and sensors in the kitchen");
  EXPECT_EQ(app["node_red"], Json({{"part", "tab"}, {"order", 0}}));
  EXPECT_EQ(Json::parse(flows[2].app_definition)["node_red"]["part"], "subflow");
  Json config = Json::parse(flows[3].flow_definition);
  EXPECT_EQ(config.size(), 2u);
  EXPECT_EQ(config[0]["id"], "c.broker");

  // The kitchen uses the subflow and the garden's link: references.
  auto facts = NodeRedFormat().Facts(kitchen);
  std::set<std::string> sources;
  for (const auto& r : facts.subflows) sources.insert(r.source);
  EXPECT_EQ(sources, (std::set<std::string>{"sf.debounce", "g.from-kitchen"}));

  // Written back: one flows file with every node of the original.
  auto files = ForeignFiles(flows, "node-red");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].name, "home-flows.json");
  EXPECT_EQ(files[0].flows, ids);
  Json back = Json::parse(files[0].content);
  EXPECT_EQ(ById(back), ById(Fixture("home-flows.json")));
  EXPECT_EQ(back[0]["id"], "t.kitchen");  // tab order kept
}

TEST(NodeRedFormatTest, SplitWithoutTabsKeepsTheFileWhole) {
  DocumentOptions options;
  options.file_name = "selection.json";
  options.split = SplitTabs::kYes;
  auto flows = FlowsFromDocument(ReadFile(FixturePath("selection.json")), options);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].summary.id, "selection");
  EXPECT_EQ(Json::parse(flows[0].flow_definition), Fixture("selection.json"));
}

TEST(NodeRedFormatTest, SingleTabFileIsNamedAfterItsTab) {
  DocumentOptions options;
  options.file_name = "single-tab.json";
  auto flows = FlowsFromDocument(ReadFile(FixturePath("single-tab.json")), options);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].summary.id, "heartbeat");
  Json app = Json::parse(flows[0].app_definition);
  EXPECT_EQ(app["source_id"], "a1f0c2d3e4b50001");
  EXPECT_EQ(app["description"], "Pings the status page every minute");
  EXPECT_FALSE(app.contains("node_red"));
  auto files = ForeignFiles(flows, "node-red");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(Json::parse(files[0].content), Fixture("single-tab.json"));
}

TEST(NodeRedFormatTest, SplitTabsRefusesOtherFormats) {
  DocumentOptions options;
  options.file_name = "wf.json";
  options.split = SplitTabs::kYes;
  ExpectError(ErrorCode::kInvalidData, "wf.json: --split-tabs splits node-red flows files, not n8n flows",
              [&] { FlowsFromDocument(R"({"nodes": [], "connections": {}})", options); });
}

}  // namespace
}  // namespace flowrepo
