#ifndef FLOWREPO_BENCH_LOAD_DRIVER_H_
#define FLOWREPO_BENCH_LOAD_DRIVER_H_

// Load on a running `flowrepo serve`: concurrent clients, each on its own
// keep-alive connection, mixing the reads a web page makes (the tree, a
// flow's history) with exports and imports of one flow onto a draft of
// the client's own; then a check that every import acknowledged is on its
// draft. Used by the flowrepo-bench-load tool (bench/run) and by a short
// test that CI runs (tests/server/serve_test.cc).

#include <array>
#include <chrono>
#include <string>
#include <vector>

namespace flowrepo::bench {

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string token;  ///< of a user who may import (integrator) in the workspace
  std::string workspace = "main";
  int clients = 50;
  std::chrono::seconds duration{30};
  /// Names this run's drafts ("load-<run>-c<N>") and new flow ids, so that
  /// runs on one repository do not meet.
  std::string run = "r1";
};

/// What one kind of request saw.
struct KindStats {
  std::string name;  ///< "tree", "history", "export", "import"
  int requests = 0;
  int errors = 0;                    ///< no answer, or not the status expected
  std::vector<double> millis;        ///< latency of each request
  std::vector<std::string> samples;  ///< the first errors, for the report
  /// The \a q quantile (0.5, 0.99) of the latencies, nearest rank; 0 when none.
  double Quantile(double q) const;
};

struct LoadReport {
  int clients = 0;
  double seconds = 0;
  std::array<KindStats, 4> kinds;  ///< tree, history, export, import
  int drafts = 0;                  ///< drafts imported onto
  int imports_checked = 0;         ///< flows acknowledged by an import (201)
  std::vector<std::string> lost;   ///< of those, not on their draft at the end
  int errors() const;
  int requests() const;
};

/// Runs the load of \a options against the server and checks the drafts.
/// Throws std::runtime_error when it cannot start (no tree, no flow, no
/// package to import).
LoadReport RunLoad(const LoadOptions& options);

/// A Markdown table of \a load, with the latencies of \a baseline (the same
/// requests from one client, in the same run) and their ratio.
std::string ReportTable(const LoadReport& load, const LoadReport& baseline);

}  // namespace flowrepo::bench

#endif  // FLOWREPO_BENCH_LOAD_DRIVER_H_
