// The load driver (load_driver.h). Each client runs until the deadline,
// choosing each request at random (seeded by its number, so runs repeat):
// 30% tree, 30% history of a random flow, 20% export of a random flow
// (its latest version, dependencies referenced), 20% import of the
// package exported at the start as a new flow (mode=as-new, a fresh id)
// onto the client's own draft. A request counts as an error unless it is
// answered with the status the route promises (200, or 201 for an
// import). At the end the tree of every client's draft must list every
// flow its imports were acknowledged for.

#include "bench/load_driver.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace flowrepo::bench {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

enum Kind { kTree, kHistory, kExport, kImport };
constexpr int kSamplesKept = 5;

httplib::Client MakeClient(const LoadOptions& options) {
  httplib::Client c(options.host, options.port);
  c.set_keep_alive(true);
  c.set_read_timeout(120, 0);
  c.set_write_timeout(120, 0);
  c.set_connection_timeout(10, 0);
  c.set_default_headers({{"Authorization", "Bearer " + options.token}});
  return c;
}

void CollectFlowIds(const Json& node, std::vector<std::string>& ids) {
  for (const auto& flow : node.value("flows", Json::array())) ids.push_back(flow.value("id", ""));
  for (const auto& group : node.value("groups", Json::array())) CollectFlowIds(group, ids);
}

// The flow ids of the workspace (or of revision \a at of it).
std::vector<std::string> FlowIds(httplib::Client& c, const LoadOptions& options, const std::string& at = "") {
  const std::string path =
      "/api/v1/workspaces/" + options.workspace + "/tree" + (at.empty() ? "" : "?at=" + at);  // ids: nothing to escape
  auto r = c.Get(path.c_str());
  if (!r || r->status != 200) {
    throw std::runtime_error("GET " + path + ": " + (r ? std::to_string(r->status) + " " + r->body : "no answer"));
  }
  std::vector<std::string> ids;
  CollectFlowIds(Json::parse(r->body), ids);
  return ids;
}

struct Shared {
  const LoadOptions& options;
  std::vector<std::string> flows;
  std::string package;     ///< one flow, exported at the start
  std::string package_of;  ///< its flow id
  Clock::time_point deadline;
};

// One client's requests and what its imports made.
struct ClientRun {
  std::array<KindStats, 4> kinds;
  std::string draft;
  std::vector<std::string> imported;
};

std::string ExportPath(const Shared& shared, const std::string& flow) {
  return "/api/v1/workspaces/" + shared.options.workspace + "/flows/" + flow + "/export?dependencies=reference";
}

void RunClient(const Shared& shared, int number, ClientRun& run) {
  httplib::Client c = MakeClient(shared.options);
  std::mt19937 rng(static_cast<unsigned>(number) + 1);
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<std::size_t> pick(0, shared.flows.size() - 1);
  const std::string ws = "/api/v1/workspaces/" + shared.options.workspace;
  const std::string prefix = "load-" + shared.options.run + "-c" + std::to_string(number);
  run.draft = prefix;
  for (int n = 0; Clock::now() < shared.deadline; ++n) {
    const int p = percent(rng);
    const Kind kind = p < 30 ? kTree : p < 60 ? kHistory : p < 80 ? kExport : kImport;
    const std::string flow = shared.flows[pick(rng)];
    const std::string new_id = prefix + "-n" + std::to_string(n);
    const auto start = Clock::now();
    const int expected = kind == kImport ? 201 : 200;
    httplib::Result r = [&] {
      switch (kind) {
        case kTree: return c.Get((ws + "/tree").c_str());
        case kHistory: return c.Get((ws + "/flows/" + flow + "/history").c_str());
        case kExport: return c.Get(ExportPath(shared, flow).c_str());
        case kImport: break;
      }
      return c.Post((ws + "/import?filename=load.zip&mode=as-new&draft=" + prefix + "&flows=" + shared.package_of +
                     "&id=" + new_id + "&name=Load%20" + new_id)
                        .c_str(),
                    shared.package, "application/octet-stream");
    }();
    KindStats& stats = run.kinds[kind];
    stats.millis.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    ++stats.requests;
    const bool ok = r && r->status == expected && (kind != kExport || !r->body.empty());
    if (ok && kind == kImport) run.imported.push_back(new_id);
    if (ok) continue;
    ++stats.errors;
    if (static_cast<int>(stats.samples.size()) < kSamplesKept) {
      stats.samples.push_back(r ? std::to_string(r->status) + " " + r->body.substr(0, 300)
                                : "no answer: " + httplib::to_string(r.error()));
    }
  }
}

