#include "flowrepo/flow.h"

#include <algorithm>
#include <charconv>

#include "file_io.h"
#include "flow/names.h"
#include "flowrepo/error.h"

namespace flowrepo {

std::string FlowSummary::path() const {
  std::string p = "flows/";
  if (!group.empty()) p += group + "/";
  return p + id;
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(id[0])) return false;
  for (char c : id) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  if (id == "drafts" || id.find("..") != std::string_view::npos || id.back() == '.') return false;
  if (id.size() >= 5 && id.substr(id.size() - 5) == ".lock") return false;
  return true;
}

std::string GroupProblem(std::string_view group) {
  if (group.empty()) return {};
  if (group.size() > 512) return "is longer than 512 bytes";
  std::size_t parts = 0;
  std::size_t start = 0;
  while (start <= group.size()) {
    std::size_t end = group.find('/', start);
    if (end == std::string_view::npos) end = group.size();
    std::string_view part = group.substr(start, end - start);
    if (++parts > kMaxGroupDepth) {
      return "is deeper than " + std::to_string(kMaxGroupDepth) + " levels (the most a package can hold)";
    }
    if (part.size() > 100) return "has a part longer than 100 bytes";
    for (unsigned char c : part) {
      if (c == '\\' || c == ':' || c == '*' || c == '?' || c == '"' || c == '<' || c == '>' || c == '|') {
        return std::string("has a '") + static_cast<char>(c) + "'";
      }
    }
    if (std::string why = PathPartProblem(part); !why.empty()) return why;
    start = end + 1;
  }
  return {};
}

bool IsValidGroup(std::string_view group) { return GroupProblem(group).empty(); }

std::string IdFromName(std::string_view name) {
  std::string id;
  for (unsigned char c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
    bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (keep) {
      id += static_cast<char>(c);
    } else if (!id.empty() && id.back() != '-') {
      id += '-';
    }
    if (id.size() >= 64) break;
  }
  while (!id.empty() && id.back() == '-') id.pop_back();
  return IsValidId(id) ? id : std::string();
}

FlowSpec ParseFlowSpec(std::string_view text) {
  FlowSpec spec;
  auto at = text.find('@');
  spec.id = std::string(text.substr(0, at));
  if (!IsValidId(spec.id)) {
    throw Error(ErrorCode::kInvalidArgument, "invalid flow id '" + spec.id + "'");
  }
  if (at == std::string_view::npos) return spec;
  std::string_view rest = text.substr(at + 1);
  if (rest.size() > 1 && rest[0] == 'v' && rest[1] != '0') {
    int n = 0;
    auto [end, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), n);
    if (ec == std::errc() && end == rest.data() + rest.size() && n > 0) {
      spec.version = n;
      return spec;
    }
  }
  if (rest.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "empty revision after '@' in '" + std::string(text) + "'");
  }
  spec.revision = std::string(rest);
  return spec;
}

}  // namespace flowrepo

#include <filesystem>

namespace flowrepo {
namespace {

namespace fs = std::filesystem;

bool IsFlowFolder(const fs::path& dir) { return fs::exists(dir / kAppDefinitionFile); }

Flow ReadFlowFolder(const fs::path& dir, const std::string& group) {
  Flow flow;
  flow.summary.id = dir.filename().string();
  flow.summary.group = group;
  flow.app_definition = ReadWholeFile(dir / kAppDefinitionFile);
  for (auto [file, target] :
       {std::pair{kFlowDefinitionFile, &flow.flow_definition}, std::pair{kEnvVariablesFile, &flow.env_variables}}) {
    if (fs::exists(dir / file)) *target = ReadWholeFile(dir / file);
  }
  return flow;
}

// Adds the flows below \a dir, whose contents belong to \a group.
void Collect(const fs::path& dir, const std::string& group, std::vector<Flow>& out) {
  std::vector<fs::path> children;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory() && entry.path().filename().string()[0] != '.') {
      children.push_back(entry.path());
    }
  }
  std::sort(children.begin(), children.end());
  for (const auto& child : children) {
    std::string name = child.filename().string();
    if (IsFlowFolder(child)) {
      out.push_back(ReadFlowFolder(child, group));
    } else {
      Collect(child, group.empty() ? name : group + "/" + name, out);
    }
  }
}

}  // namespace

std::vector<Flow> ReadFlowFolders(const std::string& dir, const std::string& group) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(ErrorCode::kNotFound, "'" + dir + "' is not a directory");
  }
  std::vector<Flow> flows;
  fs::path root = fs::path(dir).lexically_normal();
  if (!root.has_filename()) root = root.parent_path();  // "dir/" names dir
  try {
    if (IsFlowFolder(root)) {
      flows.push_back(ReadFlowFolder(root, group));
    } else {
      Collect(root, group, flows);
    }
  } catch (const fs::filesystem_error& e) {
    throw Error(ErrorCode::kIo, e.what());
  }
  if (flows.empty()) {
    throw Error(ErrorCode::kNotFound, "no flow folders (with app_definition.json) under '" + dir + "'");
  }
  return flows;
}

}  // namespace flowrepo
