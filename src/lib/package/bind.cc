// Binding what imports leave unbound: credentials of nodes (by node, or by
// credential type across a draft) and references of secret variables; and
// listing what is still unbound on a draft.

#include <algorithm>

#include "escape.h"
#include "flow/format.h"
#include "flowrepo/error.h"
#include "flowrepo/package.h"
#include "json/json_io.h"
#include "package/manifest.h"
#include "repo/repository_impl.h"
#include "validate/secrets.h"

namespace flowrepo {
namespace {

// Whether \a value may be written as a binding: printable ASCII without
// spaces, quotes or backslashes, at most 200 bytes.
bool PrintableBinding(const std::string& value) {
  return !value.empty() && value.size() <= 200 && std::all_of(value.begin(), value.end(), [](char ch) {
    return ch > 0x20 && ch < 0x7f && ch != '"' && ch != '\\';
  });
}

// Why \a credential (for \a what) cannot be bound; empty when it can.
std::string CredentialProblem(const std::string& credential, const std::string& what) {
  if (!PrintableBinding(credential)) return "invalid credential name for " + what;
  if (!DetectSecret("credential", credential).empty()) {
    return "the credential for " + what + " looks like a secret value; bind a credential's name";
  }
  return "";
}

// A flow's documents parsed for binding.
struct BindableFlow {
  Flow flow;
  std::string format_name;
  const FlowFormat* format = nullptr;
  Json def;
  Json env;

