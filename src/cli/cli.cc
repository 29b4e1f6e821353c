#include "cli/cli.h"

#include <ctime>

namespace flowrepo::cli {

FlowRepository OpenRepository(const Globals& g) { return FlowRepository::Open(g.repo, g.user); }

void Emit(const Globals& g, const Json& result, const std::function<void(std::ostream&)>& human) {
  if (g.json) {
    // Invalid UTF-8 quoted from hostile input is replaced, never thrown on.
    std::cout << result.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
  } else {
    human(std::cout);
  }
}

void AddJsonFlag(CLI::App* cmd, Globals& g) {
  cmd->add_flag("--json", g.json, "machine-readable output on stdout");
}

Json ToJson(const DraftInfo& d) {
  return {{"workspace", d.workspace}, {"name", d.name},       {"ref", d.ref},
          {"commit", d.commit},       {"base", d.base},       {"changed_flows", d.changed_flows}};
}

Json ToJson(const WriteResult& w) {
  return {{"draft", ToJson(w.draft)}, {"flows", w.flows}, {"created_draft", w.created_draft}};
}

Json ToJson(const FlowSummary& s) {
  return {{"id", s.id}, {"name", s.name}, {"group", s.group}, {"format", s.format}, {"path", s.path()}};
}

Json ToJson(const Version& v) {
  return {{"flow", v.flow},     {"version", v.number}, {"tag", v.tag},   {"commit", v.commit},
          {"author", v.author}, {"time", v.time},      {"note", v.note}};
}

std::string FormatTime(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

}  // namespace flowrepo::cli
