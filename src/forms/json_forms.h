#ifndef FLOWREPO_FORMS_JSON_FORMS_H_
#define FLOWREPO_FORMS_JSON_FORMS_H_

// The JSON form of every result the front ends print: the command line's
// --json output and the HTTP API's bodies are the same documents, made
// here once (docs/server.md). Only the public API and nlohmann/json are
// used, so both shells may include it.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "flowrepo/access.h"
#include "flowrepo/error.h"
#include "flowrepo/history.h"
#include "flowrepo/package.h"
#include "flowrepo/repository.h"

namespace flowrepo::forms {

/// Keys keep the order they are written in, as scripts see them.
using Json = nlohmann::ordered_json;

/// Renames (old id, new id) as [{"from", "to"}].
Json RenamedJson(const std::vector<std::pair<std::string, std::string>>& renamed);
Json ToJson(const DraftInfo& d);
Json ToJson(const WriteResult& w);
Json ToJson(const FlowSummary& s);
Json ToJson(const Version& v);
/// {"kind", "key", "before", "after", "message", "needs_admin"}; before and
/// after are null when absent.
Json ToJson(const SettingsChange& c);
/// {"commit", "author", "time", "note", "renamed_to"}
Json ToJson(const Removal& r);
/// Settings changes as JSON: {"settings_changes": [...], "role_changes": bool}
/// merged into \a out.
void AddSettingsChanges(Json& out, const std::vector<SettingsChange>& changes);

/// {"name", "commit", "flows"}: one workspace as `workspace list` lists it.
Json ToJson(const WorkspaceInfo& ws);
/// The same with "completed_earlier_create": what `workspace create` made.
Json CreatedJson(const WorkspaceInfo& ws);
/// A flow's summary with "files": each document parsed, all of them or only
/// \a only_file when given (`flow show --file`).
Json FlowJson(const Flow& flow, const std::string& only_file = "");
/// {"workspace", "flow", "versions", "removed", "drafts", "ignored_tags"}
Json ToJson(const History& h);
/// "added", "removed", "changed".
const char* ChangeKindName(Change::Kind kind);
/// {"flow", "from", "to", "changes": [{"kind", "file", "pointer", "node"?,
/// "before"?, "after"?}]}: each side parsed when it is JSON.
Json ToJson(const FlowDiff& d);
Json ToJson(const PublishResult& r);
/// [{"user", "role"}]
Json RolesJson(const std::vector<RoleAssignment>& roles);
/// {"workspace", "commit", "changed", "roles"}
Json ToJson(const RoleChange& c);
Json ToJson(const PackageFlowInfo& f);
Json ToJson(const ExportResult& r);
Json ToJson(const ImportResult& r);
/// {"draft", "flows": [{"flow", "path", "credentials", "secrets"}], "types":
/// {type: count}}: what `draft show --unbound` lists.
Json UnboundJson(const std::string& draft, const std::vector<UnboundFlow>& flows);

/// {"error": {"code", "message", "details"?, "problems"?}}: how every
/// failure is reported to a script (the CLI's --json, every API error).
Json ErrorJson(const Error& e);

/// \a j as text: invalid UTF-8 quoted from hostile input is replaced,
/// never thrown on. Two-space indent, a final newline.
std::string Dump(const Json& j);

}  // namespace flowrepo::forms

#endif  // FLOWREPO_FORMS_JSON_FORMS_H_
