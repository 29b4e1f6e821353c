// Writes of workspace settings onto drafts: components, topics and env
// defaults added or removed in .flowrepo/workspace.json, and the role
// needed to export; published like flows.

#include <algorithm>
#include <functional>

#include "flow/names.h"
#include "flowrepo/error.h"
#include "json/json_io.h"
#include "repo/repository_impl.h"
#include "validate/secrets.h"

namespace flowrepo {
namespace {

const char* ListKey(SettingsList list) { return list == SettingsList::kComponents ? "components" : "topics"; }
const char* ItemName(SettingsList list) { return list == SettingsList::kComponents ? "component" : "topic"; }

// The name an entry of the list stands for: "name@version" or "name" for
// components, the topic's name for topics.
std::string EntryName(SettingsList list, const Json& entry) {
  if (entry.is_string()) return entry.get<std::string>();
  if (!entry.is_object()) return "";
  const std::string name = StringOr(entry, "name");
  const std::string version = list == SettingsList::kComponents ? StringOr(entry, "version") : "";
  return version.empty() || name.empty() ? name : name + "@" + version;
}

// The entry written for \a name: components as {"name", "visibility"}
// with the name as given ("http@1", "n8n:@scope/pkg.node": an '@' is not
// always a version), topics as strings.
Json NewEntry(SettingsList list, const std::string& name) {
  if (list == SettingsList::kTopics) return name;
  return {{"name", name}, {"visibility", "public"}};
}

// A name a settings list can hold: 1 to 1,000 bytes without control
// characters (Node-RED types have spaces: "link in"); a '*' only at the
// end of a component (a prefix: "n8n:*").
void RequireItemName(SettingsList list, const std::string& name) {
  const bool printable = !name.empty() && name.size() <= 1000 && std::none_of(name.begin(), name.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  const auto star = name.find('*');
  const bool stars = star == std::string::npos || (list == SettingsList::kComponents && star + 1 == name.size());
  if (!printable || !stars) {
    throw Error(ErrorCode::kInvalidArgument, std::string("invalid ") + ItemName(list) + " name '" + name + "'");
  }
}

// \a doc's list with \a add appended and \a remove taken out; throws on
// an added name already listed or a removed one not listed.
void EditList(SettingsList list, Json& doc, const std::vector<std::string>& add, const std::vector<std::string>& remove,
              const std::string& where) {
  Json& entries = doc[ListKey(list)];
  if (!entries.is_array()) entries = Json::array();
  std::vector<std::string> listed;
  for (const auto& e : entries) listed.push_back(EntryName(list, e));
  for (const auto& name : remove) {
    auto it = std::find(listed.begin(), listed.end(), name);
    if (it == listed.end()) {
      const std::string hint = ClosestName(name, listed);
      throw Error(ErrorCode::kNotFound, std::string(ItemName(list)) + " '" + name + "' is not listed in " + where +
                                            (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
    entries.erase(entries.begin() + (it - listed.begin()));
    listed.erase(it);
  }
  for (const auto& name : add) {
    if (std::find(listed.begin(), listed.end(), name) != listed.end()) {
      throw Error(ErrorCode::kAlreadyExists,
                  std::string(ItemName(list)) + " '" + name + "' is already listed in " + where);
    }
    entries.push_back(NewEntry(list, name));
    listed.push_back(name);
  }
}

std::string Describe(SettingsList list, const std::vector<std::string>& add, const std::vector<std::string>& remove) {
  std::string subject = std::string(add.empty()      ? "Remove "
                                    : remove.empty() ? "Declare "
                                                     : "Change ") +
                        std::to_string(add.size() + remove.size()) + " " + ItemName(list) + "(s)\n\n";
  for (const auto& name : add) subject += "+ " + name + "\n";
  for (const auto& name : remove) subject += "- " + name + "\n";
  return subject;
}

// Commits the settings of \a draft (or of the workspace head for a new
// draft) as \a edit changes them; \a edit gets "draft 'd'" or
// "workspace 'ws'" for its messages.
WriteResult WriteSettings(FlowRepository::Impl& impl, std::string_view ws, std::string_view draft,
                          const std::function<void(Json&, const std::string&)>& edit, const std::string& message) {
  const DraftTarget target = impl.OpenDraft(ws, draft);
  Json doc = WorkspaceSettings::AtCommit(impl.store, target.parent).document;
  if (!doc.is_object()) doc = Json::object();
  if (!doc.contains("schema")) doc["schema"] = kSettingsSchema;
  edit(doc, target.head ? "draft '" + std::string(draft) + "'" : "workspace '" + std::string(ws) + "'");
  TreeEdits edits;
  edits[std::string(kSettingsPath)] = TreeEntry{impl.store.WriteBlob(CanonicalJson(doc)), GIT_FILEMODE_BLOB};
  return impl.CommitToDraft(ws, draft, std::move(edits), message, {});
}

WorkspaceSettings SettingsAt(const FlowRepository::Impl& impl, std::string_view ws, std::string_view at) {
  const git_oid commit = at.empty() ? impl.WorkspaceHead(ws) : impl.ResolveRevision(ws, "", at);
  return WorkspaceSettings::AtCommit(impl.store, commit);
}

// ---- env defaults ----------------------------------------------------------

constexpr const char* kEnvField = "env";

// Env variable names as shells and runtimes take them.
bool IsEnvName(const std::string& name) {
  auto head = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  return !name.empty() && name.size() <= 200 && head(name[0]) &&
         std::all_of(name.begin(), name.end(), [&](char c) { return head(c) || (c >= '0' && c <= '9'); });
}

void RequireEnvDefault(const EnvDefault& d) {
  if (!IsEnvName(d.name)) throw Error(ErrorCode::kInvalidArgument, "invalid env variable name '" + d.name + "'");
  const std::string who = "env default '" + d.name + "'";
  if (d.secret) {
    if (!d.value.empty()) {
      throw Error(ErrorCode::kInvalidArgument, who + " is secret: give where it is kept, not its value");
    }
    if (d.ref.empty() || d.ref.size() > 1000) {
      throw Error(ErrorCode::kInvalidArgument, who + " is secret and needs a reference (vault:..., op://...)");
    }
  }
  // A secret's reference, or a plain value, that looks like a secret itself
  // would put one in git for every clone to keep.
  const std::string shown = d.secret ? d.ref : d.value;
  if (!DetectSecret(d.secret ? "secret" : d.name, shown).empty()) {
    throw Error(ErrorCode::kInvalidArgument,
                who + (d.secret ? "'s reference" : "'s value") +
                    " looks like a secret value; give where the secret is kept with --secret NAME=REFERENCE");
  }
}

Json EnvEntry(const EnvDefault& d) {
  if (d.secret) return {{"name", d.name}, {"secret", true}, {"ref", d.ref}};
  return {{"name", d.name}, {"value", d.value}};
}

EnvDefault EnvDefaultOf(const Json& entry) {
  return {StringOr(entry, "name"), StringOr(entry, "value"), IsTrue(entry, "secret"), StringOr(entry, "ref")};
}

void EditEnv(Json& doc, const std::vector<EnvDefault>& set, const std::vector<std::string>& remove,
             const std::string& where) {
  Json& entries = doc[kEnvField];
  if (!entries.is_array()) entries = Json::array();
  auto find = [&](const std::string& name) {
    return std::find_if(entries.begin(), entries.end(),
                        [&](const Json& e) { return e.is_object() && StringOr(e, "name") == name; });
  };
  for (const auto& name : remove) {
    auto it = find(name);
    if (it == entries.end()) {
      std::vector<std::string> names;
      for (const auto& e : entries) names.push_back(StringOr(e, "name"));
      const std::string hint = ClosestName(name, names);
      throw Error(ErrorCode::kNotFound, "env default '" + name + "' is not set in " + where +
                                            (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
    entries.erase(it);
  }
  for (const auto& d : set) {
    auto it = find(d.name);
    if (it == entries.end()) {
      entries.push_back(EnvEntry(d));
    } else {
      *it = EnvEntry(d);
    }
  }
}

}  // namespace

WriteResult FlowRepository::Impl::EditSettingsList(std::string_view ws, std::string_view draft, SettingsList list,
                                                   const std::vector<std::string>& add,
                                                   const std::vector<std::string>& remove) {
  if (add.empty() && remove.empty()) throw Error(ErrorCode::kInvalidArgument, "nothing to change");
  for (const auto* names : {&add, &remove}) {
    for (const auto& name : *names) RequireItemName(list, name);
  }
  return WriteSettings(
      *this, ws, draft, [&](Json& doc, const std::string& where) { EditList(list, doc, add, remove, where); },
      Describe(list, add, remove));
}

WriteResult FlowRepository::EditSettings(std::string_view workspace, std::string_view draft, SettingsList list,
                                         const std::vector<std::string>& add, const std::vector<std::string>& remove) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  RequireDraftName(draft);
  return impl_->EditSettingsList(workspace, draft, list, add, remove);
}

std::vector<std::string> FlowRepository::ListSettings(std::string_view workspace, SettingsList list,
                                                      std::string_view at) const {
  impl_->RequireRole(workspace, Role::kViewer);
  const WorkspaceSettings settings = SettingsAt(*impl_, workspace, at);
  std::vector<std::string> out;
  for (const auto& e : settings.document.value(ListKey(list), Json::array())) {
    if (std::string name = EntryName(list, e); !name.empty()) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

WriteResult FlowRepository::EditEnvDefaults(std::string_view workspace, std::string_view draft,
                                            const std::vector<EnvDefault>& set,
                                            const std::vector<std::string>& remove) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  RequireDraftName(draft);
  if (set.empty() && remove.empty()) throw Error(ErrorCode::kInvalidArgument, "nothing to change");
  std::set<std::string> named;
  for (const auto& d : set) {
    RequireEnvDefault(d);
    if (!named.insert(d.name).second)
      throw Error(ErrorCode::kInvalidArgument, "env default '" + d.name + "' given twice");
  }
  for (const auto& name : remove) {
    if (!named.insert(name).second) throw Error(ErrorCode::kInvalidArgument, "env default '" + name + "' given twice");
  }
  std::string message = "Set " + std::to_string(set.size() + remove.size()) + " env default(s)\n\n";
  for (const auto& d : set) message += "= " + d.name + "\n";  // values stay out of the log
  for (const auto& name : remove) message += "- " + name + "\n";
  return WriteSettings(
      *impl_, workspace, draft, [&](Json& doc, const std::string& where) { EditEnv(doc, set, remove, where); },
      message);
}

std::vector<EnvDefault> FlowRepository::ListEnvDefaults(std::string_view workspace, std::string_view at) const {
  impl_->RequireRole(workspace, Role::kViewer);
  std::vector<EnvDefault> out;
  for (const auto& e : SettingsAt(*impl_, workspace, at).document.value(kEnvField, Json::array())) {
    if (e.is_object()) out.push_back(EnvDefaultOf(e));
  }
  std::sort(out.begin(), out.end(), [](const EnvDefault& a, const EnvDefault& b) { return a.name < b.name; });
  return out;
}

WriteResult FlowRepository::SetExportRole(std::string_view workspace, std::string_view draft, Role role) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  RequireDraftName(draft);
  return WriteSettings(
      *impl_, workspace, draft, [&](Json& doc, const std::string&) { doc[kExportRoleField] = RoleName(role); },
      std::string("Export needs the ") + RoleName(role) + " role");
}

Role FlowRepository::ExportRole(std::string_view workspace, std::string_view at) const {
  impl_->RequireRole(workspace, Role::kViewer);
  return SettingsAt(*impl_, workspace, at).ExportRole();
}

}  // namespace flowrepo
