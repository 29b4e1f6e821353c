// ExportForeign: `flowrepo export --format n8n|node-red`.
//
// The package builder does the selection, dependencies, stripping and
// validation exactly as for a package (so what may leave a workspace is
// decided in one place); its flow entries are then written back in their
// own format by ForeignFiles. Every target path is checked before the first
// file is written; each file goes to a temporary name and is renamed.

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "flowrepo/error.h"
#include "flowrepo/formats.h"
#include "package/export.h"

namespace flowrepo {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, const std::string& content) {
  const fs::path temp = path.string() + ".flowrepo-tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(temp, ec);
      throw Error(ErrorCode::kIo, "cannot write '" + path.string() + "'");
    }
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw Error(ErrorCode::kIo, "cannot write '" + path.string() + "': " + ec.message());
  }
}

}  // namespace

ForeignExportResult ExportForeign(FlowRepository& repo, const ExportRequest& request,
                                  std::string_view format) {
  if (format != kN8nFormatName && format != kNodeRedFormatName) {
    throw Error(ErrorCode::kInvalidArgument,
                "cannot export as '" + std::string(format) + "'; use package, n8n or node-red");
  }
  BuiltPackage built = BuildPackage(repo.impl(), request, RetainText::kAll, repo.impl().store.git_dir());
  std::vector<Flow> flows;
  std::vector<PackageFlowInfo> infos;
  for (const BuiltFlow& built_flow : built.flows) {
    PackageFlowInfo info = built.Info(built_flow);
    Flow flow;
    flow.summary = {info.id, info.name, info.group, info.format};
    for (const BuiltFile& file : built_flow.files) {
      switch (file.kind) {
        case DocKind::kApp: flow.app_definition = file.kept; break;
        case DocKind::kEnv: flow.env_variables = file.kept; break;
        case DocKind::kDefinition: flow.flow_definition = file.kept; break;
      }
    }
    flows.push_back(std::move(flow));
    infos.push_back(std::move(info));
  }
  ForeignExportResult result;
  result.workspace = built.manifest.workspace;
  result.commit = built.manifest.commit;
  result.flows = std::move(infos);
  result.files = ForeignFiles(flows, format, request.sample_data);

  // Where each file goes.
  std::error_code ec;
  fs::path dir;
  std::vector<fs::path> targets;
  if (!request.output.empty() && result.files.size() == 1 && !fs::is_directory(request.output, ec)) {
    targets.push_back(request.output);
    dir = targets[0].parent_path();
  } else {
    dir = request.output.empty() ? fs::path(request.directory.empty() ? "." : request.directory)
                                 : fs::path(request.output);
    for (const auto& f : result.files) targets.push_back(dir / f.name);
  }
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) {
    if (request.output.empty() || result.files.size() == 1) {
      throw Error(ErrorCode::kNotFound, "folder '" + dir.string() + "' not found");
    }
    fs::create_directories(dir, ec);
    if (ec) throw Error(ErrorCode::kIo, "cannot create '" + dir.string() + "': " + ec.message());
  }
  if (request.overwrite == ExportRequest::Overwrite::kNo) {
    for (const auto& t : targets) {
      if (fs::symlink_status(t, ec).type() != fs::file_type::not_found) {
        throw Error(ErrorCode::kAlreadyExists,
                    "'" + t.lexically_normal().string() + "' already exists; pass --force to overwrite it");
      }
    }
  }
  for (std::size_t i = 0; i < targets.size(); ++i) {
    WriteFile(targets[i], result.files[i].content);
    result.paths.push_back(targets[i].lexically_normal().string());
  }
  return result;
}

}  // namespace flowrepo
