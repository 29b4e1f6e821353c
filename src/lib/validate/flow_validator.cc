#include "validate/flow_validator.h"

#include "flow/names.h"
#include "flowrepo/error.h"
#include "validate/secrets.h"

namespace flowrepo {

Problem NameClashProblem(const NameClash& clash) { return {"flows/" + clash.path, "", "name-clash", clash.Message()}; }

namespace {

std::optional<Json> ParseDocument(const std::string& text, const std::string& file, std::vector<Problem>& problems,
                                  const JsonLimits& limits = JsonLimits()) {
  if (text.empty()) {
    problems.push_back({file, "", "schema", "required file is missing or empty"});
    return std::nullopt;
  }
  try {
    return ParseJson(text, file, limits);
  } catch (const Error& e) {
    std::string message = e.what();
    if (message.rfind(file + ": ", 0) == 0) message = message.substr(file.size() + 2);
    problems.push_back({file, "", "json", message});
    return std::nullopt;
  }
}

// The variables of a flow's env_variables.json, or the env defaults of
// the workspace settings: \a base is their array's pointer.
void CheckVariables(const Json& vars, const std::string& file, const std::string& base,
                    std::vector<Problem>& problems) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < vars.size(); ++i) {
    std::string at = base + "/" + std::to_string(i);
    std::string name = StringOr(vars[i], "name");
    if (name.empty()) {
      problems.push_back({file, at + "/name", "schema", "variable has no string 'name'"});
      continue;
    }
    if (!names.insert(name).second) {
      problems.push_back({file, at + "/name", "duplicate-variable", "variable '" + name + "' is defined twice"});
    }
    if (vars[i].contains("secret") && !vars[i]["secret"].is_boolean()) {
      problems.push_back({file, at + "/secret", "schema", "'secret' of variable '" + name + "' must be true or false"});
    }
    if (IsTrue(vars[i], "secret") && vars[i].contains("value")) {
      problems.push_back({file, at + "/value", "secret-value",
                          "secret variable '" + name + "' holds a value; store a reference in 'ref'"});
    }
  }
}

void CheckEnv(const Json& env, const std::string& file, std::vector<Problem>& problems) {
  if (!env.is_object() || !env.contains("variables") || !env["variables"].is_array()) {
    problems.push_back({file, "/variables", "schema", "required array 'variables' is missing"});
    return;
  }
  CheckVariables(env["variables"], file, "/variables", problems);
}

}  // namespace

namespace {

// The app definition's own checks; sets parsed.format when it is known.
void CheckApp(ParsedFlow& parsed, const std::string& file, std::vector<Problem>& problems) {
  const Json& app = parsed.app;
  if (!app.is_object()) {
    problems.push_back({file, "", "schema", "app definition must be a JSON object"});
    return;
  }
  std::string id = StringOr(app, "id");
  if (id != parsed.summary.id) {
    problems.push_back(
        {file, "/id", "app-id", "id '" + id + "' does not match the flow folder '" + parsed.summary.id + "'"});
  }
  const std::string name = StringOr(app, "name");
  if (name.empty()) {
    problems.push_back({file, "/name", "schema", "required string 'name' is missing"});
  } else if (std::string why = DisplayNameProblem(name); !why.empty()) {
    problems.push_back({file, "/name", "name", "name " + why});
  }
  std::string format = StringOr(app, "format", std::string(kNativeFormat));
  parsed.format = FindFormat(format);
  if (!parsed.format) {
    problems.push_back({file, "/format", "format", "unknown flow format '" + format + "'"});
  }
}

void CheckSummary(const FlowSummary& summary, std::vector<Problem>& problems) {
  if (!IsValidId(summary.id)) {
    problems.push_back(
        {summary.path(), "", "flow-id",
         "invalid flow id '" + summary.id + "': use 1-64 characters a-z 0-9 . _ - starting with a letter or digit"});
  }
  if (std::string why = GroupProblem(summary.group); !why.empty()) {
    problems.push_back({summary.path(), "", "group", "invalid group '" + summary.group + "': " + why});
  }
}

void CheckParsed(const ParsedFlow& parsed, const ValidationContext& context, std::vector<Problem>& problems);

}  // namespace

