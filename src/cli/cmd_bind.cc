#include "cli/cli.h"
#include "flowrepo/package.h"

namespace flowrepo::cli {

void AddBindCommand(CLI::App& app, Globals& g) {
  static BindRequest request;
  static std::vector<std::string> credentials, secrets;
  auto* cmd = app.add_subcommand(
      "bind",
      "Bind credentials to nodes and references to secret variables of a flow on a draft\n"
      "(imports leave them unbound, and publish refuses a flow with an unbound one).\n"
      "Example: flowrepo bind import-export banking-assistant --credential accounts=core-banking-prod\n"
      "         flowrepo bind import-export banking-assistant --secret CORE_BANKING_KEY=vault:prod/core/key");
  cmd->add_option("DRAFT", request.draft, "draft holding the flow")->required();
  cmd->add_option("FLOW", request.flow, "flow id")->required();
  cmd->add_option("--credential", credentials, "NODE=CREDENTIAL (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--secret", secrets, "VARIABLE=REFERENCE of a secret variable (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    auto repo = OpenRepository(g);
    request.workspace = g.workspace;
    for (const auto& c : credentials) {
      auto eq = c.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == c.size()) {
        throw Error(ErrorCode::kInvalidArgument, "invalid --credential '" + c + "': use NODE=CREDENTIAL");
      }
      std::string node = c.substr(0, eq), credential = c.substr(eq + 1);
      request.credentials[node] = credential;
    }
    for (const auto& c : secrets) {
      auto eq = c.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == c.size()) {
        throw Error(ErrorCode::kInvalidArgument, "invalid --secret '" + c + "': use VARIABLE=REFERENCE");
      }
      request.secrets[c.substr(0, eq)] = c.substr(eq + 1);
    }
    WriteResult r = BindCredentials(repo, request);
    Emit(
        g, [&] { return ToJson(r); },
        [&](std::ostream& os) {
          os << "Bound " << request.credentials.size() << " credential(s) and " << request.secrets.size()
             << " secret reference(s) of '" << request.flow << "' on draft '" << r.draft.name << "' at "
             << r.draft.commit.substr(0, 7) << "\n";
          for (const auto& [node, credential] : request.credentials) {
            os << "  " << node << " -> " << credential << "\n";
          }
          for (const auto& [name, ref] : request.secrets) os << "  " << name << " -> " << ref << "\n";
          os << "Publish with: " << Suggest(g, r.draft.workspace, "publish " + r.draft.name) << "\n";
        });
  });
}

}  // namespace flowrepo::cli
