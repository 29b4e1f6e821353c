#include "repo/flow_index.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "flowrepo/error.h"

namespace flowrepo {
namespace {

constexpr std::string_view kHeader = "flowrepo-flow-index 1 ";

std::string CachePath(const Store& store) { return store.git_dir() + "flowrepo/flow-index"; }

std::string PathOf(const std::string& group, const std::string& id) {
  return std::string(kFlowsDir) + "/" + (group.empty() ? "" : group + "/") + id;
}

// Applies \a changes (from the cached tree to the wanted one) to \a index.
void Apply(const std::map<std::string, FlowChange>& changes,
           std::map<std::string, FlowLocation>& index) {
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
      throw Error(ErrorCode::kInvalidData, "flow id '" + id + "' is used twice: '" + it->second.path +
                                               "' and '" + change.after->path + "'");
    }
    it->second = *change.after;
  }
}

}  // namespace

std::map<std::string, FlowLocation> FlowIndexCache::ForRootTree(const Store& store,
                                                                const git_tree* root) {
  auto entry = store.EntryAt(root, std::string(kFlowsDir));
  if (!entry || entry->mode != GIT_FILEMODE_TREE) return {};
  const git_oid wanted = entry->id;
  if (!loaded_) {
    loaded_ = true;
    tree_ = LoadFromDisk(store);
  }
  if (tree_ && git_oid_equal(&*tree_, &wanted)) return index_;
  bool derived = false;
  if (tree_) {
    try {
      Apply(DiffFlowTrees(store, tree_, wanted), index_);
      derived = true;
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kInvalidData) throw;  // a real duplicate id
      // The cached tree is gone (gc) or unreadable: rebuild below.
    }
  }
  if (!derived) index_ = IndexFlows(store, root);
  tree_ = wanted;
  SaveToDisk(store);
  return index_;
}

std::optional<git_oid> FlowIndexCache::LoadFromDisk(const Store& store) {
  std::ifstream in(CachePath(store));
  std::string header;
  if (!in || !std::getline(in, header) || header.rfind(kHeader, 0) != 0) return std::nullopt;
  git_oid tree;
  std::string hex = header.substr(kHeader.size());
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstrn(&tree, hex.data(), hex.size()) < 0) return std::nullopt;
  std::map<std::string, FlowLocation> index;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, group, oid_hex;
    if (!std::getline(fields, id, '\t') || !std::getline(fields, group, '\t') ||
        !std::getline(fields, oid_hex) || oid_hex.size() != GIT_OID_HEXSZ) {
      return std::nullopt;
    }
    git_oid oid;
    if (git_oid_fromstrn(&oid, oid_hex.data(), oid_hex.size()) < 0) return std::nullopt;
    index.emplace(id, FlowLocation{id, group, PathOf(group, id), oid});
  }
  index_ = std::move(index);
  return tree;
}

void FlowIndexCache::SaveToDisk(const Store& store) const {
  std::ostringstream out;
  out << kHeader << git::OidHex(*tree_) << "\n";
  for (const auto& [id, loc] : index_) {
    // Names git allows but the line format cannot hold: keep no cache.
    if (loc.group.find_first_of("\t\n") != std::string::npos) return;
    out << id << '\t' << loc.group << '\t' << git::OidHex(loc.tree) << '\n';
  }
  std::error_code ec;
  const std::string path = CachePath(store);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    if (!file) return;  // a read-only repository simply gets no cache
    file << out.str();
    if (!file) {
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

}  // namespace flowrepo
