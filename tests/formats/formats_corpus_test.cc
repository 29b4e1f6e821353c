// The real n8n and Node-RED files of ../shared/corpus (see its README):
// every file is either added, published, exported, imported into another
// repository, published again and compared equal to the original minus the
// fields export strips (docs/formats.md), or refused with a reason that is
// right for that file. Prints the counts and the time to add the whole
// corpus with one `flowrepo flow add`. Skipped when the corpus is absent.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "flowrepo/formats.h"
#include "flowrepo/package.h"
#include "flowrepo/repository.h"
#include "json/json_io.h"
#include "repo/repository_impl.h"
#include "repo/settings.h"
#include "support/test_support.h"

namespace flowrepo {
namespace {

namespace fs = std::filesystem;
using testing::Flowrepo;
using testing::Quote;
using testing::ReadFile;
using testing::RunResult;
using testing::TempDir;

constexpr char kUser[] = "corpus@example.com";

std::string CorpusDir() { return testing::SourceDir() + "/../shared/corpus"; }

// The original minus what export strips, computed here independently of
// the format handlers.
Json ExpectedAfterExport(Json doc, const std::string& format) {
  if (format == "n8n") {
    doc.erase("pinData");
    if (doc.contains("meta") && doc["meta"].is_object()) doc["meta"].erase("instanceId");
    for (auto& node : doc["nodes"]) {
      if (!node.contains("credentials") || !node["credentials"].is_object()) continue;
      for (auto& [type, ref] : node["credentials"].items()) {
        if (ref.is_object()) ref.erase("id");
      }
    }
    return doc;
  }
  auto strip = [](Json& node) {
    if (!node.is_object()) return;
    node.erase("credentials");
    if (node.contains("env") && node["env"].is_array()) {
      for (auto& var : node["env"]) {
        if (var.is_object() && var.value("type", "") == "cred") var.erase("value");
      }
    }
  };
  if (doc.is_array()) {
    for (auto& node : doc) strip(node);
  } else {
    strip(doc);
    for (auto& node : doc["flow"]) strip(node);
  }
  return doc;
}

// Independent look at a refused file: is the reason right for it?
std::string CheckRefusal(const RefusedFile& r) {
  std::string text = ReadFile(r.file);
  Json raw = Json::parse(text, nullptr, false);
  if (r.reason == "json") {
    // Malformed, or something our reader refuses (duplicate keys, depth).
    if (raw.is_discarded()) return "";
    return r.message.find("duplicate key") != std::string::npos || r.message.find("nesting deeper") != std::string::npos
               ? ""
               : "json refusal of a well-formed file: " + r.message;
  }
  if (raw.is_discarded()) return "unparsable file refused as " + r.reason;
  if (r.reason == "not-a-flow") {
    bool n8n = raw.is_object() && raw.contains("nodes") && raw["nodes"].is_array() && raw.contains("connections") &&
               raw["connections"].is_object();
    bool node_red = raw.is_array() && !raw.empty();
    for (const auto& n : raw) {
      if (!raw.is_array() || !n.is_object() || !n.contains("id") || !n.contains("type")) node_red = false;
    }
    return n8n || node_red ? "a flow refused as not-a-flow" : "";
  }
  if (r.reason == "secret") {
    // Every finding points at a string of the document.
    for (const auto& d : r.details) {
      std::string pointer = d.substr(0, d.find(": "));
      try {
        if (!raw.at(Json::json_pointer(pointer)).is_string()) return "secret finding not at a string: " + d;
      } catch (const Json::exception&) {
        return "secret finding at a missing place: " + d;
      }
      if (d.find("[secret/") == std::string::npos) return "secret refusal without a secret rule: " + d;
    }
    return r.details.empty() ? "secret refusal without findings" : "";
  }
  if (r.reason == "invalid") {
    // n8n: recompute names and connection targets here.
    if (!raw.is_object() || !raw.contains("nodes")) return "";
    std::multiset<std::string> names;
    std::set<std::string> ids_seen, ids_dup;
    for (const auto& n : raw["nodes"]) {
      names.insert(n.value("name", ""));
      if (n.contains("id") && n["id"].is_string() && !ids_seen.insert(n["id"].get<std::string>()).second) {
        ids_dup.insert(n["id"].get<std::string>());
      }
    }
    bool defect = !ids_dup.empty();
    for (const auto& name : names) defect |= names.count(name) > 1;
    const Json connections = raw.value("connections", Json::object());
    for (const auto& [source, outputs] : connections.items()) {
      defect |= !names.count(source);
      for (const auto& [kind, slots] : outputs.items()) {
        for (const auto& slot : slots) {
          if (!slot.is_array()) continue;
          for (const auto& t : slot) defect |= !names.count(t.value("node", ""));
        }
      }
    }
    return defect ? "" : "an n8n workflow without defects refused as invalid";
  }
  return "unexpected reason '" + r.reason + "'";
}

// Publishes \a draft, failing the test with every problem when refused.
void PublishOrFail(FlowRepository& repo, const std::string& draft) {
  try {
    repo.Publish("main", draft, draft);
  } catch (const Error& e) {
    std::string details;
    for (const auto& d : e.details()) details += "\n  " + d;
    FAIL() << e.what() << details;
  }
}

// Declares every n8n and Node-RED node type available in \a repo's main.
void ProvideForeignComponents(FlowRepository& repo) {
  FlowRepository::Impl& impl = ImplOf(repo);
  WorkspaceSettings settings = WorkspaceSettings::AtCommit(impl.store, impl.WorkspaceHead("main"));
  Json doc = settings.document;
  doc["components"].push_back({{"name", "n8n:*"}});
  doc["components"].push_back({{"name", "node-red:*"}});
  TreeEdits edits;
  edits[std::string(kSettingsPath)] = TreeEntry{impl.store.WriteBlob(CanonicalJson(doc)), GIT_FILEMODE_BLOB};
  impl.CommitToDraft("main", "setup", edits, "Provide n8n and Node-RED node types", {});
  PublishOrFail(repo, "setup");
}

TEST(FormatsCorpusTest, EveryFileRoundTripsOrIsRefusedForItsReason) {
  if (!fs::is_directory(CorpusDir())) {
    GTEST_SKIP() << "corpus not found at " << CorpusDir() << " (../shared/corpus next to the source)";
  }
  TempDir dir;
  InitOptions init;
  init.user = kUser;
  FlowRepository::Init(dir / "a", init);

  // 1. The whole corpus with one command.
  auto start = std::chrono::steady_clock::now();
  RunResult add = Flowrepo(
      "--user " + std::string(kUser) + " flow add " + Quote(CorpusDir()) + " --draft corpus --json", dir / "a");
  double add_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(add.exit_code == 0 || add.exit_code == 1) << add.err;
  Json added = Json::parse(add.out);
  const std::size_t files = added["files"].get<std::size_t>();
  std::map<std::string, std::size_t> refused_by_reason;
  std::vector<RefusedFile> refused;
  for (const auto& r : added["refused"]) {
    refused.push_back({r["file"], r["reason"], r["message"], r["details"].get<std::vector<std::string>>()});
    ++refused_by_reason[r["reason"].get<std::string>()];
  }
  std::map<std::string, std::string> file_of;  // flow id -> file
  std::set<std::string> added_files;
  std::map<std::string, std::size_t> by_format;
  for (const auto& f : added["flows"]) {
    file_of[f["id"]] = f["file"];
    added_files.insert(f["file"].get<std::string>());
    ++by_format[f["format"].get<std::string>()];
  }
  EXPECT_EQ(added_files.size() + refused.size(), files) << "every file is added or refused";
  for (const auto& r : refused) {
    std::string wrong = CheckRefusal(r);
    EXPECT_EQ(wrong, "") << r.file << ": " << r.message;
  }

  // 2. Publish: what the publish check refuses (unbound credentials in the
  //    source, ...) is counted by rule and left out of the round trip.
  FlowRepository a = FlowRepository::Open(dir / "a", kUser);
  std::map<std::string, std::size_t> refused_at_publish;  // rule -> flows
  std::set<std::string> unpublishable;
  try {
    a.Publish("main", "corpus", "corpus");
  } catch (const Error& e) {
    ASSERT_EQ(e.code(), ErrorCode::kInvalidData) << e.what();
    std::map<std::string, std::set<std::string>> rules;
    for (const auto& d : e.details()) {
      // "flows/<group>/<id>/<file>:<pointer>: message [rule]"
      std::string path = d.substr(0, d.find(".json") + 5);
      std::string folder = path.substr(0, path.rfind('/'));
      std::string id = folder.substr(folder.rfind('/') + 1);
      std::string rule = d.substr(d.rfind('[') + 1);
      rule.pop_back();
      unpublishable.insert(id);
      rules[rule].insert(id);
      EXPECT_TRUE(rule == "unbound-credential") << d;
    }
    for (const auto& [rule, ids] : rules) refused_at_publish[rule] = ids.size();
  }

  // 3. The publishable flows: add, publish, export, import elsewhere,
  //    publish, compare.
  // Each step opens its repository afresh, as the command line does.
  FlowRepository::Init(dir / "b", init);
  FlowRepository b = FlowRepository::Open(dir / "b", kUser);
  AddFlowsRequest request;
  request.draft = "corpus";
  std::set<std::string> publishable_files;
  for (const auto& [id, file] : file_of) {
    if (!unpublishable.count(id)) publishable_files.insert(file);
  }
  // Each file once (one file may give several flows only when split).
  request.paths.assign(publishable_files.begin(), publishable_files.end());
  AddFlowsResult in_b = AddFlows(b, request);
  ASSERT_TRUE(in_b.refused.empty());
  b = FlowRepository::Open(dir / "b", kUser);
  PublishOrFail(b, "corpus");
  ExportRequest exp;
  exp.all = true;
  exp.output = dir / "corpus.studiopkg";
  ExportResult package = ExportPackage(b, exp);

  FlowRepository c = FlowRepository::Init(dir / "c", init);
  ProvideForeignComponents(c);
  ImportRequest imp;
  imp.package = package.path;
  imp.draft = "imported";
  ImportResult imported = ImportPackage(c, imp);
  ASSERT_EQ(imported.flows.size(), in_b.flows.size());
  // A credential known by id only (its name empty) is unbound once the id
  // is stripped: bind it, as a user would before publishing.
  constexpr char kBound[] = "corpus-credential";
  std::map<std::string, std::set<std::string>> rebound;  // flow -> nodes
  for (const auto& f : imported.flows) {
    if (f.unbound_credentials.empty()) continue;
    BindRequest bind;
    bind.draft = "imported";
    bind.flow = f.id;
    for (const auto& node : f.unbound_credentials) {
      bind.credentials[node] = kBound;
      rebound[f.id].insert(node);
    }
    BindCredentials(c, bind);
  }
  c = FlowRepository::Open(dir / "c", kUser);
  PublishOrFail(c, "imported");

  std::size_t equal = 0;
  std::vector<Flow> back;
  for (const auto& f : in_b.flows) {
    Flow flow = c.ReadFlow("main", ParseFlowSpec(f.summary.id));
    Json original = Json::parse(ReadFile(f.file));
    Json expected = ExpectedAfterExport(original, f.summary.format);
    if (auto it = rebound.find(f.summary.id); it != rebound.end()) {
      for (auto& node : expected["nodes"]) {
        if (!it->second.count(node.value("name", ""))) continue;
        for (auto& [type, ref] : node["credentials"].items()) {
          if (ref.is_object() && ref.value("name", "").empty()) ref["id"] = kBound;
        }
      }
    }
    Json actual = Json::parse(flow.flow_definition);
    Json app = Json::parse(flow.app_definition);
    bool same = actual == expected && app["format"] == f.summary.format && app["name"] == f.summary.name &&
                flow.summary.group == f.summary.group;
    EXPECT_TRUE(same) << f.file;
    equal += same;
    back.push_back(std::move(flow));
  }
  // Written back in their own formats: the same documents.
  std::size_t written_back = 0;
  for (const char* format : {"n8n", "node-red"}) {
    std::vector<Flow> of_format;
    std::map<std::string, std::string> file_by_id;
    for (std::size_t i = 0; i < back.size(); ++i) {
      if (back[i].summary.format == format) {
        of_format.push_back(back[i]);
        file_by_id[back[i].summary.id] = in_b.flows[i].file;
      }
    }
    for (const auto& file : ForeignFiles(of_format, format)) {
      ASSERT_EQ(file.flows.size(), 1u);
      Json expected = ExpectedAfterExport(Json::parse(ReadFile(file_by_id[file.flows[0]])), format);
      EXPECT_EQ(Json::parse(file.content), expected) << file.name;
      ++written_back;
    }
  }
  EXPECT_EQ(written_back, back.size());

  // 4. Node-RED files with tabs, split and written back as one file each.
  FlowRepository d = FlowRepository::Init(dir / "d", init);
  std::size_t split_files = 0, split_equal = 0, split_flows = 0;
  std::map<std::string, std::string> split_group_file;
  for (const auto& f : in_b.flows) {
    if (f.summary.format != "node-red") continue;
    Json doc = Json::parse(ReadFile(f.file));
    bool tabs = doc.is_array() &&
                std::any_of(doc.begin(), doc.end(), [](const Json& n) { return n.value("type", "") == "tab"; });
    if (!tabs) continue;
    AddFlowsRequest split;
    split.draft = "split";
    split.paths = {f.file};
    split.split = SplitTabs::kYes;
    split.group = "split/" + std::to_string(split_files++);
    split_flows += AddFlows(d, split).flows.size();
    split_group_file[split.group] = f.file;
  }
  if (split_files > 0) {
    d = FlowRepository::Open(dir / "d", kUser);
    PublishOrFail(d, "split");
    for (const auto& [group, file] : split_group_file) {
      ExportRequest one;
      one.selection = {group};
      one.output = dir / "split-out.json";
      one.overwrite = ExportRequest::Overwrite::kYes;
      ForeignExportResult out = ExportForeign(d, one, "node-red");
      ASSERT_EQ(out.files.size(), 1u) << file;
      std::multiset<std::string> x, y;
      for (const auto& n : Json::parse(ReadFile(out.paths[0]))) x.insert(n.dump());
      for (const auto& n : ExpectedAfterExport(Json::parse(ReadFile(file)), "node-red")) y.insert(n.dump());
      EXPECT_EQ(x, y) << file;
      split_equal += x == y;
    }
  }

  std::printf(
      "corpus: %zu files; added %zu (%zu flows: %zu n8n, %zu node-red) in %.2f s with one "
      "'flowrepo flow add'\n",
      files, added_files.size(), added["flows"].size(), by_format["n8n"], by_format["node-red"], add_seconds);
  std::printf("corpus: refused at add:");
  for (const auto& [reason, n] : refused_by_reason) std::printf(" %s %zu;", reason.c_str(), n);
  std::printf("\ncorpus: refused at publish:");
  for (const auto& [rule, n] : refused_at_publish) std::printf(" %s %zu flows;", rule.c_str(), n);
  std::printf(
      "\ncorpus: round-tripped equal (add, publish, export, import, publish, compare): %zu of "
      "%zu; written back in their own format: %zu\n",
      equal, in_b.flows.size(), written_back);
  std::printf("corpus: bound after import (credential with an id but no name): %zu flows\n", rebound.size());
  std::printf("corpus: node-red files with tabs split: %zu into %zu flows, exported back equal: %zu\n", split_files,
              split_flows, split_equal);
  std::fflush(stdout);
}

}  // namespace
}  // namespace flowrepo
