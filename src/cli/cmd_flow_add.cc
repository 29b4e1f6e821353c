// flowrepo flow add: n8n workflows, Node-RED flows files (and native flow
// definitions) onto a draft.

#include <unistd.h>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "flowrepo/formats.h"

namespace flowrepo::cli {
namespace {

const char* ActionName(AddedFlow::Action a) { return a == AddedFlow::Action::kUpdated ? "updated" : "added"; }

Json ToJson(const AddFlowsResult& r) {
  Json out = Json::object();
  if (r.write) {
    out["draft"] = cli::ToJson(r.write->draft);
    out["created_draft"] = r.write->created_draft;
  }
  out["files"] = r.files;
  out["added"] = r.added;
  out["updated"] = r.updated;
  out["unresolved"] = r.unresolved;
  out["flows"] = Json::array();
  for (const auto& f : r.flows) {
    Json flow = cli::ToJson(f.summary);
    flow["file"] = f.file;
    flow["source_id"] = f.source_id;
    flow["action"] = ActionName(f.action);
    flow["references"] = Json::object();
    for (const auto& [source, id] : f.references) flow["references"][source] = id;
    flow["unresolved"] = f.unresolved;
    out["flows"].push_back(std::move(flow));
  }
  out["refused"] = Json::array();
  for (const auto& x : r.refused) {
    out["refused"].push_back({{"file", x.file}, {"reason", x.reason}, {"message", x.message}, {"details", x.details}});
  }
  out["declared_components"] = r.declared_components;
  return out;
}

}  // namespace

void AddFlowAddCommand(CLI::App& flow, Globals& g) {
  static AddFlowsRequest request;
  static std::string format = "auto";
  static bool split = false;
  auto* add = flow.add_subcommand(
      "add",
      "Add n8n workflows and Node-RED flows files (or native flow definitions) as flows\n"
      "on a draft, in one commit. A directory adds every *.json file below it, its\n"
      "sub-folders becoming groups. Each file is recognised (--format auto), checked and\n"
      "scanned for plain-text secrets; a file that fails is refused with its reason\n"
      "(exit code 1) while the others are added. The document is kept as it is in\n"
      "flow_definition.json; app_definition.json records its name, source id and file.\n"
      "See docs/formats.md.\n"
      "Example: flowrepo flow add workflows/ --draft n8n-import --group Automations\n"
      "         flowrepo flow add flows.json --format node-red --split-tabs --group Home --draft home");
  add->add_option("PATH", request.paths, "files or directories")->required();
  AddDraftOption(add, request.draft, "draft to write on (created if missing)")->required();
  add->add_option("--format", format, "auto (default), n8n, node-red or native")
      ->check(CLI::IsMember(AddFormatNames()));
  add->add_option("--group", request.group, "group for the flows (a directory's sub-folders go below it)");
  add->add_option("--id", request.id, "flow id, when one flow is added (default: from its name)");
  add->add_flag("--split-tabs", split,
                "node-red: one flow per tab and per subflow, plus one for the shared config nodes");
  AddJsonFlag(add, g);
  add->callback([&g, add] {
    auto repo = OpenRepository(g);
    request.workspace = g.workspace;
    // Re-adding a file updates the flow where it is; --group moves it.
    request.groups = add->count("--group") ? AddFlowsRequest::Groups::kAsGiven : AddFlowsRequest::Groups::kKeepExisting;
    request.format = format;
    request.split = split ? SplitTabs::kYes : SplitTabs::kNo;
    const bool tty = isatty(STDERR_FILENO) == 1;
    if (tty && !g.json) {
      request.progress = [](std::size_t done, std::size_t total) {
        if (total >= 50 && (done % 25 == 0 || done == total)) {
          std::cerr << "\rreading files: " << done << "/" << total << (done == total ? "\n" : "") << std::flush;
        }
      };
    }
    constexpr std::size_t kListed = 50;  // --json lists them all
    if (!g.json) request.listed_flows = kListed;
    AddFlowsResult r = AddFlows(repo, request);
    if (!r.refused.empty()) g.exit_code = kExitCheckFailed;
    Emit(
        g, [&] { return ToJson(r); },
        [&](std::ostream& os) {
          os << "Added " << r.added << " and updated " << r.updated << " flow(s) from " << r.files - r.refused.size()
             << " of " << r.files << " file(s) on draft '" << r.write->draft.name << "'"
             << (r.write->created_draft ? " (new draft)" : "") << " at " << r.write->draft.commit.substr(0, 7) << "\n";
          for (const AddedFlow& f : r.flows) {
            os << "  " << ActionName(f.action) << "\t" << f.summary.format << "\t" << f.summary.path() << "\t<- "
               << f.file << "\n";
            for (const auto& [source, id] : f.references) {
              os << "      reference '" << source << "' -> flow '" << id << "'\n";
            }
            for (const auto& u : f.unresolved) os << "      unresolved reference '" << u << "'\n";
          }
          if (const std::size_t all = r.added + r.updated; all > r.flows.size()) {
            os << "  ... and " << all - r.flows.size() << " more (--json lists every flow)\n";
          }
          if (r.unresolved > 0) os << r.unresolved << " flow(s) have unresolved references\n";
          if (!r.declared_components.empty()) {
            os << "Declared " << r.declared_components.size()
               << " component(s) in .flowrepo/workspace.json on the draft\n";
          }
          if (!r.refused.empty()) {
            os << "Refused " << r.refused.size() << " file(s):\n";
            for (const auto& x : r.refused) {
              os << "  " << x.file << ": " << x.message << " [" << x.reason << "]\n";
              for (const auto& d : x.details) os << "      " << d << "\n";
            }
          }
          PrintPublishHint(os, g, r.write->draft.workspace, r.write->draft.name);
        });
  });
}

}  // namespace flowrepo::cli
