#include "cli/cli.h"
#include "flowrepo/package.h"

namespace flowrepo::cli {
namespace {

// "--draft D [FLOW]", or the old spelling "DRAFT [FLOW]".
void TakeDraftAndFlow(BindRequest& request, const std::vector<std::string>& words) {
  if (!request.draft.empty()) {
    if (words.size() > 1) throw Error(ErrorCode::kInvalidArgument, "bind takes one FLOW; the draft is --draft");
    if (!words.empty()) request.flow = words[0];
    return;
  }
  request.draft = DraftGiven("bind", "", words.empty() ? "" : words[0]);
  if (words.size() > 1) request.flow = words[1];
}

}  // namespace

void AddBindCommand(CLI::App& app, Globals& g) {
  static BindRequest request;
  static std::vector<std::string> credentials, secrets, types, words;
  auto* cmd = app.add_subcommand(
      "bind",
      "Bind credentials to nodes and references to secret variables of a flow on a draft\n"
      "(imports leave them unbound, and publish refuses a flow with an unbound one).\n"
      "--type binds every unbound node needing that type of credential, in FLOW or, without\n"
      "FLOW, in every flow the draft changes. 'flowrepo draft show DRAFT --unbound' lists them.\n"
      "Example: flowrepo bind banking-assistant -d import-export --credential accounts=core-banking-prod\n"
      "         flowrepo bind banking-assistant -d import-export --secret CORE_BANKING_KEY=vault:prod/core/key\n"
      "         flowrepo bind -d n8n-import --type slackApi=team-slack --type httpBasicAuth=intranet");
  AddDraftOption(cmd, request.draft, "draft holding the flows");
  // Before --draft, the draft came first ("bind DRAFT FLOW"): one release more.
  cmd->add_option("FLOW", words, "flow id (needed by --credential and --secret)")->expected(0, 2);
  cmd->add_option("--credential", credentials, "NODE=CREDENTIAL (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--type", types, "TYPE=CREDENTIAL: every unbound node needing TYPE (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--secret", secrets, "VARIABLE=REFERENCE of a secret variable (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    auto repo = OpenRepository(g);
    request.workspace = g.workspace;
    TakeDraftAndFlow(request, words);
    // A key given twice takes the last value, as options usually do.
    auto add = [](std::map<std::string, std::string>& to, const std::vector<std::string>& given, const char* option,
                  const char* shape) {
      for (const auto& text : given) {
        auto [key, value] = SplitPair(text, option, shape);
        to[key] = value;
      }
    };
    add(request.credentials, credentials, "--credential", "NODE=CREDENTIAL");
    add(request.types, types, "--type", "TYPE=CREDENTIAL");
    add(request.secrets, secrets, "--secret", "VARIABLE=REFERENCE");
    WriteResult r = BindCredentials(repo, request);
    Emit(
        g, [&] { return ToJson(r); },
        [&](std::ostream& os) {
          os << "Bound "
             << (request.flow.empty() ? std::to_string(r.flows.size()) + " flow(s)" : "'" + request.flow + "'")
             << " on draft '" << r.draft.name << "' at " << r.draft.commit.substr(0, 7) << "\n";
          for (const auto& [node, credential] : request.credentials) os << "  " << node << " -> " << credential << "\n";
          for (const auto& [type, credential] : request.types) os << "  " << type << " -> " << credential << "\n";
          for (const auto& [name, ref] : request.secrets) os << "  " << name << " -> " << ref << "\n";
          PrintPublishHint(os, g, r.draft.workspace, r.draft.name);
        });
  });
}

}  // namespace flowrepo::cli
