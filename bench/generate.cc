// flowrepo-bench-generate: writes a `git fast-import` stream of a flow
// repository with N realistic native flows and a history of M publishes,
// each changing one random flow, exactly as `flowrepo publish` records them
// (merge commits with trailers, annotated version tags). Seeded: the same
// arguments give the same repository, byte for byte.
//
//   flowrepo-bench-generate --flows 10000 --history 2000 --seed 1 | git fast-import
//   flowrepo-bench-generate --flows 10000 --n8n-dir DIR --seed 1
//
// The second form writes N n8n workflows as files instead, DIR/<group>/
// <sub-group>/<name>.json, shaped and sized as n8n exports them: 5-30 nodes
// of n8n's common types with their parameters (code, HTTP requests, field
// assignments, conditions, sticky notes), connections by node name,
// about 21 KB on average.
//
// Flows: 3 levels of groups, 10-40 nodes of every type, edges, inputs and
// outputs with scanners, env variables with secret references, subflow
// links between some flows, 3-8 KB each.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

using Json = nlohmann::json;

// SplitMix64: tiny, fast, and identical on every platform (unlike the
// standard distributions).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int Between(int lo, int hi) { return lo + static_cast<int>(Next() % static_cast<std::uint64_t>(hi - lo + 1)); }
  template <class T>
  const T& Pick(const std::vector<T>& v) {
    return v[Next() % v.size()];
  }

 private:
  std::uint64_t state_;
};

const std::vector<std::string> kTop = {"Finance", "Support", "Operations",  "Marketing", "Sales",
                                       "HR",      "Legal",   "Engineering", "Logistics", "Security"};
const std::vector<std::string> kMid = {"Retail", "Corporate", "Compliance", "Analytics", "Onboarding"};
const std::vector<std::string> kLow = {"EU", "US", "APAC", "Internal"};
const std::vector<std::string> kWords = {"customer", "invoice", "ticket", "order", "account", "risk",
                                         "report",   "alert",   "lead",   "claim", "payment", "shipment"};

struct FlowSpec {
  std::string id;
  std::string group;
  std::string path() const { return "flows/" + group + "/" + id; }
};

std::string Canonical(const Json& j) { return j.dump(2) + "\n"; }

Json MakeDefinition(Rng& rng, const std::vector<FlowSpec>& earlier, int revision) {
  static const std::vector<std::string> kTypes = {"api",       "condition", "ai",        "script",
                                                  "transform", "publish",   "subscribe", "wait"};
  Json nodes = Json::array({{{"id", "start"}, {"type", "start"}}});
  Json edges = Json::array();
  int count = rng.Between(10, 40);
  std::string prev = "start";
  for (int i = 0; i < count; ++i) {
    std::string type = rng.Pick(kTypes);
    std::string id = type + "-" + std::to_string(i);
    Json node = {{"id", id}, {"type", type}};
    if (i % 4 == 0) node["timeout_ms"] = 1000 * rng.Between(1, 30);
    std::string word = rng.Pick(kWords);
    if (type == "api") {
      node["component"] = "http@1";
      node["config"] = {{"method", i % 2 ? "GET" : "POST"}, {"url", "{{env.API_BASE}}/" + word + "s/{{inputs.id}}"}};
      if (i % 2) node["config"]["headers"] = {{"X-Api-Key", "{{env.API_KEY}}"}};
      if (i % 3 == 0) node["credential"] = {{"type", "oauth2"}, {"binding", word + "-service"}};
    } else if (type == "ai") {
      node["component"] = "llm-chat@1";
      node["config"] = {
          {"model", "general-large"},
          {"prompt", "Summarise the " + word + " {{" + prev + ".body}} (r" + std::to_string(revision) + ")"},
          {"hyperparameters", {{"temperature", (i % 5) / 10.0}}}};
    } else if (type == "script") {
      node["component"] = "javascript@1";
      node["config"] = {{"language", "javascript"},
                        {"code", "return { " + word + ": " + prev + ".body." + word + " };"}};
    } else if (type == "condition") {
      node["config"] = {{"expression", prev + ".body." + word + " != null"}};
    } else if (type == "publish" || type == "subscribe") {
      node["config"] = {{"topic", "events." + word}};
    } else if (type == "transform") {
      node["config"] = {{"mapping", {{word, "{{" + prev + ".body}}"}}}};
    } else {
      node["config"] = {{"seconds", rng.Between(1, 60)}};
    }
    nodes.push_back(node);
    edges.push_back({{"from", prev}, {"to", id}});
    prev = id;
  }
  if (!earlier.empty() && rng.Between(0, 9) == 0) {
    nodes.push_back({{"id", "sub"}, {"type", "subflow"}, {"config", {{"flow", rng.Pick(earlier).id}}}});
    edges.push_back({{"from", prev}, {"to", "sub"}});
    prev = "sub";
  }
  nodes.push_back({{"id", "end"}, {"type", "end"}});
  edges.push_back({{"from", prev}, {"to", "end"}});
  return {
      {"mode", rng.Between(0, 1) ? "sync" : "async"},
      {"timeout_ms", 30000},
      {"inputs",
       Json::array(
           {{{"name", "request"}, {"type", "object"}, {"required", true}, {"scanners", {"pii", "prompt-injection"}}}})},
      {"outputs", Json::array({{{"name", "result"}, {"type", "object"}, {"scanners", {"toxicity"}}}})},
      {"nodes", nodes},
      {"edges", edges}};
}

