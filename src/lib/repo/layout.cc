#include "repo/layout.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <set>

#include "flowrepo/error.h"
#include "json/json_io.h"

namespace flowrepo {

std::string WorkspaceRef(std::string_view ws) { return "refs/heads/" + std::string(ws); }

std::string DraftRef(std::string_view ws, std::string_view draft) { return DraftRefPrefix(ws) + std::string(draft); }

std::string DraftRefPrefix(std::string_view ws) { return "refs/heads/drafts/" + std::string(ws) + "/"; }

std::string TagRef(std::string_view ws, std::string_view flow, int version) {
  return TagRefPrefix(ws, flow) + std::to_string(version);
}

std::string ShortTag(std::string_view ref) {
  constexpr std::string_view kTags = "refs/tags/";
  if (ref.substr(0, kTags.size()) == kTags) ref.remove_prefix(kTags.size());
  return std::string(ref);
}

std::string TagRefPrefix(std::string_view ws, std::string_view flow) {
  return "refs/tags/" + std::string(ws) + "/" + std::string(flow) + "/v";
}

void RequireId(std::string_view id, std::string_view what) {
  if (!IsValidId(id)) {
    throw Error(ErrorCode::kInvalidArgument,
                "invalid " + std::string(what) + " '" + std::string(id) +
                    "': use 1-64 characters a-z 0-9 . _ - starting with a letter or digit");
  }
}

void RequireDraftName(std::string_view name) {
  std::string_view rest = name;
  while (true) {
    auto slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (!IsValidId(part)) {
      throw Error(ErrorCode::kInvalidArgument,
                  "invalid draft name '" + std::string(name) +
                      "': use '/'-separated parts of a-z 0-9 . _ - (1-64 characters each)");
    }
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
}

void RequireUserName(std::string_view user) {
  bool ok = !user.empty() && user.size() <= 254;
  for (unsigned char c : user) {
    if (c < 0x21 || c == 0x7f || c == '"' || c == '\\') ok = false;
  }
  if (!ok) {
    throw Error(ErrorCode::kInvalidArgument,
                "invalid user name '" + std::string(user) +
                    "': use a login or e-mail address without spaces or control characters");
  }
}

namespace {

void IndexTree(const Store& store, const git_tree* tree, const std::string& prefix, const std::string& group,
               std::map<std::string, FlowLocation>& out) {
  std::size_t count = git_tree_entrycount(tree);
  for (std::size_t i = 0; i < count; ++i) {
    const git_tree_entry* entry = git_tree_entry_byindex(tree, i);
    if (git_tree_entry_type(entry) != GIT_OBJECT_TREE) continue;
    std::string name = git_tree_entry_name(entry);
    std::string path = prefix + "/" + name;
    git::TreePtr child = store.LookupTree(*git_tree_entry_id(entry));
    if (git_tree_entry_byname(child.get(), std::string(kAppDefinitionFile).c_str())) {
      auto [it, inserted] = out.emplace(name, FlowLocation{name, group, path, *git_tree_entry_id(entry)});
      if (!inserted) {
        throw Error(ErrorCode::kInvalidData,
                    "flow id '" + name + "' is used twice: '" + it->second.path + "' and '" + path + "'");
      }
    } else {
      IndexTree(store, child.get(), path, group.empty() ? name : group + "/" + name, out);
    }
  }
}

bool IsFlowFolder(const Store& store, const git_oid& tree_id) {
  git::TreePtr tree = store.LookupTree(tree_id);
  return git_tree_entry_byname(tree.get(), std::string(kAppDefinitionFile).c_str()) != nullptr;
}

// One side or both of a flow folder that differs: the ids of the folder
// before and after (std::nullopt: no flow there on that side).
using FolderChangeSink = std::function<void(const std::string& name, const std::string& group, const std::string& path,
                                            const std::optional<git_oid>& before, const std::optional<git_oid>& after)>;

// Compares two folders of the flows/ hierarchy entry by entry; equal ids
// mean equal content, so equal sub-trees are never opened.
void CompareFolders(const Store& store, const std::optional<git_oid>& a, const std::optional<git_oid>& b,
                    const std::string& path, const std::string& group, const FolderChangeSink& sink) {
  std::map<std::string, std::pair<std::optional<git_oid>, std::optional<git_oid>>> entries;
  auto collect = [&](const std::optional<git_oid>& id, bool first) {
    if (!id) return;
    git::TreePtr tree = store.LookupTree(*id);
    for (std::size_t i = 0; i < git_tree_entrycount(tree.get()); ++i) {
      const git_tree_entry* e = git_tree_entry_byindex(tree.get(), i);
      if (git_tree_entry_type(e) != GIT_OBJECT_TREE) continue;
      auto& slot = entries[git_tree_entry_name(e)];
      (first ? slot.first : slot.second) = *git_tree_entry_id(e);
    }
  };
  collect(a, true);
  collect(b, false);
  for (const auto& [name, pair] : entries) {
    const auto& [x, y] = pair;
    if (x && y && git_oid_equal(&*x, &*y)) continue;
    std::string child_path = path + "/" + name;
    bool x_flow = x && IsFlowFolder(store, *x);
    bool y_flow = y && IsFlowFolder(store, *y);
    if (x_flow || y_flow) {
      sink(name, group, child_path, x_flow ? x : std::nullopt, y_flow ? y : std::nullopt);
    }
    std::optional<git_oid> x_dir = x_flow ? std::nullopt : x;
    std::optional<git_oid> y_dir = y_flow ? std::nullopt : y;
    if (x_dir || y_dir) {
      CompareFolders(store, x_dir, y_dir, child_path, group.empty() ? name : group + "/" + name, sink);
    }
  }
}

void CompareFlowTrees(const Store& store, const std::optional<git_oid>& a, const std::optional<git_oid>& b,
                      const FolderChangeSink& sink) {
  if (!(a && b && git_oid_equal(&*a, &*b))) CompareFolders(store, a, b, std::string(kFlowsDir), "", sink);
}

// Adds \a group and every group above it ("A/B": "A", "A/B") to \a groups.
void InsertWithParents(std::set<std::string>& groups, const std::string& group) {
  for (std::size_t slash = group.find('/'); slash != std::string::npos; slash = group.find('/', slash + 1)) {
    groups.insert(group.substr(0, slash));
  }
  groups.insert(group);
}

}  // namespace

std::map<std::string, FlowChange> DiffFlowTrees(const Store& store, const std::optional<git_oid>& a,
                                                const std::optional<git_oid>& b) {
  std::map<std::string, FlowChange> changes;
  // A flow moved between groups shows in two folders: merged by id.
  CompareFlowTrees(store, a, b,
                   [&](const std::string& name, const std::string& group, const std::string& path,
                       const std::optional<git_oid>& before, const std::optional<git_oid>& after) {
                     auto& change = changes[name];
                     change.id = name;
                     if (before) change.before = FlowLocation{name, group, path, *before};
                     if (after) change.after = FlowLocation{name, group, path, *after};
                   });
  return changes;
}

ChangedFlowIds DiffFlowIds(const Store& store, const std::optional<git_oid>& a, const std::optional<git_oid>& b) {
  std::map<std::string, bool> present_after;  // id -> a folder holds it after
  CompareFlowTrees(store, a, b,
                   [&](const std::string& name, const std::string&, const std::string&, const std::optional<git_oid>&,
                       const std::optional<git_oid>& after) { present_after[name] |= after.has_value(); });
  ChangedFlowIds ids;
  ids.changed.reserve(present_after.size());
  for (auto& [id, after] : present_after) {
    if (!after) ids.removed.push_back(id);
    ids.changed.push_back(id);
  }
  return ids;
}

std::map<std::string, FlowLocation> IndexFlows(const Store& store, const git_tree* root) {
  std::map<std::string, FlowLocation> flows;
  auto entry = store.EntryAt(root, std::string(kFlowsDir));
  if (!entry || entry->mode != GIT_FILEMODE_TREE) return flows;
  git::TreePtr tree = store.LookupTree(entry->id);
  IndexTree(store, tree.get(), std::string(kFlowsDir), "", flows);
  return flows;
}

void ClashScope::Touch(const std::string& group) { InsertWithParents(touched_, group); }

bool ClashScope::Includes(const std::string& group) {
  return touched_.count(group) || standing_in_.insert(group).second;
}

std::vector<NameClash> ClashesOfChanges(const std::map<std::string, FlowLocation>& after,
                                        const std::vector<const FlowChange*>& changes) {
  std::set<std::string> changed;
  ClashScope scope;
  std::vector<FlowPlace> before, now;
  for (const FlowChange* change : changes) {
    changed.insert(change->id);
    if (change->before) before.push_back({change->before->group, change->id});
    if (change->after) scope.Touch(change->after->group);
  }
  if (changed.empty()) return {};
  for (const auto& [id, loc] : after) {
    if (changed.count(id)) {
      now.push_back({loc.group, id});
    } else if (scope.Includes(loc.group)) {
      now.push_back({loc.group, id});
      before.push_back({loc.group, id});
    }
  }
  return FindNameClashes(before, now);
}

std::vector<std::string> GroupsOf(const std::map<std::string, FlowLocation>& flows) {
  std::set<std::string> groups;
  for (const auto& [id, location] : flows) {
    if (!location.group.empty()) InsertWithParents(groups, location.group);
  }
  return {groups.begin(), groups.end()};
}

std::vector<NameClash> ClashesOfWrite(const std::map<std::string, FlowLocation>& existing,
                                      const std::vector<FlowSummary>& written) {
  std::set<std::string> ids;
  ClashScope scope;
  std::vector<FlowPlace> before, after;
  for (const FlowSummary& flow : written) {
    after.push_back({flow.group, flow.id});
    ids.insert(flow.id);
    scope.Touch(flow.group);
  }
  for (const auto& [id, loc] : existing) {
    if (ids.count(id)) {
      before.push_back({loc.group, id});  // where a rewritten flow was
    } else if (scope.Includes(loc.group)) {
      before.push_back({loc.group, id});
      after.push_back({loc.group, id});
    }
  }
  return FindNameClashes(before, after);
}

Error FlowNotFound(std::string_view id, const std::map<std::string, FlowLocation>& flows, std::string_view where) {
  std::vector<std::string> ids;
  ids.reserve(flows.size());
  for (const auto& [known, location] : flows) ids.push_back(known);
  const std::string hint = ClosestName(std::string(id), ids);
  return Error(ErrorCode::kNotFound, "flow '" + std::string(id) + "' not found in " + std::string(where) +
                                         (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
}

Flow ReadFlowAt(const Store& store, const FlowLocation& location) {
  git::TreePtr tree = store.LookupTree(location.tree);
  auto read = [&](std::string_view file) -> std::string {
    const git_tree_entry* e = git_tree_entry_byname(tree.get(), std::string(file).c_str());
    if (!e || git_tree_entry_type(e) != GIT_OBJECT_BLOB) return {};
    return store.ReadBlob(*git_tree_entry_id(e));
  };
  Flow flow;
  flow.summary.id = location.id;
  flow.summary.group = location.group;
  flow.flow_definition = read(kFlowDefinitionFile);
  flow.app_definition = read(kAppDefinitionFile);
  flow.env_variables = read(kEnvVariablesFile);
  try {
    Json app = Json::parse(flow.app_definition);
    flow.summary.name = StringOr(app, "name", location.id);
    flow.summary.format = StringOr(app, "format", std::string(kNativeFormat));
  } catch (const std::exception&) {
    // An unreadable app definition is reported by validation, not here.
    flow.summary.name = location.id;
  }
  return flow;
}

std::optional<int> VersionFromTag(std::string_view ref, std::string_view prefix) {
  if (ref.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view digits = ref.substr(prefix.size());
  if (digits.empty() || digits.size() > 9 || digits[0] == '0') return std::nullopt;
  int n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return n;
}

std::vector<VersionTagRef> VersionTags(const Store& store, std::string_view ws, std::string_view flow) {
  std::string prefix = TagRefPrefix(ws, flow);
  std::vector<VersionTagRef> tags;
  for (const auto& [name, id] : store.ListRefs(prefix + "*")) {
    if (auto n = VersionFromTag(name, prefix)) tags.push_back({*n, name, id});
  }
  std::sort(tags.begin(), tags.end(),
            [](const VersionTagRef& a, const VersionTagRef& b) { return a.number < b.number; });
  return tags;
}

}  // namespace flowrepo
