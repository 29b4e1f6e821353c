#include <filesystem>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/one_line.h"
#include "flowrepo/formats.h"
#include "flowrepo/validate.h"

namespace flowrepo::cli {
namespace {

Json ToJson(const Problem& p) {
  return {{"file", p.file}, {"pointer", p.pointer}, {"rule", p.rule}, {"message", p.message}};
}

void PrintReport(Globals& g, const ValidationReport& r) {
  Json problems = Json::array();
  for (const auto& p : r.problems) problems.push_back(ToJson(p));
  Json out = {{"target", r.target},     {"ok", r.ok()},         {"flows", r.flows},
              {"packages", r.packages}, {"removed", r.removed}, {"problems", problems}};
  Emit(g, out, [&](std::ostream& os) {
    for (const auto& p : r.problems) os << OneLine(p.ToString()) << "\n";
    std::string checked = std::to_string(r.flows.size()) + " flow(s)";
    if (!r.packages.empty()) checked += ", " + std::to_string(r.packages.size()) + " package(s)";
    if (r.ok()) {
      os << "ok: " << checked << " checked in " << r.target << ", no problems\n";
    } else {
      os << r.problems.size() << " problem(s) in " << r.target << " (" << checked << " checked)\n";
    }
  });
  if (!r.ok()) {
    // Like every failing command: one line on stderr naming the problem.
    std::string line = r.target + ": " + r.problems[0].ToString();
    if (r.problems.size() > 1) {
      line += " (and " + std::to_string(r.problems.size() - 1) + " more problem(s))";
    }
    std::cerr << "flowrepo: error: " << OneLine(line) << "\n";
    g.exit_code = kExitCheckFailed;
  }
}

AddFlowsRequest SourceFiles(const std::string& path, const std::string& format) {
  if (path.empty()) throw Error(ErrorCode::kInvalidArgument, "--format needs a TARGET: files or a folder of them");
  AddFlowsRequest request;
  request.paths = {path};
  request.format = format.empty() ? "auto" : format;
  return request;
}

// Whether a file below \a dir has a path \a wanted.
bool Holds(const std::string& dir, const std::function<bool(const std::filesystem::path&)>& wanted) {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (wanted(it->path()) && it->is_regular_file(ec)) return true;
  }
  return false;
}

}  // namespace

void AddValidateCommand(CLI::App& app, Globals& g) {
  static std::string target, format;
  static bool staged = false, reproducible = false;
  auto* cmd = app.add_subcommand("validate",
                                 "Check flows or a package: schema, ids and names, unique node ids, edges, subflow\n"
                                 "references, components and topics of the workspace, and plain-text secrets. Every\n"
                                 "problem is listed as file:json-pointer: message [rule]; exit status 1 when any.\n"
                                 "TARGET is a folder of flow folders, a package (*.studiopkg, *.zip), n8n or Node-RED\n"
                                 "files (a file, or a folder of them) checked as 'flow add' reads them, or a\n"
                                 "workspace, draft, ref or commit (default: the workspace head).\n"
                                 "Example: flowrepo validate\n"
                                 "         flowrepo validate ./flows-to-import\n"
                                 "         flowrepo validate workflows/ --format n8n\n"
                                 "         flowrepo validate drafts/main/q3-changes\n"
                                 "         flowrepo validate --staged            # what the next commit changes\n"
                                 "         flowrepo validate export.studiopkg --reproducible");
  cmd->add_option("TARGET", target, "folder, package file, or revision");
  cmd->add_option("--format", format, "TARGET holds flow files of this format: auto, n8n, node-red, native")
      ->check(CLI::IsMember({"auto", "n8n", "node-red", "native"}));
  cmd->add_flag("--staged", staged, "only what the git index changes relative to HEAD");
  cmd->add_flag("--reproducible", reproducible, "for a package: re-export its source commit and compare the bytes");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    if (staged && !target.empty()) {
      throw Error(ErrorCode::kInvalidArgument, "--staged takes no TARGET");
    }
    std::error_code ec;
    // A directory named like a package is refused as one (not a file), not
    // read as a folder of flows.
    bool is_package = !target.empty() && IsPackagePath(target) && std::filesystem::exists(target, ec);
    if (reproducible && !is_package) {
      throw Error(ErrorCode::kInvalidArgument, "--reproducible needs a package file as TARGET");
    }
    if (staged) {
      PrintReport(g, ValidateStaged(g.repo));
    } else if (is_package) {
      if (reproducible) {
        FlowRepository repo = OpenRepository(g);
        PrintReport(g, ValidatePackage(target, PackageCheck::kReproducible, &repo));
      } else {
        PrintReport(g, ValidatePackage(target, PackageCheck::kContents, nullptr));
      }
    } else if (!format.empty() || std::filesystem::is_regular_file(target, ec)) {
      PrintReport(g, ValidateSourceFiles(SourceFiles(target, format)));
    } else if (!target.empty() && std::filesystem::is_directory(target, ec)) {
      // A folder without flow folders may hold files to add.
      const bool flows =
          Holds(target, [](const std::filesystem::path& p) { return p.filename() == kAppDefinitionFile; });
      const bool files =
          !flows && Holds(target, [](const std::filesystem::path& p) { return p.extension() == ".json"; });
      PrintReport(
          g, files ? ValidateSourceFiles(SourceFiles(target, "auto")) : ValidateFolder(target, {g.repo, g.workspace}));
    } else if (!target.empty() && IsPackagePath(target)) {
      throw Error(ErrorCode::kNotFound, "package '" + target + "' not found");
    } else {
      FlowRepository repo = OpenRepository(g);
      PrintReport(g, ValidateRevision(repo, g.workspace, target));
    }
  });
}

}  // namespace flowrepo::cli