Json MakeApp(const FlowSpec& flow) {
  return {{"id", flow.id},
          {"name", "Flow " + flow.id},
          {"description", "Generated benchmark flow in " + flow.group},
          {"format", "flowrepo/flow@1"},
          {"guardrails", {{"max_tokens_per_run", 4000}}},
          {"endpoint", {{"url", "https://flows.internal.example.com/" + flow.id}}},
          {"sharing", {{"teams", {"platform"}}}},
          {"audit", {{"created_by", "generator@example.com"}}}};
}

Json MakeEnv(const FlowSpec& flow) {
  return {
      {"variables", Json::array({{{"name", "API_BASE"}, {"value", "https://api.example.com/" + flow.id}},
                                 {{"name", "API_KEY"}, {"secret", true}, {"ref", "vault:bench/" + flow.id + "/key"}},
                                 {{"name", "LOG_LEVEL"}, {"value", "info"}}})}};
}

class Stream {
 public:
  int Blob(const std::string& data) {
    std::printf("blob\nmark :%d\ndata %zu\n", ++mark_, data.size());
    std::fwrite(data.data(), 1, data.size(), stdout);
    std::printf("\n");
    return mark_;
  }
  // Starts a commit; returns its mark. Call FileModify then End.
  int Commit(const std::string& ref, std::int64_t time, const std::string& message, int from, int merge) {
    std::printf("commit %s\nmark :%d\n", ref.c_str(), ++mark_);
    std::printf("author Generator <generator@example.com> %lld +0000\n", static_cast<long long>(time));
    std::printf("committer Generator <generator@example.com> %lld +0000\n", static_cast<long long>(time));
    std::printf("data %zu\n%s\n", message.size(), message.c_str());
    if (from) std::printf("from :%d\n", from);
    if (merge) std::printf("merge :%d\n", merge);
    return mark_;
  }
  void FileModify(int blob, const std::string& path) { std::printf("M 100644 :%d %s\n", blob, path.c_str()); }
  void End() { std::printf("\n"); }
  void Tag(const std::string& name, int commit, std::int64_t time, const std::string& message) {
    std::printf("tag %s\nfrom :%d\ntagger Generator <generator@example.com> %lld +0000\ndata %zu\n%s\n", name.c_str(),
                commit, static_cast<long long>(time), message.size(), message.c_str());
  }

 private:
  int mark_ = 0;
};

// ---- n8n workflows ------------------------------------------------------------

