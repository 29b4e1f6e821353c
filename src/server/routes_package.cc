// Packages: export (a selection, or one version of one flow) as a
// download named as the command line names its files, import of an
// uploaded package with every option of `flowrepo import`, and copy within
// a workspace or into another. Integrator role (export: the workspace's
// export role).

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>

#include "flowrepo/error.h"
#include "flowrepo/package.h"
#include "forms/arguments.h"
#include "server/routes.h"
#include "server/temp_dir.h"

namespace flowrepo::server {
namespace {

// A file kept open until its download is sent, then removed with its
// directory.
struct Download {
  std::unique_ptr<TempDir> dir;
  int fd = -1;
  ~Download() {
    if (fd >= 0) close(fd);
  }
};

// Content-Disposition for \a name: the plain form when it is printable
// ASCII, with RFC 6266's UTF-8 form beside an ASCII fallback otherwise.
std::string Disposition(const std::string& name) {
  const bool ascii = std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f && c != '"' && c != '\\';
  });
  if (ascii) return "attachment; filename=\"" + name + "\"";
  std::string fallback, encoded;
  static const char kHex[] = "0123456789ABCDEF";
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    fallback += u >= 0x20 && u < 0x7f && c != '"' && c != '\\' ? c : '_';
    if (std::isalnum(u) || c == '.' || c == '-' || c == '_') {
      encoded += c;
    } else {
      encoded += '%';
      encoded += kHex[u >> 4];
      encoded += kHex[u & 0xf];
    }
  }
  return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

// Exports \a request into a private directory and replies the package.
void ReplyExport(Call& call, ExportRequest request) {
  auto download = std::make_shared<Download>();
  download->dir = std::make_unique<TempDir>();
  request.directory = download->dir->path();
  request.output.clear();
  request.listed_flows = 0;
  const ExportResult result = ExportPackage(call.repo(), request);
  download->fd = open(result.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (download->fd < 0) throw Error(ErrorCode::kIo, "cannot read the exported package");
  httplib::Response& res = call.response();
  res.status = 200;
  res.set_header("Content-Disposition", Disposition(std::filesystem::path(result.path).filename().string()));
  res.set_header("X-Flowrepo-Commit", result.commit);
  res.set_header("X-Flowrepo-Sha256", result.sha256);
  res.set_header("X-Flowrepo-Flows", std::to_string(result.flow_count));
  res.set_content_provider(
      static_cast<std::size_t>(result.bytes), "application/octet-stream",
      [download](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        char buffer[64 * 1024];
        const ssize_t n = pread(download->fd, buffer, std::min(length, sizeof buffer), static_cast<off_t>(offset));
        return n > 0 && sink.write(buffer, static_cast<std::size_t>(n));
      },
      [download](bool) mutable { download.reset(); });
}

}  // namespace

ExportRequest SelectionExportRequest(const Call& call) {
  const Json& body = call.body();
  ExportRequest request;
  request.workspace = call.Path("ws");
  request.selection = StringsField(body, "flows");
  for (auto group : StringsField(body, "groups")) {
    if (group.empty() || group.back() != '/') group += '/';  // always a group, never a flow id
    request.selection.push_back(group);
  }
  request.exclude = StringsField(body, "exclude");
  request.all = BoolField(body, "all");
  request.at = StringField(body, "at");
  if (const std::string deps = StringField(body, "dependencies"); !deps.empty()) {
    request.dependencies = ParseDependencyPolicy(deps);
  }
  if (body.contains("version")) request.version = VersionField(body, "version");
  if (BoolField(body, "keep_sample_data")) request.sample_data = ExportRequest::SampleData::kKeep;
  return request;
}

