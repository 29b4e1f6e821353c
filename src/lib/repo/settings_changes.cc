// Describing settings changes.
//
// 1. The .flowrepo/ trees of both commits are compared by id; equal trees
//    (the usual case: a draft of flow changes) end the work at once.
// 2. Otherwise both trees are listed (a handful of files) and every path
//    whose blob differs is a change.
// 3. .flowrepo/workspace.json is described field by field: roles by user,
//    components by "name@version", topics and env defaults by name, and
//    every other field (schema, export_role, ...) by its members when it
//    is an object on both sides, else as a whole. Role and export_role
//    changes need an admin. Other files are described as added, changed
//    or removed.

#include "repo/settings_changes.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "flowrepo/error.h"
#include "repo/layout.h"
#include "repo/settings.h"

namespace flowrepo {

const char* SettingsChangeKindName(SettingsChange::Kind kind) {
  using Kind = SettingsChange::Kind;
  switch (kind) {
    case Kind::kRoleGranted: return "role-granted";
    case Kind::kRoleChanged: return "role-changed";
    case Kind::kRoleRevoked: return "role-revoked";
    case Kind::kComponentAdded: return "component-added";
    case Kind::kComponentChanged: return "component-changed";
    case Kind::kComponentRemoved: return "component-removed";
    case Kind::kTopicAdded: return "topic-added";
    case Kind::kTopicChanged: return "topic-changed";
    case Kind::kTopicRemoved: return "topic-removed";
    case Kind::kSettingAdded: return "setting-added";
    case Kind::kSettingChanged: return "setting-changed";
    case Kind::kSettingRemoved: return "setting-removed";
    case Kind::kFileAdded: return "file-added";
    case Kind::kFileChanged: return "file-changed";
    case Kind::kFileRemoved: return "file-removed";
  }
  return "setting-changed";
}

namespace {

using Kind = SettingsChange::Kind;

// Values longer than this are cut in messages (before and after keep them).
constexpr std::size_t kMaxShownValue = 80;

std::string Compact(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string Shown(const std::string& value) {
  if (value.size() <= kMaxShownValue) return value;
  return value.substr(0, kMaxShownValue) + "...";
}

// ---- which files changed ---------------------------------------------------

std::optional<git_oid> SettingsTreeOf(const Store& store, const git_oid& commit) {
  git::TreePtr root = store.CommitTree(commit);
  auto entry = store.EntryAt(root.get(), std::string(kSettingsDir));
  if (!entry || entry->mode != GIT_FILEMODE_TREE) return std::nullopt;
  return entry->id;
}

void ListBlobs(const Store& store, const git_oid& tree_id, const std::string& prefix,
               std::map<std::string, git_oid>& out) {
  git::TreePtr tree = store.LookupTree(tree_id);
  for (std::size_t i = 0; i < git_tree_entrycount(tree.get()); ++i) {
    const git_tree_entry* entry = git_tree_entry_byindex(tree.get(), i);
    std::string path = prefix + "/" + git_tree_entry_name(entry);
    if (git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
      ListBlobs(store, *git_tree_entry_id(entry), path, out);
    } else {
      out.emplace(path, *git_tree_entry_id(entry));
    }
  }
}

std::map<std::string, git_oid> SettingsBlobs(const Store& store, const std::optional<git_oid>& tree) {
  std::map<std::string, git_oid> out;
  if (tree) ListBlobs(store, *tree, std::string(kSettingsDir), out);
  return out;
}

// ---- roles -----------------------------------------------------------------

std::string RoleText(const Json& role) { return role.is_string() ? role.get<std::string>() : Compact(role); }

SettingsChange RoleChangeOf(const std::string& user, const Json* before, const Json* after) {
  SettingsChange c;
  c.key = user;
  c.needs_admin = true;
  if (before) c.before = RoleText(*before);
  if (after) c.after = RoleText(*after);
  const std::string who = "'" + user + "'";
  if (!before) {
    c.kind = Kind::kRoleGranted;
    c.message = "role granted: " + who + " " + Shown(c.after) + " (needs admin)";
  } else if (!after) {
    c.kind = Kind::kRoleRevoked;
    c.message = "role revoked: " + who + " was " + Shown(c.before) + " (needs admin)";
  } else {
    c.kind = Kind::kRoleChanged;
    c.message = "role change: " + who + " " + Shown(c.before) + " -> " + Shown(c.after) + " (needs admin)";
  }
  return c;
}

// ---- keyed lists (components, topics) and plain fields ----------------------

struct KeyedList {
  std::map<std::string, Json> items;
  bool usable = true;  ///< false: not an array; described as a plain field
};

std::string ComponentKey(const Json& item) {
  if (item.is_string()) return item.get<std::string>();
  std::string name = StringOr(item, "name");
  std::string version = StringOr(item, "version");
  return version.empty() || name.empty() ? name : name + "@" + version;
}

std::string NameKey(const Json& item) { return item.is_string() ? item.get<std::string>() : StringOr(item, "name"); }

KeyedList ListByKey(const Json& doc, const char* field, std::string (*key_of)(const Json&)) {
  KeyedList out;
  if (!doc.contains(field)) return out;
  const Json& list = doc[field];
  if (!list.is_array()) {
    out.usable = false;
    return out;
  }
  for (const auto& item : list) {
    std::string key = key_of(item);
    if (!key.empty()) out.items[key] = item;
  }
  return out;
}

struct ListKinds {
  Kind added, changed, removed;
  const char* noun;  ///< "component", "topic"
};

void DescribeKeyedList(const KeyedList& before, const KeyedList& after, const ListKinds& kinds,
                       std::vector<SettingsChange>& out) {
  auto add = [&](Kind kind, const std::string& key, const Json* x, const Json* y, const std::string& what) {
    SettingsChange c;
    c.kind = kind;
    c.key = key;
    if (x) c.before = Compact(*x);
    if (y) c.after = Compact(*y);
    c.message = std::string(kinds.noun) + " " + what + ": '" + key + "'";
    if (x && y) c.message += " " + Shown(c.before) + " -> " + Shown(c.after);
    out.push_back(std::move(c));
  };
  for (const auto& [key, item] : before.items) {
    auto it = after.items.find(key);
    if (it == after.items.end()) {
      add(kinds.removed, key, &item, nullptr, "removed");
    } else if (it->second != item) {
      add(kinds.changed, key, &item, &it->second, "changed");
    }
  }
  for (const auto& [key, item] : after.items) {
    if (!before.items.count(key)) add(kinds.added, key, nullptr, &item, "added");
  }
}

SettingsChange FieldChange(const std::string& key, const Json* before, const Json* after) {
  SettingsChange c;
  c.key = key;
  if (before) c.before = Compact(*before);
  if (after) c.after = Compact(*after);
  const std::string quoted = "'" + key + "'";
  if (!before) {
    c.kind = Kind::kSettingAdded;
    c.message = "setting added: " + quoted + " = " + Shown(c.after);
  } else if (!after) {
    c.kind = Kind::kSettingRemoved;
    c.message = "setting removed: " + quoted + " (was " + Shown(c.before) + ")";
  } else {
    c.kind = Kind::kSettingChanged;
    c.message = "setting changed: " + quoted + " " + Shown(c.before) + " -> " + Shown(c.after);
  }
  return c;
}

const Json* Member(const Json& object, const std::string& key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// A field other than roles, components, topics and env; objects on both
// sides are described member by member.
void DescribeField(const std::string& field, const Json* before, const Json* after, std::vector<SettingsChange>& out) {
  if (before && after && *before == *after) return;
  if (before && after && before->is_object() && after->is_object()) {
    for (const auto& [key, value] : before->items()) {
      const Json* other = Member(*after, key);
      if (!other || *other != value) out.push_back(FieldChange(field + "/" + key, &value, other));
    }
    for (const auto& [key, value] : after->items()) {
      if (!Member(*before, key)) out.push_back(FieldChange(field + "/" + key, nullptr, &value));
    }
    return;
  }
  out.push_back(FieldChange(field, before, after));
}

void DescribeRoles(const Json& before, const Json& after, std::vector<SettingsChange>& out) {
  static const Json kNone = Json::object();
  const Json* x = Member(before, "roles");
  const Json* y = Member(after, "roles");
  if (x && y && *x == *y) return;
  const Json& rx = x ? *x : kNone;
  const Json& ry = y ? *y : kNone;
  if (!rx.is_object() || !ry.is_object()) {
    SettingsChange c = FieldChange("roles", x, y);
    c.needs_admin = true;
    c.message += " (needs admin)";
    out.push_back(std::move(c));
    return;
  }
  for (const auto& [user, role] : rx.items()) {
    const Json* other = Member(ry, user);
    if (!other || *other != role) out.push_back(RoleChangeOf(user, &role, other));
  }
  for (const auto& [user, role] : ry.items()) {
    if (!Member(rx, user)) out.push_back(RoleChangeOf(user, nullptr, &role));
  }
}

void DescribeList(const Json& before, const Json& after, const char* field, std::string (*key_of)(const Json&),
                  const ListKinds& kinds, std::vector<SettingsChange>& out) {
  KeyedList x = ListByKey(before, field, key_of);
  KeyedList y = ListByKey(after, field, key_of);
  if (x.usable && y.usable) {
    DescribeKeyedList(x, y, kinds, out);
  } else {
    DescribeField(field, Member(before, field), Member(after, field), out);
  }
}

// ---- files -----------------------------------------------------------------

SettingsChange FileChange(const std::string& path, bool before, bool after) {
  SettingsChange c;
  c.key = path;
  const std::string quoted = "'" + path + "'";
  if (!before) {
    c.kind = Kind::kFileAdded;
    c.message = "file added: " + quoted;
  } else if (!after) {
    c.kind = Kind::kFileRemoved;
    c.message = "file removed: " + quoted;
  } else {
    c.kind = Kind::kFileChanged;
    c.message = "file changed: " + quoted;
  }
  return c;
}

std::optional<Json> ParseSettings(const Store& store, const std::optional<git_oid>& blob) {
  if (!blob) return Json::object();
  try {
    Json doc = ParseJson(store.ReadBlob(*blob), kSettingsPath);
    if (doc.is_object()) return doc;
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidData) throw;
  }
  return std::nullopt;
}

void DescribeSettingsFile(const Store& store, const std::optional<git_oid>& before, const std::optional<git_oid>& after,
                          std::vector<SettingsChange>& out) {
  const std::string path(kSettingsPath);
  auto x = ParseSettings(store, before);
  auto y = ParseSettings(store, after);
  if (!x || !y) {
    out.push_back(FileChange(path, true, true));
    out.back().message += " (not a valid json object)";
    return;
  }
  if (!before || !after) {
    out.push_back(FileChange(path, before.has_value(), after.has_value()));
    // Without the file the workspace is unmanaged: everyone is admin.
    out.back().needs_admin = !after;
  }
  std::size_t described = out.size();
  for (auto& c : DescribeSettingsDocuments(*x, *y)) out.push_back(std::move(c));
  if (out.size() == described) {
    // Other bytes, same settings (formatting): still a change to publish.
    out.push_back(FileChange(path, true, true));
    out.back().message += " (same settings, other formatting)";
  }
}

std::optional<git_oid> Find(const std::map<std::string, git_oid>& blobs, const std::string& path) {
  auto it = blobs.find(path);
  if (it == blobs.end()) return std::nullopt;
  return it->second;
}

// The files under .flowrepo/ of two commits and the paths that differ.
struct SettingsFiles {
  std::map<std::string, git_oid> before;
  std::map<std::string, git_oid> after;
  std::vector<std::string> changed;  ///< sorted
};

SettingsFiles CompareSettingsFiles(const Store& store, const git_oid& from, const git_oid& to) {
  SettingsFiles files;
  auto a = SettingsTreeOf(store, from);
  auto b = SettingsTreeOf(store, to);
  if (a.has_value() == b.has_value() && (!a || git_oid_equal(&*a, &*b))) return files;
  files.before = SettingsBlobs(store, a);
  files.after = SettingsBlobs(store, b);
  for (const auto& [path, id] : files.before) {
    auto other = Find(files.after, path);
    if (!other || !git_oid_equal(&id, &*other)) files.changed.push_back(path);
  }
  for (const auto& [path, id] : files.after) {
    if (!files.before.count(path)) files.changed.push_back(path);
  }
  std::sort(files.changed.begin(), files.changed.end());
  return files;
}

}  // namespace

std::vector<SettingsChange> DescribeSettingsDocuments(const Json& before, const Json& after) {
  std::vector<SettingsChange> out;
  DescribeRoles(before, after, out);
  DescribeList(before, after, "components", ComponentKey,
               {Kind::kComponentAdded, Kind::kComponentChanged, Kind::kComponentRemoved, "component"}, out);
  DescribeList(before, after, "topics", NameKey, {Kind::kTopicAdded, Kind::kTopicChanged, Kind::kTopicRemoved, "topic"},
               out);
  DescribeList(before, after, "env", NameKey,
               {Kind::kSettingAdded, Kind::kSettingChanged, Kind::kSettingRemoved, "env default"}, out);
  std::set<std::string> fields;
  for (const Json* doc : {&before, &after}) {
    for (const auto& [key, value] : doc->items()) fields.insert(key);
  }
  for (const auto& field : fields) {
    if (field == "roles" || field == "components" || field == "topics" || field == "env") continue;
    const std::size_t first = out.size();
    DescribeField(field, Member(before, field), Member(after, field), out);
    if (field != kExportRoleField) continue;
    for (std::size_t i = first; i < out.size(); ++i) {  // who may take flows out is an admin's call
      out[i].needs_admin = true;
      out[i].message += " (needs admin)";
    }
  }
  return out;
}

std::vector<std::string> ChangedSettingsPaths(const Store& store, const git_oid& from, const git_oid& to) {
  return CompareSettingsFiles(store, from, to).changed;
}

std::vector<SettingsChange> DescribeSettingsChanges(const Store& store, const git_oid& from, const git_oid& to) {
  SettingsFiles files = CompareSettingsFiles(store, from, to);
  std::vector<SettingsChange> out;
  // The settings document first: it holds roles.
  const std::string settings_path(kSettingsPath);
  for (const auto& path : files.changed) {
    if (path == settings_path) {
      DescribeSettingsFile(store, Find(files.before, path), Find(files.after, path), out);
    }
  }
  for (const auto& path : files.changed) {
    if (path != settings_path) {
      out.push_back(FileChange(path, files.before.count(path) > 0, files.after.count(path) > 0));
    }
  }
  return out;
}

bool NeedsAdmin(const std::vector<SettingsChange>& changes) {
  return std::any_of(changes.begin(), changes.end(), [](const SettingsChange& c) { return c.needs_admin; });
}

}  // namespace flowrepo