std::optional<ParsedFlow> ParseFlow(const Flow& flow, std::vector<Problem>& problems, const JsonLimits& limits) {
  const std::string base = flow.summary.path() + "/";
  const std::size_t before = problems.size();
  ParsedFlow parsed;
  parsed.summary = flow.summary;
  auto app = ParseDocument(flow.app_definition, base + std::string(kAppDefinitionFile), problems, limits);
  auto def = ParseDocument(flow.flow_definition, base + std::string(kFlowDefinitionFile), problems, limits);
  std::optional<Json> env = Json{{"variables", Json::array()}};
  if (!flow.env_variables.empty()) {
    env = ParseDocument(flow.env_variables, base + std::string(kEnvVariablesFile), problems, limits);
  }
  if (app) {
    parsed.app = std::move(*app);
    CheckApp(parsed, base + std::string(kAppDefinitionFile), problems);
  }
  if (problems.size() != before || !app || !def || !env) return std::nullopt;
  parsed.definition = std::move(*def);
  parsed.env = std::move(*env);
  return parsed;
}

namespace {

// Problems name what a user wrote (group and flow ids in paths, keys in
// pointers, node names in messages): a secret there is masked.
std::vector<Problem> Masked(std::vector<Problem> problems) {
  for (auto& p : problems) MaskSecrets(p);
  return problems;
}

}  // namespace

std::vector<Problem> ValidateFlow(const Flow& flow, const ValidationContext& context, const JsonLimits& limits) {
  std::vector<Problem> problems;
  CheckSummary(flow.summary, problems);
  auto parsed = ParseFlow(flow, problems, limits);
  if (parsed) CheckParsed(*parsed, context, problems);
  return Masked(std::move(problems));
}

std::vector<Problem> ValidateParsedFlow(ParsedFlow& parsed, const ValidationContext& context) {
  std::vector<Problem> problems;
  CheckSummary(parsed.summary, problems);
  const std::size_t before = problems.size();
  CheckApp(parsed, parsed.summary.path() + "/" + std::string(kAppDefinitionFile), problems);
  if (problems.size() == before) CheckParsed(parsed, context, problems);
  return Masked(std::move(problems));
}

namespace {

void CheckParsed(const ParsedFlow& parsed, const ValidationContext& context, std::vector<Problem>& problems) {
  const std::string base = parsed.summary.path() + "/";
  const std::string def_file = base + std::string(kFlowDefinitionFile);
  parsed.format->Check(parsed.definition, def_file, problems);
  CheckEnv(parsed.env, base + std::string(kEnvVariablesFile), problems);
  ScanSecrets(parsed.definition, def_file, problems);
  ScanSecrets(parsed.app, base + std::string(kAppDefinitionFile), problems);
  ScanSecrets(parsed.env, base + std::string(kEnvVariablesFile), problems);

  FlowFacts facts = parsed.format->Facts(parsed.definition);
  ResolveReferences(parsed.app, facts);
  if (context.flow_exists) {
    for (const auto& ref : facts.subflows) {
      if (ref.flow.empty()) continue;  // a foreign reference outside the repository
      if (!context.flow_exists(ref.flow)) {
        problems.push_back({def_file, ref.pointer, "missing-subflow",
                            "node '" + ref.node + "' uses flow '" + ref.flow + "', which does not exist"});
      }
    }
  }
  if (context.available) {
    auto where = [](const std::map<std::string, std::string>& pointers, const std::string& name) {
      auto it = pointers.find(name);
      return it == pointers.end() ? std::string() : it->second;
    };
    for (const auto& c : facts.components) {
      if (!context.available->HasComponent(c)) {
        problems.push_back({def_file, where(facts.component_pointers, c), "missing-component",
                            "component '" + c + "' is not available in the workspace"});
      }
    }
    // A workspace that lists no topics does not manage them: any topic is
    // available. Once it lists one, every topic used must be listed.
    const std::set<std::string>& topics = context.available->Topics();
    if (!topics.empty()) {
      for (const auto& t : facts.topics) {
        if (!topics.count(t)) {
          problems.push_back({def_file, where(facts.topic_pointers, t), "missing-topic",
                              "topic '" + t + "' is not available in the workspace"});
        }
      }
    }
  }
  if (context.credentials == CredentialPolicy::kRequireBound) {
    // A secret variable holds a reference to where the secret is kept; an
    // import leaves it without one (a package never supplies it).
    const Json& env = parsed.env;
    if (env.is_object() && env.contains("variables") && env["variables"].is_array()) {
      const Json& vars = env["variables"];
      for (std::size_t i = 0; i < vars.size(); ++i) {
        if (!IsTrue(vars[i], "secret") || !StringOr(vars[i], "ref").empty()) continue;
        const std::string name = StringOr(vars[i], "name");
        problems.push_back({base + std::string(kEnvVariablesFile), "/variables/" + std::to_string(i), "unbound-secret",
                            "secret variable '" + name + "' has no reference; bind one with 'flowrepo bind " +
                                parsed.summary.id + " --draft DRAFT --secret " + name + "=REFERENCE'"});
      }
    }
    for (const auto& c : facts.credentials) {
      if (c.binding.empty()) {
        problems.push_back(
            {def_file, c.pointer, "unbound-credential",
             "node '" + c.node + "' needs a '" + c.type + "' credential; bind one with 'flowrepo bind'"});
      }
    }
  }
}

}  // namespace

