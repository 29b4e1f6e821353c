// flowrepo-bench-generate: writes a `git fast-import` stream of a flow
// repository with N realistic native flows and a history of M publishes,
// each changing one random flow, exactly as `flowrepo publish` records them
// (merge commits with trailers, annotated version tags). Seeded: the same
// arguments give the same repository, byte for byte.
//
//   flowrepo-bench-generate --flows 10000 --history 2000 --seed 1 | git fast-import
//
// Flows: 3 levels of groups, 10-40 nodes of every type, edges, inputs and
// outputs with scanners, env variables with secret references, subflow
// links between some flows, 3-8 KB each.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
  const T& Pick(const std::vector<T>& v) { return v[Next() % v.size()]; }

 private:
  std::uint64_t state_;
};

const std::vector<std::string> kTop = {"Finance", "Support", "Operations", "Marketing", "Sales",
                                       "HR", "Legal", "Engineering", "Logistics", "Security"};
const std::vector<std::string> kMid = {"Retail", "Corporate", "Compliance", "Analytics", "Onboarding"};
const std::vector<std::string> kLow = {"EU", "US", "APAC", "Internal"};
const std::vector<std::string> kWords = {"customer", "invoice", "ticket", "order", "account", "risk",
                                         "report", "alert", "lead", "claim", "payment", "shipment"};

struct FlowSpec {
  std::string id;
  std::string group;
  std::string path() const { return "flows/" + group + "/" + id; }
};

std::string Canonical(const Json& j) { return j.dump(2) + "\n"; }

Json MakeDefinition(Rng& rng, const std::vector<FlowSpec>& earlier, int revision) {
  static const std::vector<std::string> kTypes = {"api", "condition", "ai", "script", "transform",
                                                  "publish", "subscribe", "wait"};
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
      node["config"] = {{"method", i % 2 ? "GET" : "POST"},
                        {"url", "{{env.API_BASE}}/" + word + "s/{{inputs.id}}"}};
      if (i % 2) node["config"]["headers"] = {{"X-Api-Key", "{{env.API_KEY}}"}};
      if (i % 3 == 0) node["credential"] = {{"type", "oauth2"}, {"binding", word + "-service"}};
    } else if (type == "ai") {
      node["component"] = "llm-chat@1";
      node["config"] = {{"model", "general-large"},
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
  return {{"mode", rng.Between(0, 1) ? "sync" : "async"},
          {"timeout_ms", 30000},
          {"inputs", Json::array({{{"name", "request"}, {"type", "object"}, {"required", true}, {"scanners", {"pii", "prompt-injection"}}}})},
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
  return {{"variables", Json::array({{{"name", "API_BASE"}, {"value", "https://api.example.com/" + flow.id}},
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
    std::printf("tag %s\nfrom :%d\ntagger Generator <generator@example.com> %lld +0000\ndata %zu\n%s\n",
                name.c_str(), commit, static_cast<long long>(time), message.size(), message.c_str());
  }

 private:
  int mark_ = 0;
};

int Arg(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = Arg(argc, argv, "--flows", 1000);
  const int m = Arg(argc, argv, "--history", 200);
  Rng rng(static_cast<std::uint64_t>(Arg(argc, argv, "--seed", 1)));
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
                        "Publish " + std::to_string(n) + " flows from draft initial\n\nInitial import\n\n"
                        "Flowrepo-Draft: initial\nFlowrepo-Workspace: main\n" + trailers,
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
                      "Publish " + flows[i].id + " " + v + " from draft change-" + std::to_string(h) +
                          "\n\nChange " + std::to_string(h) + "\n\nFlowrepo-Draft: change-" + std::to_string(h) +
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
