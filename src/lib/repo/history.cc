// History, diff and revert of one flow.

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "flow/format.h"
#include "flowrepo/error.h"
#include "json/json_io.h"
#include "repo/repository_impl.h"
#include "repo/trailers.h"

namespace flowrepo {
namespace {

// Whether \a commit's message has the whole line \a line.
bool HasLine(const git_commit* commit, const std::string& line) {
  std::string_view message = git_commit_message(commit);
  if (message.substr(0, line.size() + 1) == line + "\n") return true;
  return message.find("\n" + line + "\n") != std::string_view::npos;
}

// The body of a publish commit without its "Flowrepo-" trailers.
std::string PublishNote(const git_commit* commit) {
  const char* raw = git_commit_body(const_cast<git_commit*>(commit));
  std::string body = raw ? raw : "";
  std::string note;
  std::size_t at = 0;
  while (at < body.size()) {
    std::size_t end = body.find('\n', at);
    if (end == std::string::npos) end = body.size();
    std::string line = body.substr(at, end - at);
    if (line.rfind("Flowrepo-", 0) != 0) note += line + "\n";
    at = end + 1;
  }
  while (!note.empty() && (note.back() == '\n' || note.back() == ' ')) note.pop_back();
  return note;
}

// Commits walked before asking whether the flow still exists at all.
constexpr int kWalkBeforeLookup = 64;

// The publishes onto \a ws that removed \a flow after its latest version
// (\a versions: newest first), newest first: commit messages from the
// workspace head back to that version's commit. A living flow has none (a
// flow published again has a newer version), so a long walk first looks
// the flow up at the head and stops when it is there; the history of a
// recently published flow reads a few commits and no tree.
std::vector<Removal> RemovalsSinceLatestVersion(const FlowRepository::Impl& impl, std::string_view ws,
                                                std::string_view flow, const std::vector<Version>& versions) {
  std::vector<Removal> out;
  if (versions.empty()) return out;
  const git_oid head = impl.WorkspaceHead(ws);
  const git_oid stop = git::OidFromHex(versions.front().commit);
  const std::string removed_line = "Flowrepo-Removed: " + std::string(flow);
  const std::string workspace_line = "Flowrepo-Workspace: " + std::string(ws);
  git_oid current = head;
  for (int walked = 1; !git_oid_equal(&current, &stop); ++walked) {
    if (walked == kWalkBeforeLookup && out.empty() && impl.FlowsAt(head).count(std::string(flow))) break;
    git::CommitPtr commit = impl.store.LookupCommit(current);
    if (HasLine(commit.get(), removed_line) && HasLine(commit.get(), workspace_line)) {
      const git_signature* author = git_commit_author(commit.get());
      out.push_back({git::OidHex(current), author->email, author->when.time, PublishNote(commit.get()), ""});
      for (const auto& [from, to] : ReadPublishTrailers(commit.get()).renamed) {
        if (from == flow) out.back().renamed_to = to;
      }
    }
    if (git_commit_parentcount(commit.get()) == 0) break;
    current = *git_commit_parent_id(commit.get(), 0);
  }
  return out;
}

}  // namespace

namespace {

// The backed versions of \a flow in \a ws, newest first; tags named like
// versions that no publish backs go to \a ignored.
std::vector<Version> VersionsOf(const FlowRepository::Impl& impl, std::string_view ws, std::string_view flow,
                                std::vector<std::string>& ignored) {
  std::vector<Version> versions;
  for (const VersionTag& version_tag : impl.VersionTagsOf(ws, flow)) {
    if (!version_tag.backed) {
      ignored.push_back(version_tag.ref.substr(std::string_view("refs/tags/").size()));
      continue;
    }
    Version v{std::string(flow), version_tag.number, version_tag.ref};
    v.commit = git::OidHex(*version_tag.commit);
    git_tag* raw = nullptr;
    if (git_tag_lookup(&raw, impl.store.raw(), &version_tag.target) == 0) {
      git::TagPtr tag(raw);
      if (const git_signature* s = git_tag_tagger(tag.get())) {
        v.author = s->email;
        v.time = s->when.time;
      }
      std::string note = git_tag_message(tag.get()) ? git_tag_message(tag.get()) : "";
      while (!note.empty() && note.back() == '\n') note.pop_back();
      v.note = note;
    }  // else a lightweight tag made by hand: no tagger, no note
    versions.push_back(std::move(v));
  }
  std::reverse(versions.begin(), versions.end());
  return versions;
}

}  // namespace

History FlowRepository::FlowHistory(std::string_view workspace, std::string_view flow) const {
  impl_->RequireRole(workspace, Role::kViewer);
  RequireId(flow, "flow id");
  History history;
  history.workspace = std::string(workspace);
  history.flow = std::string(flow);
  history.versions = VersionsOf(*impl_, workspace, flow, history.ignored_tags);
  // A flow renamed at its first version here goes on from the old id's
  // versions: they are its history too (Version::flow names the old id).
  std::set<std::string> seen = {std::string(flow)};
  while (!history.versions.empty()) {
    const Version& first = history.versions.back();
    git::CommitPtr commit = impl_->store.LookupCommit(git::OidFromHex(first.commit));
    // A publish of many flows has a trailer each: parse only one that renames.
    const std::string_view message = git_commit_message(commit.get()) ? git_commit_message(commit.get()) : "";
    if (message.find(kRenamedTrailer) == std::string_view::npos) break;
    const std::string from = ReadPublishTrailers(commit.get()).RenamedFrom(first.flow);
    if (from.empty() || !seen.insert(from).second) break;
    const int below = first.number;
    std::vector<Version> earlier = VersionsOf(*impl_, workspace, from, history.ignored_tags);
    std::erase_if(earlier, [below](const Version& v) { return v.number >= below; });
    if (earlier.empty()) break;
    history.versions.insert(history.versions.end(), earlier.begin(), earlier.end());
  }
  const std::string prefix = DraftRefPrefix(workspace);
  git_oid ws_head = impl_->WorkspaceHead(workspace);
  Store& store = impl_->store;
  for (const auto& [ref, head] : store.ListRefs(prefix + "*")) {
    auto base = store.MergeBase(head, ws_head);
    if (!base) continue;
    for (const auto& change : impl_->ChangedFlows(*base, head)) {
      if (change.id == flow) history.drafts.push_back(ref.substr(prefix.size()));
    }
  }
  if (history.versions.empty() && history.drafts.empty()) {
    // A flow that exists but was never published has an empty history.
    impl_->FlowAt(ws_head, flow, "workspace '" + std::string(workspace) + "'");
  }
  history.removed = RemovalsSinceLatestVersion(*impl_, workspace, flow, history.versions);
  return history;
}

std::map<std::string, std::vector<int>> FlowRepository::ListVersions(std::string_view workspace) const {
  impl_->RequireRole(workspace, Role::kViewer);
  return impl_->BackedVersionNumbers(workspace);
}

namespace {

std::string Compact(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

void AddPatch(const Json& before, const Json& after, const std::string& file, const std::string& node,
              const std::string& prefix, std::vector<Change>& out) {
  for (const auto& op : Json::diff(before, after)) {
    std::string path = op["path"].get<std::string>();
    std::string kind = op["op"].get<std::string>();
    Change c;
    c.file = file;
    c.node = node;
    c.pointer = prefix + path;
    Json::json_pointer ptr(path);
    if (kind == "add") {
      c.kind = Change::Kind::kAdded;
      c.after = Compact(op["value"]);
    } else if (kind == "remove") {
      c.kind = Change::Kind::kRemoved;
      c.before = Compact(before.at(ptr));
    } else {
      c.kind = Change::Kind::kChanged;
      c.before = Compact(before.at(ptr));
      c.after = Compact(op["value"]);
    }
    out.push_back(std::move(c));
  }
}

// Arrays whose items have a natural key diff better as objects keyed by it:
// an inserted edge or variable is then one addition, not a shifted list.
// The pointers this yields ("/edges/a->b", "/variables/API_URL") name the
// item rather than its position.
Json KeyedForDiff(Json doc) {
  auto rekey = [](Json& list, const std::function<std::string(const Json&)>& key) {
    if (!list.is_array()) return;
    Json keyed = Json::object();
    for (auto& item : list) {
      std::string k = item.is_object() ? key(item) : std::string();
      if (k.empty() || keyed.contains(k)) return;  // no unique key: leave as is
      keyed[k] = item;
    }
    list = std::move(keyed);
  };
  if (!doc.is_object()) return doc;
  if (doc.contains("edges")) {
    rekey(doc["edges"], [](const Json& e) {
      std::string k = StringOr(e, "from") + "->" + StringOr(e, "to");
      std::string when = StringOr(e, "when");
      return when.empty() ? k : k + "[" + when + "]";
    });
  }
  if (doc.contains("variables")) rekey(doc["variables"], [](const Json& v) { return StringOr(v, "name"); });
  for (const char* list : {"inputs", "outputs"}) {
    if (doc.contains(list)) rekey(doc[list], [](const Json& v) { return StringOr(v, "name"); });
  }
  return doc;
}

Json ParseOrNull(const std::string& text, const std::string& file) {
  if (text.empty()) return Json();
  return ParseJson(text, file);
}

// Node-by-node changes of a definition: nodes matched by key, then the
// rest of the document as a JSON patch.
void DiffDefinition(const Flow& a, const Flow& b, std::vector<Change>& out) {
  const std::string file(kFlowDefinitionFile);
  Json x = ParseOrNull(a.flow_definition, a.summary.path() + "/" + file);
  Json y = ParseOrNull(b.flow_definition, b.summary.path() + "/" + file);
  const FlowFormat* fx = FindFormat(a.summary.format);
  const FlowFormat* fy = FindFormat(b.summary.format);
  if (!fx || fx != fy) {
    AddPatch(x, y, file, "", "", out);
    return;
  }
  auto nodes_x = fx->Facts(x).nodes;
  auto nodes_y = fy->Facts(y).nodes;
  std::map<std::string, std::string> at_x, at_y;
  for (const auto& n : nodes_x) at_x.emplace(n.key, n.pointer);
  for (const auto& n : nodes_y) at_y.emplace(n.key, n.pointer);
  // Strip nodes from copies so the remainder diff shows only non-node parts.
  Json rest_x = x, rest_y = y;
  auto blank = [](Json& doc, const std::vector<NodeEntry>& nodes) {
    for (const auto& n : nodes) doc[Json::json_pointer(n.pointer)] = nullptr;
  };
  blank(rest_x, nodes_x);
  blank(rest_y, nodes_y);
  for (const auto& [key, px] : at_x) {
    auto it = at_y.find(key);
    const Json& nx = x.at(Json::json_pointer(px));
    if (it == at_y.end()) {
      out.push_back({Change::Kind::kRemoved, file, key, px, Compact(nx), ""});
      continue;
    }
    const Json& ny = y.at(Json::json_pointer(it->second));
    if (nx != ny) AddPatch(nx, ny, file, key, it->second, out);
  }
  for (const auto& [key, py] : at_y) {
    if (!at_x.count(key)) {
      out.push_back({Change::Kind::kAdded, file, key, py, "", Compact(y.at(Json::json_pointer(py)))});
    }
  }
  // Node positions do not matter once nodes are matched by key: drop the
  // blanked slots from the arrays that held nodes.
  auto drop_blanked = [](Json& doc, const std::vector<NodeEntry>& nodes) {
    std::set<std::string> parents;
    for (const auto& n : nodes) parents.insert(n.pointer.substr(0, n.pointer.rfind('/')));
    for (const auto& parent : parents) {
      Json& list = doc[Json::json_pointer(parent)];
      if (!list.is_array()) continue;
      Json kept = Json::array();
      for (auto& n : list)
        if (!n.is_null()) kept.push_back(std::move(n));
      list = std::move(kept);
    }
  };
  drop_blanked(rest_x, nodes_x);
  drop_blanked(rest_y, nodes_y);
  if (rest_x != rest_y) AddPatch(KeyedForDiff(rest_x), KeyedForDiff(rest_y), file, "", "", out);
}

}  // namespace

FlowDiff FlowRepository::Diff(std::string_view workspace, std::string_view flow, std::string_view from,
                              std::string_view to) const {
  impl_->RequireRole(workspace, Role::kViewer);
  RequireId(flow, "flow id");
  auto read = [&](std::string_view rev) {
    git_oid commit = impl_->ResolveRevision(workspace, flow, rev);
    return impl_->FlowAt(commit, flow, "'" + std::string(rev) + "'");
  };
  Flow a = read(from);
  Flow b = read(to);
  FlowDiff diff{std::string(flow), std::string(from), std::string(to), {}};
  DiffDefinition(a, b, diff.changes);
  for (auto [file, x, y] : {std::tuple{kAppDefinitionFile, &a.app_definition, &b.app_definition},
                            std::tuple{kEnvVariablesFile, &a.env_variables, &b.env_variables}}) {
    std::string name(file);
    Json jx = ParseOrNull(*x, a.summary.path() + "/" + name);
    Json jy = ParseOrNull(*y, b.summary.path() + "/" + name);
    AddPatch(KeyedForDiff(jx), KeyedForDiff(jy), name, "", "", diff.changes);
  }
  if (a.summary.group != b.summary.group) {
    diff.changes.push_back({Change::Kind::kChanged, "", "", "(group)", a.summary.group, b.summary.group});
  }
  return diff;
}

WriteResult FlowRepository::Revert(std::string_view workspace, std::string_view flow, int version,
                                   std::string_view draft_name) {
  impl_->RequireRole(workspace, Role::kIntegrator);
  RequireId(flow, "flow id");
  std::string v = "v" + std::to_string(version);
  git_oid old_commit = impl_->VersionCommit(workspace, flow, version);
  auto old_flows = impl_->FlowsAt(old_commit);
  auto old = old_flows.find(std::string(flow));
  if (old == old_flows.end()) {
    throw Error(ErrorCode::kInternal, "version " + v + " of '" + std::string(flow) + "' does not contain the flow");
  }
  std::string draft = draft_name.empty() ? "revert-" + std::string(flow) + "-" + v : std::string(draft_name);
  DraftTarget target = impl_->OpenDraft(workspace, draft);
  auto current = impl_->FlowsAt(target.parent);
  TreeEdits edits;
  if (auto it = current.find(std::string(flow)); it != current.end()) {
    edits[it->second.path] = std::nullopt;
  }
  edits[old->second.path] = TreeEntry{old->second.tree, GIT_FILEMODE_TREE};
  std::string message =
      "Revert flow " + std::string(flow) + " to " + v + "\n\nFlowrepo-Revert-Of: " + git::OidHex(old_commit) + "\n";
  return impl_->CommitToDraft(workspace, draft, std::move(edits), message, {std::string(flow)});
}

}  // namespace flowrepo
