// ExportForeign: `flowrepo export --format n8n|node-red`.
//
// The package builder does the selection, dependencies, stripping and
// validation exactly as for a package (so what may leave a workspace is
// decided in one place), keeping nothing of the documents; the files are
// then planned from the app definitions (ForeignFilePlan), every target
// path is checked, and each file is made from its stored definitions and
// written, on all cores, to a temporary name and renamed. Memory holds a
// file per core, not the export.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>

#include "flowrepo/cancel.h"
#include "flowrepo/error.h"
#include "flowrepo/formats.h"
#include "formats/foreign.h"
#include "package/export.h"
#include "parallel.h"

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

// Where each of \a files goes: \a request.output when it names one file,
// else a folder (created when missing). Strings, not fs::path: a fs::path
// holds each of its components too.
std::vector<std::string> Targets(const ExportRequest& request, const std::vector<ForeignFile>& files) {
  std::error_code ec;
  fs::path dir;
  std::vector<std::string> targets;
  if (!request.output.empty() && files.size() == 1 && !fs::is_directory(request.output, ec)) {
    targets.push_back(fs::path(request.output).lexically_normal().string());
    dir = fs::path(request.output).parent_path();
  } else {
    dir = request.output.empty() ? fs::path(request.directory.empty() ? "." : request.directory)
                                 : fs::path(request.output);
    std::string prefix = dir.lexically_normal().string();  // f.name is a plain file name
    if (prefix == ".") prefix.clear();
    const std::string separator = prefix.empty() || prefix.back() == '/' ? "" : "/";
    targets.reserve(files.size());
    for (const auto& f : files) targets.push_back(prefix + separator + f.name);
  }
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) {
    if (request.output.empty() || files.size() == 1) {
      throw Error(ErrorCode::kNotFound, "folder '" + dir.string() + "' not found");
    }
    fs::create_directories(dir, ec);
    if (ec) throw Error(ErrorCode::kIo, "cannot create '" + dir.string() + "': " + ec.message());
  }
  if (request.overwrite == ExportRequest::Overwrite::kNo) {
    for (const auto& t : targets) {
      if (fs::symlink_status(t, ec).type() != fs::file_type::not_found) {
        throw Error(ErrorCode::kAlreadyExists, "'" + t + "' already exists; pass --force to overwrite it");
      }
    }
  }
  return targets;
}

std::optional<git_oid> DefinitionBlob(const BuiltFlow& flow) {
  for (const BuiltFile& file : flow.files) {
    if (file.kind == DocKind::kDefinition) return file.blob;
  }
  return std::nullopt;
}

}  // namespace

ForeignExportResult ExportForeign(FlowRepository& repo, const ExportRequest& request, std::string_view format) {
  if (format != kN8nFormatName && format != kNodeRedFormatName) {
    throw Error(ErrorCode::kInvalidArgument,
                "cannot export as '" + std::string(format) + "'; use package, n8n or node-red");
  }
  // Nothing is kept of the documents checked: each file's definitions are
  // read again when it is made, so memory does not grow with the flows.
  const Store& store = ImplOf(repo).store;
  BuiltPackage built = BuildPackage(ImplOf(repo), request, RetainText::kNone, store.git_dir());
  ForeignExportResult result;
  result.workspace = built.manifest.workspace;
  result.commit = built.manifest.commit;
  std::vector<ForeignSource> sources;
  for (const BuiltFlow& flow : built.flows) {
    PackageFlowInfo info = built.Info(flow);
    ForeignSource source{{info.id, info.name, info.group, info.format}, {}, true};
    for (const BuiltFile& file : flow.files) {
      if (file.kind == DocKind::kApp) source.app_definition = built.Text(store, flow, file);
    }
    sources.push_back(std::move(source));
    if (result.flows.size() < request.listed_flows) result.flows.push_back(std::move(info));
  }
  result.flow_count = sources.size();
  ForeignFilePlan plan(std::move(sources), format, request.sample_data);
  result.files = plan.TakeFiles();
  std::vector<std::string> targets = Targets(request, result.files);

  // Made and written on all cores, each worker through its own repository
  // handle; the definition is the stored one (Content strips it exactly as
  // the package export did).
  const std::size_t workers = ParallelWorkers(targets.size());
  std::vector<Store> stores;
  for (std::size_t t = 1; t < workers; ++t) stores.push_back(Store::Open(store.git_dir()));
  std::atomic<std::size_t> written{0};  // for progress
  ParallelFor(
      targets.size(),
      [&](std::size_t u, std::size_t worker) {
        ThrowIfCancelled();
        const Store& mine = worker == 0 ? store : stores[worker - 1];
        WriteFile(targets[u], plan.Content(u, [&](std::size_t i) {
          auto blob = DefinitionBlob(built.flows[i]);
          return blob ? mine.ReadBlob(*blob) : std::string();
        }));
        const std::size_t done = ++written;
        if (request.progress && worker == 0) request.progress(done, targets.size());
      },
      16, workers);
  result.paths = std::move(targets);
  return result;
}

}  // namespace flowrepo