void ValidateSettingsDocument(const std::string& text, const std::string& file, std::vector<Problem>& problems) {
  auto doc = ParseDocument(text, file, problems);
  if (!doc) return;
  if (!doc->is_object()) {
    problems.push_back({file, "", "schema", "workspace settings must be a JSON object"});
    return;
  }
  if (doc->contains("schema") && (*doc)["schema"] != kSettingsSchema) {
    problems.push_back(
        {file, "/schema", "schema", "unknown settings schema; expected '" + std::string(kSettingsSchema) + "'"});
  }
  for (const char* list : {"components", "topics"}) {
    if (!doc->contains(list)) continue;
    const Json& items = (*doc)[list];
    if (!items.is_array()) {
      problems.push_back({file, std::string("/") + list, "schema", std::string(list) + " must be an array"});
      continue;
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      const Json& item = items[i];
      bool ok = item.is_string() ? !item.get_ref<const std::string&>().empty()
                                 : item.is_object() && !StringOr(item, "name").empty();
      if (!ok) {
        problems.push_back({file, std::string("/") + list + "/" + std::to_string(i), "schema",
                            "entry must be a non-empty string or an object with a 'name'"});
      }
    }
  }
  if (doc->contains("roles")) {
    const Json& roles = (*doc)["roles"];
    if (!roles.is_object()) {
      problems.push_back({file, "/roles", "schema", "roles must be an object of user -> role"});
    } else {
      for (const auto& [user, role] : roles.items()) {
        std::string at = "/roles/";
        for (char c : user) at += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
        if (user.empty()) {
          problems.push_back({file, at, "role", "empty user name"});
        } else if (!role.is_string() || !ParseRole(role.get<std::string>())) {
          problems.push_back(
              {file, at, "role", "user '" + user + "' has an unknown role; use viewer, integrator or admin"});
        }
      }
    }
  }
  if (auto env = doc->find("env"); env != doc->end()) {
    if (env->is_array()) {
      CheckVariables(*env, file, "/env", problems);
    } else {
      problems.push_back({file, "/env", "schema", "env must be an array of variables"});
    }
  }
  if (auto role = doc->find(kExportRoleField); role != doc->end()) {
    if (!role->is_string() || !ParseRole(role->get<std::string>())) {
      problems.push_back({file, std::string("/") + kExportRoleField, "role",
                          std::string(kExportRoleField) + " must be viewer, integrator or admin"});
    }
  }
  ScanSecrets(*doc, file, problems);
}

}  // namespace flowrepo
