// Micro-benchmarks of the hot paths of export, import and validation:
// validating JSON parse, canonical form, secret scan, flow validation,
// SHA-256 and tree building. Run: build/bench/flowrepo-micro --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "digest.h"
#include "flowrepo/flow.h"
#include "json/json_io.h"
#include "repo/store.h"
#include "validate/flow_validator.h"
#include "validate/secrets.h"

namespace flowrepo {
namespace {

// A native flow of about 6 KB, like the generator's.
Json SampleDefinition(int nodes) {
  Json def = {
      {"mode", "sync"}, {"nodes", Json::array({{{"id", "start"}, {"type", "start"}}})}, {"edges", Json::array()}};
  std::string prev = "start";
  for (int i = 0; i < nodes; ++i) {
    std::string id = "api-" + std::to_string(i);
    def["nodes"].push_back({{"id", id},
                            {"type", "api"},
                            {"component", "http@1"},
                            {"config",
                             {{"method", "GET"},
                              {"url", "{{env.API_BASE}}/orders/{{inputs.id}}"},
                              {"headers", {{"X-Api-Key", "{{env.API_KEY}}"}}}}}});
    def["edges"].push_back({{"from", prev}, {"to", id}});
    prev = id;
  }
  def["nodes"].push_back({{"id", "end"}, {"type", "end"}});
  def["edges"].push_back({{"from", prev}, {"to", "end"}});
  return def;
}

void BM_ParseJson(benchmark::State& state) {
  std::string text = CanonicalJson(SampleDefinition(25));
  for (auto _ : state) benchmark::DoNotOptimize(ParseJson(text, "f.json"));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_ParseJson);

void BM_CanonicalJson(benchmark::State& state) {
  Json def = SampleDefinition(25);
  for (auto _ : state) benchmark::DoNotOptimize(CanonicalJson(def));
}
BENCHMARK(BM_CanonicalJson);

void BM_ScanSecrets(benchmark::State& state) {
  Json def = SampleDefinition(25);
  std::string size = CanonicalJson(def);
  for (auto _ : state) {
    std::vector<Problem> problems;
    ScanSecrets(def, "f.json", problems);
    benchmark::DoNotOptimize(problems);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size.size()));
}
BENCHMARK(BM_ScanSecrets);

void BM_ValidateFlow(benchmark::State& state) {
  Flow flow;
  flow.summary = {"orders", "Orders", "Sales", std::string(kNativeFormat)};
  flow.flow_definition = CanonicalJson(SampleDefinition(25));
  flow.app_definition = CanonicalJson({{"id", "orders"}, {"name", "Orders"}, {"format", kNativeFormat}});
  flow.env_variables = CanonicalJson({{"variables", Json::array()}});
  for (auto _ : state) benchmark::DoNotOptimize(ValidateFlow(flow, {}));
}
BENCHMARK(BM_ValidateFlow);

void BM_Sha256(benchmark::State& state) {
  std::string text = CanonicalJson(SampleDefinition(25));
  for (auto _ : state) benchmark::DoNotOptimize(Sha256Hex(text));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_Sha256);

// Writing N flow folders (3 blobs each) into one tree with tree builders.
void BM_BuildTree(benchmark::State& state) {
  auto dir = std::filesystem::temp_directory_path() / "flowrepo-micro-tree";
  std::filesystem::remove_all(dir);
  Store store = Store::Init(dir.string(), true);
  std::string blob = CanonicalJson(SampleDefinition(25));
  int round = 0;
  for (auto _ : state) {
    TreeEdits edits;
    for (int i = 0; i < state.range(0); ++i) {
      std::string base = "flows/G" + std::to_string(i % 10) + "/flow-" + std::to_string(i) + "/";
      std::string content = blob + std::to_string(round);  // new blobs every round
      edits[base + "flow_definition.json"] = TreeEntry{store.WriteBlob(content), GIT_FILEMODE_BLOB};
    }
    benchmark::DoNotOptimize(store.EditTree(std::nullopt, edits));
    ++round;
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_BuildTree)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace flowrepo

BENCHMARK_MAIN();
