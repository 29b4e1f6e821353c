// flowrepo-bench-load: load on a running `flowrepo serve` (load_driver.h).
// First the same mix from one client for --baseline-seconds (the latency
// of a request alone, in the same run), then --clients for --seconds;
// prints a Markdown table and exits 1 on any error or lost write.
//
//   flowrepo-bench-load --port P --token T [--clients 50] [--seconds 30]
//                       [--baseline-seconds 10] [--workspace main] [--run ID]

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "bench/load_driver.h"

namespace {

const char* TextArg(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return fallback;
}

int IntArg(int argc, char** argv, const char* name, int fallback) {
  const char* text = TextArg(argc, argv, name, nullptr);
  return text ? std::atoi(text) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  using flowrepo::bench::LoadOptions;
  LoadOptions options;
  options.port = IntArg(argc, argv, "--port", 0);
  options.token = TextArg(argc, argv, "--token", "");
  options.workspace = TextArg(argc, argv, "--workspace", "main");
  options.run = TextArg(argc, argv, "--run", "r1");
  if (options.port <= 0 || options.token.empty()) {
    std::cerr << "usage: flowrepo-bench-load --port P --token T [--clients 50] [--seconds 30] "
                 "[--baseline-seconds 10] [--workspace main] [--run ID]\n";
    return 2;
  }
  try {
    LoadOptions alone = options;
    alone.clients = 1;
    alone.duration = std::chrono::seconds(IntArg(argc, argv, "--baseline-seconds", 10));
    alone.run = options.run + "b";
    const auto baseline = flowrepo::bench::RunLoad(alone);
    options.clients = IntArg(argc, argv, "--clients", 50);
    options.duration = std::chrono::seconds(IntArg(argc, argv, "--seconds", 30));
    const auto load = flowrepo::bench::RunLoad(options);
    std::cout << flowrepo::bench::ReportTable(load, baseline);
    return load.errors() == 0 && load.lost.empty() && baseline.errors() == 0 && baseline.lost.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "flowrepo-bench-load: " << e.what() << "\n";
    return 1;
  }
}