namespace {

void ExportSelection(Call& call) { ReplyExport(call, SelectionExportRequest(call)); }

void ExportVersion(Call& call) {
  ExportRequest request;
  request.workspace = call.Path("ws");
  request.selection = {call.Path("flow")};
  const std::string version = call.Query("version");
  request.version = forms::ParseVersion(version.empty() ? "latest" : version, "version");
  if (const std::string deps = call.Query("dependencies"); !deps.empty()) {
    request.dependencies = ParseDependencyPolicy(deps);
  }
  ReplyExport(call, std::move(request));
}

// A limit the client may lower below the server's, never raise.
void Lower(const Call& call, const std::string& name, std::uint64_t& limit) {
  const std::string text = call.Query(name);
  if (text.empty()) return;
  std::uint64_t value = 0;
  try {
    std::size_t used = 0;
    value = std::stoull(text, &used);
    if (used != text.size()) throw std::invalid_argument(name);
  } catch (const std::exception&) {
    throw Error(ErrorCode::kInvalidArgument, "invalid " + name + " '" + text + "': use a number");
  }
  limit = std::min(limit, value);
}

std::pair<std::string, std::string> SplitTopic(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    throw Error(ErrorCode::kInvalidArgument, "invalid topic '" + text + "': use SRC=DST");
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

ImportRequest::Mode ModeOf(const std::string& mode) {
  if (mode.empty() || mode == "add") return ImportRequest::Mode::kAdd;
  if (mode == "override") return ImportRequest::Mode::kOverride;
  if (mode == "as-new") return ImportRequest::Mode::kAsNew;
  if (mode == "override-existing") return ImportRequest::Mode::kOverrideExisting;
  throw Error(ErrorCode::kInvalidArgument,
              "invalid mode '" + mode + "': use add, override, as-new or override-existing");
}

ImportRequest::EnvConflict EnvConflictOf(const std::string& text) {
  if (text.empty() || text == "keep") return ImportRequest::EnvConflict::kKeep;
  if (text == "overwrite") return ImportRequest::EnvConflict::kOverwrite;
  throw Error(ErrorCode::kInvalidArgument, "invalid env_conflict '" + text + "': use keep or overwrite");
}

void Import(Call& call) {
  ImportRequest request;
  request.package = call.upload();
  request.workspace = call.Path("ws");
  request.draft = call.Query("draft");
  for (const auto& list : call.QueryAll("flows")) {
    for (std::size_t start = 0; start <= list.size();) {
      const std::size_t end = std::min(list.find(',', start), list.size());
      if (end > start) request.flows.push_back(list.substr(start, end - start));
      start = end + 1;
    }
  }
  request.override_flow = call.Query("override");
  request.mode = ModeOf(call.Query("mode").empty() && !request.override_flow.empty() ? "override" : call.Query("mode"));
  request.new_id = call.Query("id");
  request.new_name = call.Query("name");
  for (const auto& topic : call.QueryAll("topic")) request.topics.insert(SplitTopic(topic));
  request.env_conflict = EnvConflictOf(call.Query("env_conflict"));
  request.dry_run = call.QueryFlag("dry_run");
  request.declare_components = call.QueryFlag("declare_components");
  request.limits.max_file_bytes = call.options().max_body;
  Lower(call, "max_entries", request.limits.max_entries);
  Lower(call, "max_bytes", request.limits.max_total_bytes);
  Lower(call, "max_entry_bytes", request.limits.max_entry_bytes);
  Lower(call, "max_ratio", request.limits.max_ratio);
  ImportResult result = ImportPackage(call.repo(), request);
  result.package = std::filesystem::path(result.package).filename().string();
  call.Reply(forms::ToJson(result), result.dry_run ? 200 : 201);
}

void Copy(Call& call) {
  const Json& body = call.body();
  const std::string to_workspace = StringField(body, "to_workspace");
  CopyRequest request;
  request.flow = call.Path("flow");
  request.name = StringField(body, "new_name");
  request.id = StringField(body, "new_id");
  request.group = StringField(body, "group");
  request.draft = StringField(body, "draft");
  const std::string override_flow = StringField(body, "override");
  const auto topics = MapField(body, "topics");
  const std::string env_conflict = StringField(body, "env_conflict");
  const bool dry_run = BoolField(body, "dry_run");
  if (to_workspace.empty()) {
    if (!override_flow.empty() || !topics.empty() || dry_run || !env_conflict.empty()) {
      throw Error(ErrorCode::kInvalidArgument, "override, topics, env_conflict and dry_run need to_workspace");
    }
    call.Reply(forms::ToJson(call.repo().CopyFlow(call.Path("ws"), request)), 201);
    return;
  }
  // As `flowrepo copy --to-workspace`: an export of the one flow, imported
  // at once, as a new flow when named, or overriding one.
  ExportRequest source;
  source.workspace = call.Path("ws");
  source.selection = {request.flow};
  source.dependencies = DependencyPolicy::kReference;
  ImportRequest target;
  if (!IsValidId(to_workspace)) {
    throw Error(ErrorCode::kInvalidArgument, "invalid workspace name '" + to_workspace + "'");
  }
  target.workspace = to_workspace;
  target.draft = request.draft;
  target.dry_run = dry_run;
  target.env_conflict = EnvConflictOf(env_conflict);
  target.topics = topics;
  if (!override_flow.empty()) {
    target.mode = ImportRequest::Mode::kOverride;
    target.override_flow = override_flow;
  } else if (!request.name.empty() || !request.id.empty()) {
    target.mode = ImportRequest::Mode::kAsNew;
    target.new_name = request.name;
    target.new_id = request.id;
  }
  const ImportResult result = CopyToWorkspace(call.repo(), source, target);
  call.Reply(forms::ToJson(result), dry_run ? 200 : 201);
}

}  // namespace

void AddPackageRoutes(std::vector<Route>& routes) {
  routes.push_back({"POST",
                    "/api/v1/workspaces/{ws}/export",
                    "A package of flows and groups (export): export.studiopkg",
                    "integrator",
                    {},
                    Route::Body::kJson,
                    {"flows: [string] - flow ids", "groups: [string] - group paths (with their sub-groups)",
                     "exclude: [string] - flows or groups left out", "all: bool - every flow",
                     "dependencies: string - include (default), reference or fail",
                     "at: string - a draft, ref or commit instead of the workspace head",
                     "version: string - N, vN or latest: one version of the one flow (<Flow Name>.zip)",
                     "keep_sample_data: bool - keep n8n pinData"},
                    true,
                    ExportSelection});
  routes.push_back(
      {"GET",
       "/api/v1/workspaces/{ws}/flows/{flow}/export",
       "One published version of a flow as a package: <Flow Name>.zip",
       "integrator",
       {{"version", "N, vN or latest (default)"}, {"dependencies", "reference (default), include or fail"}},
       Route::Body::kNone,
       {},
       true,
       ExportVersion});
  routes.push_back({"POST",
                    "/api/v1/workspaces/{ws}/import",
                    "Verify an uploaded package (the raw body) and commit its flows onto a draft (import)",
                    "integrator",
                    {{"filename", "the package's file name (default upload.studiopkg): names the default draft"},
                     {"draft", "draft to write on (default: import-<package name>)"},
                     {"flows", "only these package flows (ID,ID; repeatable)"},
                     {"mode", "add (default), override, as-new or override-existing"},
                     {"override", "the existing flow the one imported flow replaces (mode override)"},
                     {"id", "as-new with one flow: its id"},
                     {"name", "as-new with one flow: its name"},
                     {"topic", "SRC=DST: map a package topic to one of the workspace (repeatable)"},
                     {"env_conflict", "keep (default) or overwrite"},
                     {"dry_run", "1: check and report the plan, write nothing"},
                     {"declare_components", "1: declare missing components on the draft"},
                     {"max_entries", "lower the server's limit: zip entries"},
                     {"max_bytes", "lower the server's limit: decompressed bytes in all"},
                     {"max_entry_bytes", "lower the server's limit: decompressed bytes of one entry"},
                     {"max_ratio", "lower the server's limit: compression ratio of one entry"}},
                    Route::Body::kPackage,
                    {},
                    false,
                    Import});
  routes.push_back(
      {"POST",
       "/api/v1/workspaces/{ws}/flows/{flow}/copy",
       "Copy a flow under a new name, or into another workspace (copy)",
       "integrator",
       {},
       Route::Body::kJson,
       {"new_name: string - name of the copy", "new_id: string - id of the copy", "group: string - group of the copy",
        "draft: string - draft to write on", "to_workspace: string - copy into this workspace",
        "override: string - with to_workspace: the flow there it replaces",
        "topics: object - with to_workspace: SRC -> DST topic mappings", "env_conflict: string - keep or overwrite",
        "dry_run: bool - with to_workspace: plan only"},
       false,
       Copy});
}

}  // namespace flowrepo::server