  bool NodeRed() const { return format_name == "node-red"; }
  /// Secret variables (the array in env), or null.
  Json* Variables() {
    return env.is_object() && env.contains("variables") && env["variables"].is_array() ? &env["variables"] : nullptr;
  }
};

BindableFlow ParseBindable(Flow flow) {
  BindableFlow b;
  const std::string base = flow.summary.path() + "/";
  Json app = ParseJson(flow.app_definition, base + std::string(kAppDefinitionFile));
  b.def = ParseJson(flow.flow_definition, base + std::string(kFlowDefinitionFile));
  b.env = flow.env_variables.empty() ? Json{{"variables", Json::array()}}
                                     : ParseJson(flow.env_variables, base + std::string(kEnvVariablesFile));
  b.format_name = StringOr(app, "format", std::string(kNativeFormat));
  b.format = FindFormat(b.format_name);
  if (!b.format) {
    throw Error(ErrorCode::kInvalidData,
                base + std::string(kAppDefinitionFile) + ": unknown flow format '" + b.format_name + "'");
  }
  b.flow = std::move(flow);
  return b;
}

// Binds \a credentials (node -> credential) into \a b; refusals go to
// \a errors.
void BindNodes(const std::map<std::string, std::string>& credentials, BindableFlow& b,
               std::vector<std::string>& errors) {
  if (credentials.empty()) return;
  const std::string& id = b.flow.summary.id;
  if (b.NodeRed()) {
    throw Error(ErrorCode::kInvalidArgument, "flow '" + id +
                                                 "' is a node-red flow: its config nodes get their "
                                                 "credentials in the node-red runtime; nothing to bind");
  }
  FlowFacts facts = b.format->Facts(b.def);
  std::vector<std::string> needing;
  for (const auto& c : facts.credentials) needing.push_back(c.node);
  for (const auto& [node, credential] : credentials) {
    if (std::string why = CredentialProblem(credential, "node '" + node + "'"); !why.empty()) {
      errors.push_back(why);
      continue;
    }
    // Structured bindings cannot be captured before C++20 in clang 14.
    const std::string& wanted = node;
    auto it = std::find_if(facts.credentials.begin(), facts.credentials.end(),
                           [&wanted](const CredentialUse& c) { return c.node == wanted; });
    if (it == facts.credentials.end()) {
      errors.push_back(
          "node '" + node + "' of flow '" + id + "' needs no credential" +
          (needing.empty() ? std::string(" (no node does)") : " (nodes that do: " + Quoted(needing) + ")"));
      continue;
    }
    b.def[Json::json_pointer(it->pointer)] = credential;
  }
}

// The nodes of \a b that need a credential and have none (node-red
// flows: none, their config nodes get credentials in the runtime).
std::vector<UnboundNode> UnboundNodes(const BindableFlow& b) {
  std::vector<UnboundNode> out;
  if (b.NodeRed()) return out;
  for (const auto& use : b.format->Facts(b.def).credentials) {
    if (use.binding.empty()) out.push_back({use.node, use.type, use.pointer});
  }
  return out;
}

// Binds each of \a unbound (nodes of \a b) whose credential type \a types
// names, unless \a by_node names the node itself; counts the nodes bound
// per type in \a bound. Returns whether any was.
bool BindTypes(const std::map<std::string, std::string>& types, const std::map<std::string, std::string>& by_node,
               const std::vector<UnboundNode>& unbound, BindableFlow& b, std::map<std::string, int>& bound) {
  bool any = false;
  for (const auto& node : unbound) {
    auto it = types.find(node.type);
    if (it == types.end() || by_node.count(node.node)) continue;
    b.def[Json::json_pointer(node.pointer)] = it->second;
    ++bound[node.type];
    any = true;
  }
  return any;
}

// Binds \a secrets (variable -> reference) into \a b; refusals go to
// \a errors.
void BindSecrets(const std::map<std::string, std::string>& secrets, BindableFlow& b, std::vector<std::string>& errors) {
  std::vector<std::string> secret_names;
  Json* vars = b.Variables();
  if (vars) {
    for (const auto& var : *vars) {
      if (IsTrue(var, "secret")) secret_names.push_back(StringOr(var, "name"));
    }
  }
  for (const auto& [name, ref] : secrets) {
    if (!PrintableBinding(ref)) {
      errors.push_back("invalid secret reference for variable '" + Printable(name) + "'");
      continue;
    }
    // Under a secret's name, whatever is not a reference and looks like a
    // secret (a password, a token) is refused.
    if (!DetectSecret("secret", ref).empty()) {
      errors.push_back("the reference for variable '" + Printable(name) +
                       "' looks like a secret value; bind where the secret is kept (vault:..., op://...)");
      continue;
    }
    Json* target = nullptr;
    if (vars) {
      for (auto& var : *vars) {
        if (StringOr(var, "name") == name && IsTrue(var, "secret")) target = &var;
      }
    }
    if (!target) {
      errors.push_back(
          "flow '" + b.flow.summary.id + "' has no secret variable '" + Printable(name) + "'" +
          (secret_names.empty() ? std::string(" (it has none)") : " (it has " + Quoted(secret_names) + ")"));
      continue;
    }
    (*target)["ref"] = ref;
  }
}

// The flows a bind request works on: the one named, or every flow the
// draft changes and keeps.
std::vector<std::string> FlowsToBind(const FlowRepository& repo, const BindRequest& request) {
  if (!request.flow.empty()) return {request.flow};
  DraftInfo draft = repo.ShowDraft(request.workspace, request.draft);
  std::vector<std::string> ids;
  std::set_difference(draft.changed_flows.begin(), draft.changed_flows.end(), draft.removed_flows.begin(),
                      draft.removed_flows.end(), std::back_inserter(ids));
  return ids;
}

void RequireSomethingToBind(const BindRequest& request) {
  if (request.credentials.empty() && request.secrets.empty() && request.types.empty()) {
    throw Error(ErrorCode::kInvalidArgument,
                "nothing to bind: pass --credential NODE=CREDENTIAL, --type TYPE=CREDENTIAL or "
                "--secret VARIABLE=REFERENCE");
  }
  if (request.flow.empty() && (!request.credentials.empty() || !request.secrets.empty())) {
    throw Error(ErrorCode::kInvalidArgument,
                "--credential and --secret bind one flow: name it (bind FLOW --draft DRAFT)");
  }
  for (const auto& [type, credential] : request.types) {
    if (std::string why = CredentialProblem(credential, "type '" + type + "'"); !why.empty()) {
      throw Error(ErrorCode::kInvalidArgument, why);
    }
  }
}

// A type the request names that no unbound node needed: a typo, or bound
// already. Names the types that are unbound, to help.
std::string UnusedTypeProblem(const std::string& type, const BindRequest& request, const std::set<std::string>& seen) {
  std::vector<std::string> unbound(seen.begin(), seen.end());
  return "no unbound node needs a '" + type + "' credential in " +
         (request.flow.empty() ? "the flows draft '" + request.draft + "' changes" : "flow '" + request.flow + "'") +
         (unbound.empty() ? std::string(" (none is unbound)") : " (unbound types: " + Quoted(unbound) + ")");
}

}  // namespace

WriteResult BindCredentials(FlowRepository& repo, const BindRequest& request) {
  FlowRepository::Impl& impl = ImplOf(repo);
  impl.RequireRole(request.workspace, Role::kIntegrator);
  RequireDraftName(request.draft);
  if (!request.flow.empty()) RequireId(request.flow, "flow id");
  RequireSomethingToBind(request);
  auto head = impl.store.ReadRef(DraftRef(request.workspace, request.draft));
  if (!head) throw Error(ErrorCode::kNotFound, "draft '" + request.draft + "' not found");

  std::vector<std::string> errors;
  std::map<std::string, int> bound_by_type;
  std::set<std::string> unbound_types;  // before binding, for messages
  std::vector<Flow> changed;
  for (const std::string& id : FlowsToBind(repo, request)) {
    BindableFlow b = ParseBindable(impl.FlowAt(*head, id, "draft '" + request.draft + "'"));
    const std::vector<UnboundNode> unbound = UnboundNodes(b);
    for (const auto& node : unbound) unbound_types.insert(node.type);
    BindNodes(request.credentials, b, errors);
    const bool typed = BindTypes(request.types, request.credentials, unbound, b, bound_by_type);
    BindSecrets(request.secrets, b, errors);
    if (!request.credentials.empty() || typed) b.flow.flow_definition = CanonicalJson(b.def);
    if (!request.secrets.empty()) b.flow.env_variables = CanonicalJson(b.env);
    if (!request.credentials.empty() || typed || !request.secrets.empty()) changed.push_back(std::move(b.flow));
  }
  for (const auto& [type, credential] : request.types) {
    if (!bound_by_type.count(type)) errors.push_back(UnusedTypeProblem(type, request, unbound_types));
  }
  if (!errors.empty()) {
    throw Error(ErrorCode::kInvalidArgument,
                errors.size() == 1 ? errors[0] : std::to_string(errors.size()) + " bindings refused",
                errors.size() == 1 ? std::vector<std::string>{} : errors);
  }
  const bool secrets_only = request.credentials.empty() && request.types.empty();
  const char* action = secrets_only              ? "bind secrets of"
                       : request.secrets.empty() ? "bind credentials of"
                                                 : "bind credentials and secrets of";
  return repo.PutFlows(request.workspace, request.draft, std::move(changed), action,
                       FlowRepository::GroupChoice::kAsGiven);
}

std::vector<UnboundFlow> ListUnbound(const FlowRepository& repo, std::string_view workspace, std::string_view draft) {
  BindRequest request;
  request.workspace = std::string(workspace);
  request.draft = std::string(draft);
  const FlowRepository::Impl& impl = ImplOf(repo);
  std::vector<UnboundFlow> out;
  const std::vector<std::string> ids = FlowsToBind(repo, request);  // checks the role and the draft
  auto head = impl.store.ReadRef(DraftRef(workspace, draft));
  if (!head) throw Error(ErrorCode::kNotFound, "draft '" + std::string(draft) + "' not found");
  for (const std::string& id : ids) {
    BindableFlow b = ParseBindable(impl.FlowAt(*head, id, "draft '" + std::string(draft) + "'"));
    UnboundFlow flow{id, b.flow.summary.path(), UnboundNodes(b), {}};
    if (const Json* vars = b.Variables()) {
      for (const auto& var : *vars) {
        if (IsTrue(var, "secret") && StringOr(var, "ref").empty()) flow.secrets.push_back(StringOr(var, "name"));
      }
    }
    if (!flow.credentials.empty() || !flow.secrets.empty()) out.push_back(std::move(flow));
  }
  return out;
}

}  // namespace flowrepo
