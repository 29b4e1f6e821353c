#ifndef FLOWREPO_CLI_CLI_H_
#define FLOWREPO_CLI_CLI_H_

// Shared pieces of the command line: global options, opening the
// repository, and printing results as text or JSON. Each cmd_<verb>.cc
// registers its subcommand with Add<Verb>Command.

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "flowrepo/error.h"
#include "flowrepo/repository.h"
#include "forms/arguments.h"
#include "forms/json_forms.h"

namespace flowrepo {
struct ImportResult;
}  // namespace flowrepo

namespace flowrepo::cli {

using Json = forms::Json;
// The JSON forms of results (src/forms/json_forms.h), shared with the server.
using forms::AddSettingsChanges;
using forms::ParseVersion;
using forms::RenamedJson;
using forms::ToJson;

struct Globals {
  std::string repo = ".";
  std::string user;
  std::string workspace = "main";
  bool json = false;
  int exit_code = 0;  ///< set by commands that report a failed check
};

/// Opens the repository named by --repo as the acting user.
FlowRepository OpenRepository(const Globals& g);

/// Prints \a result as JSON with --json, otherwise runs \a human.
void Emit(const Globals& g, const Json& result, const std::function<void(std::ostream&)>& human);
/// The same for results that grow with the repository: \a result is made
/// only for --json (at 100,000 flows the JSON is larger than the work).
void Emit(const Globals& g, const std::function<Json()>& result, const std::function<void(std::ostream&)>& human);

/// \a word quoted for a POSIX shell when it needs it.
std::string ShellWord(const std::string& word);
/// The command line that runs flowrepo \a args in \a workspace of this
/// repository: what follow-up hints print ("flowrepo -w prod publish d").
std::string Suggest(const Globals& g, std::string_view workspace, const std::string& args);

/// Adds "-d,--draft": how every command names the draft it writes on,
/// binds or publishes (the draft commands name theirs as their argument).
CLI::Option* AddDraftOption(CLI::App* cmd, std::string& draft, const std::string& help);
/// The draft of a command that took it as its first argument before
/// --draft existed: \a option when given, else \a positional with a
/// warning that the spelling goes away in the next release. Throws
/// kInvalidArgument naming the command when neither is given.
std::string DraftGiven(const std::string& command, const std::string& option, const std::string& positional);
/// A write onto a draft: "<what> on draft 'D' (new draft) at 1a2b3c4", the
/// first 20 of \a listed, and the publish hint; with --json, the result.
void PrintWrite(const Globals& g, const WriteResult& r, const std::string& what,
                const std::vector<std::string>& listed);
/// "Publish with: flowrepo ... publish --draft DRAFT", the hint after a
/// write onto a draft.
void PrintPublishHint(std::ostream& os, const Globals& g, std::string_view workspace, const std::string& draft);

/// "KEY=VALUE" given to \a option split in two; kInvalidArgument naming
/// \a shape ("NODE=CREDENTIAL") when either side is empty.
std::pair<std::string, std::string> SplitPair(const std::string& text, const char* option, const char* shape);

/// The revision \a spec names, as Diff and Revert take it: "vN", "latest"
/// or a ref or commit; empty when it names none (a plain "FLOW").
std::string RevisionOf(const FlowSpec& spec);
/// \a text given as a revision of flow \a flow: "REV" or "FLOW@REV" (the
/// same flow). Throws kInvalidArgument naming another flow.
std::string RevisionArgument(const std::string& flow, const std::string& text);

/// Adds the common --json flag to a subcommand.
void AddJsonFlag(CLI::App* cmd, Globals& g);

/// One indented line per settings change (terminal-safe).
void PrintSettingsChanges(std::ostream& os, const std::vector<SettingsChange>& changes);
std::string FormatTime(std::int64_t seconds);

void AddInitCommand(CLI::App& app, Globals& g);
void AddWorkspaceCommand(CLI::App& app, Globals& g);
void AddFlowCommand(CLI::App& app, Globals& g);
/// "flow add" (cmd_flow_add.cc), registered by AddFlowCommand.
void AddFlowAddCommand(CLI::App& flow, Globals& g);
void AddDraftCommand(CLI::App& app, Globals& g);
void AddCopyCommand(CLI::App& app, Globals& g);
void AddPublishCommand(CLI::App& app, Globals& g);
void AddHistoryCommand(CLI::App& app, Globals& g);
void AddDiffCommand(CLI::App& app, Globals& g);
void AddRevertCommand(CLI::App& app, Globals& g);
void AddValidateCommand(CLI::App& app, Globals& g);
void AddRoleCommand(CLI::App& app, Globals& g);
/// settings component|topic add|remove|list (cmd_settings.cc).
void AddSettingsCommand(CLI::App& app, Globals& g);
void AddHooksCommand(CLI::App& app, Globals& g);
void AddExportCommand(CLI::App& app, Globals& g);
void AddImportCommand(CLI::App& app, Globals& g);
void AddBindCommand(CLI::App& app, Globals& g);
void AddRepairCommand(CLI::App& app, Globals& g);
void AddCheckCommand(CLI::App& app, Globals& g);
/// clone, pull, push, status (cmd_remote.cc).
void AddRemoteCommands(CLI::App& app, Globals& g);
/// serve, serve token add|revoke|list (cmd_serve.cc).
void AddServeCommand(CLI::App& app, Globals& g);
/// Prints the server's lines on stderr after "remote: ", as git does.
ServerLineSink ServerLinePrinter();

/// Prints an import (or cross-workspace copy) result or plan.
void PrintImport(const Globals& g, const ImportResult& r);

}  // namespace flowrepo::cli

#endif  // FLOWREPO_CLI_CLI_H_
