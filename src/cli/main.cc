// flowrepo: keep automation flows as code in git. The only catch site:
// every library Error becomes one line on stderr and its exit code.

#include <signal.h>

#include <cstdlib>
#include <iostream>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/one_line.h"
#include "flowrepo/cancel.h"
#include "flowrepo/error.h"
#include "flowrepo/validation.h"

namespace flowrepo::cli {
namespace {

void PrintError(const Globals& g, const Error& e) {
  // Messages may quote hostile bytes (invalid UTF-8): Dump never throws.
  if (g.json) std::cout << forms::Dump(forms::ErrorJson(e));
  std::cerr << "flowrepo: error: " << OneLine(e.what()) << "\n";
  for (const auto& d : e.details()) std::cerr << "  " << OneLine(d) << "\n";
}

// Whether --json is among the arguments: a command line that fails to
// parse has not set it yet.
bool JsonRequested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--json") return true;
  }
  return false;
}

// What a command line that failed to parse gets told: CLI11's message,
// or, when a word is no subcommand of the deepest command given ("pubish",
// "flow lst"), that word and the closest subcommand.
std::string ParseErrorMessage(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App* deepest = &app;
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (const CLI::App* sub : deepest->get_subcommands()) {
      deepest = sub;
      deeper = true;
      break;
    }
  }
  const std::vector<std::string> left = app.remaining(true);  // unparsed words, at any level
  const std::vector<const CLI::App*> subcommands = deepest->get_subcommands({});
  if (left.empty() || subcommands.empty() || left.front().rfind('-', 0) == 0) return e.what();
  std::vector<std::string> names;
  for (const CLI::App* sub : subcommands) names.push_back(sub->get_name());
  const std::string hint = ClosestName(left.front(), names);
  const std::string command = deepest == &app ? "flowrepo" : "flowrepo " + deepest->get_name();
  return "'" + OneLine(left.front()) + "' is not a " + command + " command" +
         (hint.empty() ? "" : "; did you mean '" + hint + "'?");
}

// Ctrl-C and SIGTERM stop the command at its next safe point instead of
// killing it while it holds a ref lock.
void InstallSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = [](int) { RequestCancel(); };
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int Run(int argc, char** argv) {
  InstallSignalHandlers();
  CLI::App app{
      "flowrepo: automation flows as code in git.\n"
      "Published flows live on a workspace branch with a version tag per flow;\n"
      "changes are made on drafts and published.\n\n"
      "Example:\n"
      "  flowrepo init demo && cd demo\n"
      "  flowrepo flow new hello --name \"Hello\" --group Demo\n"
      "  flowrepo publish --draft hello -m \"first version\"\n"
      "  flowrepo history hello",
      "flowrepo"};
  app.require_subcommand(1);
  app.fallthrough();
  // The same version packages record in their manifest's tool.version.
  app.set_version_flag("--version", "flowrepo " FLOWREPO_VERSION);
  Globals g;
  if (const char* ws = std::getenv("FLOWREPO_WORKSPACE")) g.workspace = ws;
  app.add_option("-C,--repo", g.repo, "repository directory (default: current)");
  app.add_option("-u,--user", g.user, "acting user (default: $FLOWREPO_USER, git user.email)")
      ->envname("FLOWREPO_USER");
  app.add_option("-w,--workspace", g.workspace, "workspace (default: main, $FLOWREPO_WORKSPACE)");
  app.add_flag("--json", g.json, "machine-readable output on stdout");
  std::size_t max_json_depth = kDefaultMaxJsonDepth;
  app.add_option("--max-json-depth", max_json_depth,
                 "limit: nesting of JSON documents read (default 128, $FLOWREPO_MAX_JSON_DEPTH)")
      ->envname("FLOWREPO_MAX_JSON_DEPTH");
  // Before any command runs, so that every read of the process uses it.
  app.parse_complete_callback([&max_json_depth] { SetMaxJsonDepth(max_json_depth); });

  AddInitCommand(app, g);
  AddWorkspaceCommand(app, g);
  AddFlowCommand(app, g);
  AddDraftCommand(app, g);
  AddCopyCommand(app, g);
  AddPublishCommand(app, g);
  AddHistoryCommand(app, g);
  AddDiffCommand(app, g);
  AddRevertCommand(app, g);
  AddValidateCommand(app, g);
  AddRoleCommand(app, g);
  AddSettingsCommand(app, g);
  AddHooksCommand(app, g);
  AddExportCommand(app, g);
  AddImportCommand(app, g);
  AddBindCommand(app, g);
  AddRepairCommand(app, g);
  AddCheckCommand(app, g);
  AddRemoteCommands(app, g);
  AddServeCommand(app, g);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print as CLI11 does; a command line that does
    // not parse is an error like any other, in JSON when asked for.
    if (e.get_exit_code() == 0) return app.exit(e) == 0 ? kExitOk : kExitUsage;
    g.json = JsonRequested(argc, argv);
    PrintError(g, Error(ErrorCode::kInvalidArgument, ParseErrorMessage(app, e)));
    if (!g.json) std::cerr << "Run with --help for more information.\n";
    return kExitUsage;
  } catch (const Error& e) {
    PrintError(g, e);
    return ExitCodeFor(e.code());
  } catch (const std::bad_alloc&) {
    PrintError(g, Error(ErrorCode::kIo, "out of memory"));
    return kExitIo;
  } catch (const std::exception& e) {
    PrintError(g, Error(ErrorCode::kInternal, std::string("internal error: ") + e.what()));
    return kExitInternal;
  }
  return g.exit_code;
}

}  // namespace
}  // namespace flowrepo::cli

int main(int argc, char** argv) { return flowrepo::cli::Run(argc, argv); }