std::string Uuid(Rng& rng) {
  char out[37];
  std::uint64_t a = rng.Next(), b = rng.Next();
  std::snprintf(out, sizeof out, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>(a >> 16) & 0xffffu, static_cast<unsigned>(a) & 0xfffu,
                static_cast<unsigned>(b >> 48) & 0xfffu, static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return out;
}

std::string Sentence(Rng& rng, int words) {
  std::string out;
  for (int i = 0; i < words; ++i) out += (i ? " " : "") + rng.Pick(kWords);
  return out;
}

// A Code node's JavaScript: a few dozen lines, as people write them.
std::string JsCode(Rng& rng) {
  std::string code = "// " + Sentence(rng, 8) + "\nconst results = [];\n";
  int lines = rng.Between(2, 10);
  for (int i = 0; i < lines; ++i) {
    std::string word = rng.Pick(kWords);
    code += "for (const item of $input.all()) {\n  const " + word + std::to_string(i) + " = item.json." + word +
            " ?? '';\n  if (" + word + std::to_string(i) + ".length > " + std::to_string(rng.Between(1, 99)) +
            ") results.push({ json: { " + word + ": " + word + std::to_string(i) + ", step: " + std::to_string(i) +
            " } });\n}\n";
  }
  return code + "return results;\n";
}

Json N8nParameters(Rng& rng, const std::string& type) {
  std::string word = rng.Pick(kWords);
  if (type == "n8n-nodes-base.code") return {{"jsCode", JsCode(rng)}};
  if (type == "n8n-nodes-base.httpRequest") {
    Json query = Json::array(), headers = Json::array();
    for (int i = rng.Between(1, 6); i > 0; --i)
      query.push_back({{"name", rng.Pick(kWords)}, {"value", "={{ $json." + rng.Pick(kWords) + " }}"}});
    for (int i = rng.Between(1, 4); i > 0; --i)
      headers.push_back({{"name", "X-" + rng.Pick(kWords)}, {"value", Sentence(rng, 2)}});
    return {
        {"method", rng.Between(0, 1) ? "POST" : "GET"},
        {"url", "=https://api.example.com/v2/" + word + "s/{{ $json.id }}"},
        {"authentication", "genericCredentialType"},
        {"sendQuery", true},
        {"queryParameters", {{"parameters", query}}},
        {"sendHeaders", true},
        {"headerParameters", {{"parameters", headers}}},
        {"options", {{"timeout", 1000 * rng.Between(5, 60)}, {"response", {{"response", {{"neverError", true}}}}}}}};
  }
  if (type == "n8n-nodes-base.set") {
    Json assignments = Json::array();
    for (int i = rng.Between(2, 12); i > 0; --i) {
      assignments.push_back({{"id", Uuid(rng)},
                             {"name", rng.Pick(kWords) + "_" + std::to_string(i)},
                             {"value", "={{ $json." + rng.Pick(kWords) + " }} " + Sentence(rng, 3)},
                             {"type", "string"}});
    }
    return {{"assignments", {{"assignments", assignments}}}, {"options", Json::object()}};
  }
  if (type == "n8n-nodes-base.if") {
    Json conditions = Json::array();
    for (int i = rng.Between(1, 4); i > 0; --i) {
      conditions.push_back({{"id", Uuid(rng)},
                            {"leftValue", "={{ $json." + rng.Pick(kWords) + " }}"},
                            {"rightValue", rng.Pick(kWords)},
                            {"operator", {{"type", "string"}, {"operation", "equals"}}}});
    }
    return {{"conditions",
             {{"options", {{"caseSensitive", true}, {"typeValidation", "strict"}}},
              {"conditions", conditions},
              {"combinator", "and"}}},
            {"options", Json::object()}};
  }
  if (type == "n8n-nodes-base.stickyNote") {
    return {{"content", "## " + Sentence(rng, 4) + "\n" + Sentence(rng, rng.Between(20, 120))},
            {"height", 80 * rng.Between(2, 8)},
            {"width", 120 * rng.Between(2, 6)}};
  }
  if (type == "n8n-nodes-base.scheduleTrigger") {
    return {{"rule", {{"interval", Json::array({{{"field", "hours"}, {"hoursInterval", rng.Between(1, 24)}}})}}}};
  }
  return {{"resource", word},
          {"operation", "getAll"},
          {"returnAll", rng.Between(0, 1) == 1},
          {"filters", {{"updatedAfter", "={{ $now.minus(1, 'day') }}"}, {"q", Sentence(rng, 3)}}}};
}

Json MakeN8nWorkflow(Rng& rng, const std::string& name) {
  static const std::vector<std::string> kN8nTypes = {
      "n8n-nodes-base.code",  "n8n-nodes-base.code",         "n8n-nodes-base.httpRequest", "n8n-nodes-base.httpRequest",
      "n8n-nodes-base.set",   "n8n-nodes-base.set",          "n8n-nodes-base.if",          "n8n-nodes-base.stickyNote",
      "n8n-nodes-base.slack", "n8n-nodes-base.googleSheets", "n8n-nodes-base.postgres"};
  Json nodes = Json::array();
  Json connections = Json::object();
  const std::string trigger = "Schedule Trigger";
  nodes.push_back({{"parameters", N8nParameters(rng, "n8n-nodes-base.scheduleTrigger")},
                   {"id", Uuid(rng)},
                   {"name", trigger},
                   {"type", "n8n-nodes-base.scheduleTrigger"},
                   {"typeVersion", 1.2},
                   {"position", {0, 0}}});
  std::string previous = trigger;
  const int count = rng.Between(5, 30);
  for (int i = 1; i < count; ++i) {
    const std::string& type = rng.Pick(kN8nTypes);
    std::string node_name = type.substr(type.find('.') + 1) + " " + std::to_string(i);
    Json node = {{"parameters", N8nParameters(rng, type)},
                 {"id", Uuid(rng)},
                 {"name", node_name},
                 {"type", type},
                 {"typeVersion", type == "n8n-nodes-base.httpRequest" ? 4.2 : 1},
                 {"position", {220 * i, 100 * (i % 3)}}};
    nodes.push_back(std::move(node));
    if (type == "n8n-nodes-base.stickyNote") continue;  // notes are not wired
    connections[previous]["main"] = Json::array({Json::array({{{"node", node_name}, {"type", "main"}, {"index", 0}}})});
    previous = node_name;
  }
  return {{"name", name},
          {"nodes", nodes},
          {"pinData", Json::object()},
          {"connections", connections},
          {"active", false},
          {"settings", {{"executionOrder", "v1"}}},
          {"versionId", Uuid(rng)},
          {"id", Uuid(rng).substr(0, 16)},
          {"tags", Json::array()}};
}

int WriteN8nWorkflows(int n, const std::string& dir, Rng& rng) {
  for (int i = 0; i < n; ++i) {
    std::string group = dir + "/" + rng.Pick(kTop) + "/" + rng.Pick(kMid);
    std::string name = Sentence(rng, 2) + " " + std::to_string(i);
    std::string cmd_dir = group;
    std::error_code ec;
    std::filesystem::create_directories(cmd_dir, ec);
    std::ofstream out(group + "/" + name + ".json", std::ios::binary);
    out << MakeN8nWorkflow(rng, name).dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", (group + "/" + name + ".json").c_str());
      return 1;
    }
  }
  return 0;
}

