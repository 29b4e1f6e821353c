// Writes of workspace settings onto drafts: components and topics added or
// removed in .flowrepo/workspace.json, published like flows.

#include <algorithm>

#include "flow/names.h"
#include "flowrepo/error.h"
#include "json/json_io.h"
#include "repo/repository_impl.h"

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

}  // namespace

WriteResult FlowRepository::Impl::EditSettingsList(std::string_view ws, std::string_view draft, SettingsList list,
                                                   const std::vector<std::string>& add,
                                                   const std::vector<std::string>& remove) {
  if (add.empty() && remove.empty()) throw Error(ErrorCode::kInvalidArgument, "nothing to change");
  for (const auto* names : {&add, &remove}) {
    for (const auto& name : *names) RequireItemName(list, name);
  }
  const DraftTarget target = OpenDraft(ws, draft);
  Json doc = WorkspaceSettings::AtCommit(store, target.parent).document;
  if (!doc.is_object()) doc = Json::object();
  if (!doc.contains("schema")) doc["schema"] = kSettingsSchema;
  EditList(list, doc, add, remove,
           target.head ? "draft '" + std::string(draft) + "'" : "workspace '" + std::string(ws) + "'");
  TreeEdits edits;
  edits[std::string(kSettingsPath)] = TreeEntry{store.WriteBlob(CanonicalJson(doc)), GIT_FILEMODE_BLOB};
  return CommitToDraft(ws, draft, std::move(edits), Describe(list, add, remove), {});
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
  const git_oid commit = at.empty() ? impl_->WorkspaceHead(workspace) : impl_->ResolveRevision(workspace, "", at);
  const WorkspaceSettings settings = WorkspaceSettings::AtCommit(impl_->store, commit);
  std::vector<std::string> out;
  for (const auto& e : settings.document.value(ListKey(list), Json::array())) {
    if (std::string name = EntryName(list, e); !name.empty()) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace flowrepo
