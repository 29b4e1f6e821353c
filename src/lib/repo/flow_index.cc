#include "repo/flow_index.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <utility>

#include "flowrepo/error.h"

namespace flowrepo {
namespace {

constexpr std::string_view kHeader = "flowrepo-flow-index 1 ";

constexpr std::size_t kResaveAfterChanges = 128;

std::string CachePath(const Store& store) { return store.git_dir() + "flowrepo/flow-index"; }

std::string PathOf(const std::string& group, const std::string& id) {
  return std::string(kFlowsDir) + "/" + (group.empty() ? "" : group + "/") + id;
}

// Applies \a changes (from the cached tree to the wanted one) to \a index.
void Apply(const std::map<std::string, FlowChange>& changes, std::map<std::string, FlowLocation>& index) {
  for (const auto& [id, change] : changes) {
    if (change.before) {
      auto it = index.find(id);
      if (it != index.end() && it->second.path == change.before->path) index.erase(it);
    }
  }
  for (const auto& [id, change] : changes) {
    if (!change.after) continue;
    auto [it, inserted] = index.emplace(id, *change.after);
    if (!inserted && it->second.path != change.after->path) {
      throw Error(ErrorCode::kInvalidData,
                  "flow id '" + id + "' is used twice: '" + it->second.path + "' and '" + change.after->path + "'");
    }
    it->second = *change.after;
  }
}

}  // namespace

const std::map<std::string, FlowLocation>& FlowIndexCache::ForRootTree(const Store& store, const git_tree* root) {
  auto entry = store.EntryAt(root, std::string(kFlowsDir));
  static const std::map<std::string, FlowLocation> kNoFlows;
  if (!entry || entry->mode != GIT_FILEMODE_TREE) return kNoFlows;
  const git_oid wanted = entry->id;
  if (!loaded_) {
    loaded_ = true;
    tree_ = LoadFromDisk(store);
  }
  if (tree_ && git_oid_equal(&*tree_, &wanted)) return index_;
  bool derived = false;
  if (tree_) {
    try {
      auto changes = DiffFlowTrees(store, tree_, wanted);
      Apply(changes, index_);
      changes_since_saved_ += changes.size();
      derived = true;
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kInvalidData) throw;  // a real duplicate id
      // The cached tree is gone (gc) or unreadable: rebuild below.
    }
  }
  if (!derived) index_ = IndexFlows(store, root);
  tree_ = wanted;
  // Rewriting the whole file costs as much as reading it, so it is written
  // only when the saved tree has fallen far behind (deriving from it costs
  // its distance), once, when the repository is closed.
  if (!derived || changes_since_saved_ > kResaveAfterChanges) save_to_ = CachePath(store);
  return index_;
}

std::optional<git_oid> FlowIndexCache::LoadFromDisk(const Store& store) {
  std::ifstream in(CachePath(store), std::ios::binary | std::ios::ate);
  if (!in) return std::nullopt;
  std::string text(static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0)), '\0');
  in.seekg(0);
  if (!in.read(text.data(), static_cast<std::streamsize>(text.size()))) return std::nullopt;
  std::string_view rest = text;
  auto next_line = [&rest](std::string_view& line) {
    std::size_t end = rest.find('\n');
    if (end == std::string_view::npos) return false;
    line = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    return true;
  };
  std::string_view line;
  if (!next_line(line) || line.substr(0, kHeader.size()) != kHeader) return std::nullopt;
  git_oid tree;
  std::string_view hex = line.substr(kHeader.size());
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstrn(&tree, hex.data(), hex.size()) < 0) return std::nullopt;
  std::map<std::string, FlowLocation> index;
  while (next_line(line)) {
    std::size_t tab1 = line.find('\t');
    std::size_t tab2 = tab1 == std::string_view::npos ? tab1 : line.find('\t', tab1 + 1);
    if (tab2 == std::string_view::npos || line.size() - tab2 - 1 != GIT_OID_HEXSZ) return std::nullopt;
    git_oid oid;
    if (git_oid_fromstrn(&oid, line.data() + tab2 + 1, GIT_OID_HEXSZ) < 0) return std::nullopt;
    std::string id(line.substr(0, tab1)), group(line.substr(tab1 + 1, tab2 - tab1 - 1));
    std::string path = PathOf(group, id);
    index.emplace_hint(index.end(), id, FlowLocation{id, std::move(group), std::move(path), oid});
  }
  if (!rest.empty()) return std::nullopt;  // a cut last line: a torn write
  index_ = std::move(index);
  return tree;
}

FlowIndexCache::FlowIndexCache(FlowIndexCache&& other) noexcept
    : loaded_(other.loaded_),
      tree_(other.tree_),
      index_(std::move(other.index_)),
      changes_since_saved_(other.changes_since_saved_),
      save_to_(std::exchange(other.save_to_, {})) {}

FlowIndexCache::~FlowIndexCache() {
  try {
    if (!save_to_.empty()) SaveToDisk(save_to_);
  } catch (...) {
    // Only a cache: the next command rebuilds it.
  }
}

void FlowIndexCache::SaveToDisk(const std::string& path) const {
  std::string out = std::string(kHeader) + git::OidHex(*tree_) + "\n";
  out.reserve(out.size() + index_.size() * 96);
  char hex[GIT_OID_HEXSZ];
  for (const auto& [id, loc] : index_) {
    // Names git allows but the line format cannot hold: keep no cache.
    if (loc.group.find_first_of("\t\n") != std::string::npos) return;
    git_oid_fmt(hex, &loc.tree);
    out.append(id).append(1, '\t').append(loc.group).append(1, '\t').append(hex, GIT_OID_HEXSZ).append(1, '\n');
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    if (!file) return;  // a read-only repository simply gets no cache
    file << out;
    if (!file) {
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

}  // namespace flowrepo
