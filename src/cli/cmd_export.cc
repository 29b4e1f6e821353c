#include <unistd.h>

#include <cstdio>

#include "cli/cli.h"
#include "flowrepo/formats.h"
#include "flowrepo/package.h"

namespace flowrepo::cli {
namespace {

std::function<void(std::size_t, std::size_t)> TerminalProgress(const Globals& g, const char* what) {
  if (g.json || !isatty(STDERR_FILENO)) return {};
  return [what](std::size_t done, std::size_t total) {
    if (total < 200) return;  // only long work is worth a progress line
    if (done % 100 == 0 || done == total) {
      std::fprintf(stderr, "\r%s %zu/%zu", what, done, total);
      if (done == total) std::fprintf(stderr, "\r\033[K");
      std::fflush(stderr);
    }
  };
}

// "export FLOW@vN" (or @latest) is "export FLOW --version N"; "FLOW@REF"
// is "FLOW --at REF". One flow only, and not both ways at once.
void ApplyFlowRevision(ExportRequest& request) {
  for (auto& item : request.selection) {
    if (item.find('@') == std::string::npos) continue;
    if (request.selection.size() != 1) {
      throw Error(ErrorCode::kInvalidArgument, "'" + item + "': a revision selects one flow; export it alone");
    }
    const FlowSpec spec = ParseFlowSpec(item);
    if (request.version || !request.at.empty()) {
      throw Error(ErrorCode::kInvalidArgument, "give the revision once: FLOW@REV, or FLOW with --version or --at");
    }
    if (spec.version) {
      request.version = *spec.version;
    } else if (spec.revision == "latest") {
      request.version = 0;
    } else {
      request.at = spec.revision;
    }
    item = spec.id;
  }
}

// Listed in text; --json lists them all.
constexpr std::size_t kListed = 50;

void PrintForeignExport(const Globals& g, const ForeignExportResult& r, const std::string& format) {
  auto as_json = [&r] {
    Json files = Json::array();
    for (std::size_t i = 0; i < r.files.size(); ++i) {
      files.push_back({{"path", r.paths[i]}, {"format", r.files[i].format}, {"flows", r.files[i].flows}});
    }
    Json flows = Json::array();
    for (const auto& f : r.flows) flows.push_back(ToJson(f));
    return Json{{"workspace", r.workspace}, {"commit", r.commit}, {"files", files}, {"flows", flows}};
  };
  Emit(g, as_json, [&](std::ostream& os) {
    os << "Exported " << r.flow_count << " flow(s) of workspace '" << r.workspace << "' at " << r.commit.substr(0, 7)
       << " as " << r.files.size() << " " << format << " file(s)\n";
    for (std::size_t i = 0; i < r.files.size() && i < kListed; ++i) {
      os << "  " << r.paths[i] << "  <-";
      for (const auto& id : r.files[i].flows) os << " " << id;
      os << "\n";
    }
    if (r.files.size() > kListed) os << "  ... and " << r.files.size() - kListed << " more\n";
  });
}

void PrintPackageExport(const Globals& g, const ExportResult& r) {
  auto as_json = [&r] { return ToJson(r); };
  Emit(g, as_json, [&](std::ostream& os) {
    os << "Exported " << r.flow_count << " flow(s) of workspace '" << r.workspace << "' at " << r.commit.substr(0, 7)
       << " to '" << r.path << "' (" << r.bytes << " bytes)\n";
    for (std::size_t i = 0; i < r.flows.size(); ++i) {
      const auto& f = r.flows[i];
      os << "  " << f.path.substr(6) << "  "
         << (f.version ? "v" + std::to_string(*f.version) : std::string("unpublished"))
         << (f.dependency ? "  (dependency)" : "") << "\n";
    }
    if (r.flow_count > r.flows.size()) os << "  ... and " << r.flow_count - r.flows.size() << " more\n";
    if (!r.included_dependencies.empty()) {
      os << "Included because selected flows use them:";
      for (const auto& id : r.included_dependencies) os << " " << id;
      os << "\n";
    }
    if (!r.referenced_dependencies.empty()) {
      os << "Used but not included (the target must have them):";
      for (const auto& id : r.referenced_dependencies) os << " " << id;
      os << "\n";
    }
  });
}

}  // namespace

void AddExportCommand(CLI::App& app, Globals& g) {
  static ExportRequest request;
  static std::string deps, version;
  static bool force = false;
  static std::string format = "package";
  static bool keep_sample_data = false;
  auto* cmd = app.add_subcommand("export",
                                 "Write flows of one commit into a package: a zip with manifest.json and the flows'\n"
                                 "folders. Published versions only (the workspace head, or a version tag), unless\n"
                                 "--at names another ref. Secrets, credential bindings, endpoint, sharing and audit\n"
                                 "are never written; invalid flows refuse the export.\n"
                                 "A group selects its sub-groups too; --exclude leaves flows or groups out.\n"
                                 "Multi-flow packages go to export.studiopkg (or 'export <n>.studiopkg'); one\n"
                                 "version of one flow (--version) goes to '<Flow Name>.zip'.\n"
                                 "Example: flowrepo export Finance --exclude aml-screening\n"
                                 "         flowrepo export --all --deps reference -o all.studiopkg\n"
                                 "         flowrepo export banking-assistant@v2     # or --version 2\n"
                                 "         flowrepo export Home --format node-red -o home-flows.json");
  cmd->add_option("SELECTION", request.selection,
                  "flow ids and groups, several or A,B (a trailing '/' forces a group)");
  cmd->add_flag("--all", request.all, "every flow of the workspace");
  cmd->add_option("--exclude", request.exclude, "leave out flows or groups (repeatable, or A,B)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--at", request.at, "a draft, ref or commit instead of the workspace head");
  cmd->add_option("--deps", deps,
                  "flows used by selected ones: include (default), reference (list in the "
                  "manifest) or fail")
      ->check(CLI::IsMember({"include", "reference", "fail"}));
  auto* output = cmd->add_option("-o,--output", request.output, "package file to write");
  cmd->add_option("--dir", request.directory, "folder for the automatically named package")->excludes(output);
  cmd->add_flag("--force", force, "replace an existing -o file");
  cmd->add_option("--version", version,
                  "N, vN or 'latest' (or FLOW@vN): one published version of one flow -> '<Flow Name>.zip'");
  cmd->add_option("--format", format,
                  "package (default), or n8n / node-red: write the flows back as files of their "
                  "own format (docs/formats.md): one n8n workflow per flow, one node-red flows "
                  "file per flow or per split group; -o is the file, or a folder for several")
      ->check(CLI::IsMember({"package", "n8n", "node-red"}));
  cmd->add_flag("--keep-sample-data", keep_sample_data, "keep n8n pinData (stripped by default)");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    auto repo = OpenRepository(g);
    request.workspace = g.workspace;
    if (!deps.empty()) request.dependencies = ParseDependencyPolicy(deps);
    if (!version.empty()) request.version = ParseVersion(version, "--version");
    ApplyFlowRevision(request);
    request.overwrite = force ? ExportRequest::Overwrite::kYes : ExportRequest::Overwrite::kNo;
    request.progress = TerminalProgress(g, "exporting");
    request.sample_data = keep_sample_data ? ExportRequest::SampleData::kKeep : ExportRequest::SampleData::kStrip;
    if (!g.json) request.listed_flows = kListed;
    if (format != "package") {
      PrintForeignExport(g, ExportForeign(repo, request, format), format);
    } else {
      PrintPackageExport(g, ExportPackage(repo, request));
    }
  });
}

}  // namespace flowrepo::cli