// Whether every import acknowledged is on its draft: the lost flow ids.
std::vector<std::string> LostImports(const LoadOptions& options, const std::vector<ClientRun>& runs) {
  httplib::Client c = MakeClient(options);
  std::vector<std::string> lost;
  for (const ClientRun& run : runs) {
    if (run.imported.empty()) continue;
    const std::vector<std::string> ids = FlowIds(c, options, run.draft);
    const std::set<std::string> present(ids.begin(), ids.end());
    for (const auto& id : run.imported) {
      if (!present.count(id)) lost.push_back(run.draft + ": " + id);
    }
  }
  return lost;
}

std::string Millis(double ms) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(ms < 10 ? 2 : 1);
  out << ms << " ms";
  return out.str();
}

}  // namespace

double KindStats::Quantile(double q) const {
  if (millis.empty()) return 0;
  std::vector<double> sorted = millis;
  std::sort(sorted.begin(), sorted.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<std::size_t>(rank, 1)) - 1];
}

int LoadReport::errors() const {
  int n = 0;
  for (const auto& k : kinds) n += k.errors;
  return n;
}

int LoadReport::requests() const {
  int n = 0;
  for (const auto& k : kinds) n += k.requests;
  return n;
}

LoadReport RunLoad(const LoadOptions& options) {
  Shared shared{options, {}, "", "", {}};
  {
    httplib::Client c = MakeClient(options);
    shared.flows = FlowIds(c, options);
    if (shared.flows.empty()) throw std::runtime_error("the workspace has no flows to read");
    shared.package_of = shared.flows.front();
    auto r = c.Get(ExportPath(shared, shared.package_of).c_str());
    if (!r || r->status != 200) throw std::runtime_error("cannot export '" + shared.package_of + "' to import");
    shared.package = r->body;
  }
  std::vector<ClientRun> runs(static_cast<std::size_t>(options.clients));
  const auto start = Clock::now();
  shared.deadline = start + options.duration;
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < options.clients; ++i) threads.emplace_back(RunClient, std::cref(shared), i, std::ref(runs[i]));
    for (auto& t : threads) t.join();
  }
  LoadReport report;
  report.clients = options.clients;
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const char* names[] = {"tree", "history", "export", "import"};
  for (int k = 0; k < 4; ++k) {
    KindStats& total = report.kinds[k];
    total.name = names[k];
    for (const ClientRun& run : runs) {
      const KindStats& s = run.kinds[k];
      total.requests += s.requests;
      total.errors += s.errors;
      total.millis.insert(total.millis.end(), s.millis.begin(), s.millis.end());
      for (const auto& sample : s.samples) {
        if (static_cast<int>(total.samples.size()) < kSamplesKept) total.samples.push_back(sample);
      }
    }
  }
  for (const ClientRun& run : runs) {
    report.drafts += run.imported.empty() ? 0 : 1;
    report.imports_checked += static_cast<int>(run.imported.size());
  }
  report.lost = LostImports(options, runs);
  return report;
}

std::string ReportTable(const LoadReport& load, const LoadReport& baseline) {
  std::ostringstream out;
  out << "| kind | requests | errors | p50 | p99 | p50, 1 client | p99, 1 client | p50 ratio |\n"
      << "|---|---|---|---|---|---|---|---|\n";
  for (std::size_t k = 0; k < load.kinds.size(); ++k) {
    const KindStats& s = load.kinds[k];
    const KindStats& b = baseline.kinds[k];
    const double ratio = b.Quantile(0.5) > 0 ? s.Quantile(0.5) / b.Quantile(0.5) : 0;
    char ratio_text[32];
    std::snprintf(ratio_text, sizeof ratio_text, "%.1fx", ratio);
    out << "| " << s.name << " | " << s.requests << " | " << s.errors << " | " << Millis(s.Quantile(0.5)) << " | "
        << Millis(s.Quantile(0.99)) << " | " << Millis(b.Quantile(0.5)) << " | " << Millis(b.Quantile(0.99)) << " | "
        << ratio_text << " |\n";
  }
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.1f", load.requests() / std::max(load.seconds, 1e-9));
  out << "\n"
      << load.clients << " clients for " << static_cast<int>(load.seconds + 0.5) << " s: " << load.requests()
      << " requests (" << rate << "/s), " << load.errors()
      << " errors; no lost write: " << (load.lost.empty() ? "yes" : "NO") << " (" << load.imports_checked
      << " imports on " << load.drafts << " drafts, " << load.lost.size() << " missing).\n";
  for (const auto& k : load.kinds) {
    for (const auto& sample : k.samples) out << "error (" << k.name << "): " << sample << "\n";
  }
  for (const auto& id : load.lost) out << "lost: " << id << "\n";
  return out.str();
}

}  // namespace flowrepo::bench