int Arg(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

const char* TextArg(int argc, char** argv, const char* name) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = Arg(argc, argv, "--flows", 1000);
  const int m = Arg(argc, argv, "--history", 200);
  Rng rng(static_cast<std::uint64_t>(Arg(argc, argv, "--seed", 1)));
  if (const char* dir = TextArg(argc, argv, "--n8n-dir")) return WriteN8nWorkflows(n, dir, rng);
  std::int64_t time = 1767225600;  // 2026-01-01, fixed so ids are stable

  std::vector<FlowSpec> flows;
  for (int i = 0; i < n; ++i) {
    std::string group = rng.Pick(kTop) + "/" + rng.Pick(kMid) + "/" + rng.Pick(kLow);
    flows.push_back({rng.Pick(kWords) + "-" + std::to_string(i), group});
  }
  Stream out;
  Json settings = {{"schema", "flowrepo/workspace@1"},
                   {"components", Json::array({{{"name", "http"}, {"version", "1"}},
                                               {{"name", "llm-chat"}, {"version", "1"}},
                                               {{"name", "javascript"}, {"version", "1"}}})},
                   {"topics", Json::array()},
                   {"roles", Json::object()}};
  int settings_blob = out.Blob(Canonical(settings));
  int root = out.Commit("refs/heads/main", time, "Create workspace main\n", 0, 0);
  out.FileModify(settings_blob, ".flowrepo/workspace.json");
  out.End();

  // The initial import: one draft commit with every flow, one publish.
  std::vector<int> versions(n, 1);
  std::vector<FlowSpec> earlier;
  std::vector<std::vector<int>> blobs;
  for (const auto& flow : flows) {
    blobs.push_back({out.Blob(Canonical(MakeApp(flow))), out.Blob(Canonical(MakeDefinition(rng, earlier, 1))),
                     out.Blob(Canonical(MakeEnv(flow)))});
    earlier.push_back(flow);
  }
  const std::string draft_ref = "refs/heads/drafts/main/bench-generator";
  int draft = out.Commit(draft_ref, ++time, "Put " + std::to_string(n) + " flows\n", root, 0);
  for (int i = 0; i < n; ++i) {
    out.FileModify(blobs[i][0], flows[i].path() + "/app_definition.json");
    out.FileModify(blobs[i][1], flows[i].path() + "/flow_definition.json");
    out.FileModify(blobs[i][2], flows[i].path() + "/env_variables.json");
  }
  out.End();
  std::string trailers;
  for (const auto& f : flows) trailers += "Flowrepo-Version: " + f.id + " v1\n";
  int head = out.Commit("refs/heads/main", ++time,
                        "Publish " + std::to_string(n) +
                            " flows from draft initial\n\nInitial import\n\n"
                            "Flowrepo-Draft: initial\nFlowrepo-Workspace: main\n" +
                            trailers,
                        root, draft);
  // A merge commit's tree starts from its first parent: list the changes again.
  for (int i = 0; i < n; ++i) {
    out.FileModify(blobs[i][0], flows[i].path() + "/app_definition.json");
    out.FileModify(blobs[i][1], flows[i].path() + "/flow_definition.json");
    out.FileModify(blobs[i][2], flows[i].path() + "/env_variables.json");
  }
  out.End();
  for (const auto& f : flows) out.Tag("main/" + f.id + "/v1", head, time, "Initial import");

  // History: each publish changes one random flow.
  for (int h = 0; h < m; ++h) {
    int i = static_cast<int>(rng.Next() % static_cast<std::uint64_t>(n));
    int version = ++versions[i];
    int def = out.Blob(Canonical(MakeDefinition(rng, {}, version)));
    int change = out.Commit(draft_ref, ++time, "Put flow " + flows[i].id + "\n", head, 0);
    out.FileModify(def, flows[i].path() + "/flow_definition.json");
    out.End();
    std::string v = "v" + std::to_string(version);
    head = out.Commit("refs/heads/main", ++time,
                      "Publish " + flows[i].id + " " + v + " from draft change-" + std::to_string(h) + "\n\nChange " +
                          std::to_string(h) + "\n\nFlowrepo-Draft: change-" + std::to_string(h) +
                          "\nFlowrepo-Workspace: main\nFlowrepo-Version: " + flows[i].id + " " + v + "\n",
                      head, change);
    out.FileModify(def, flows[i].path() + "/flow_definition.json");
    out.End();
    out.Tag("main/" + flows[i].id + "/" + v, head, time, "Change " + std::to_string(h));
  }
  // Leave no draft behind (a reset with no commits removes the ref).
  std::printf("reset %s\nfrom 0000000000000000000000000000000000000000\n\n", draft_ref.c_str());
  return 0;
}
