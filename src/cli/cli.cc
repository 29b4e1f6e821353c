#include "cli/cli.h"

#include <cstdlib>
#include <ctime>

#include "cli/one_line.h"

namespace flowrepo::cli {

FlowRepository OpenRepository(const Globals& g) { return FlowRepository::Open(g.repo, g.user); }

void Emit(const Globals& g, const Json& result, const std::function<void(std::ostream&)>& human) {
  if (g.json) {
    // Invalid UTF-8 quoted from hostile input is replaced, never thrown on.
    std::cout << result.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
  } else {
    human(std::cout);
  }
}

void Emit(const Globals& g, const std::function<Json()>& result, const std::function<void(std::ostream&)>& human) {
  Emit(g, g.json ? result() : Json(), human);
}

std::string ShellWord(const std::string& word) {
  const bool plain = !word.empty() && word.find_first_not_of(
                                          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789@%+=:,./_-") == std::string::npos;
  if (plain) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string Suggest(const Globals& g, std::string_view workspace, const std::string& args) {
  std::string line = "flowrepo";
  if (g.repo != ".") line += " -C " + ShellWord(g.repo);
  // Without -w the workspace is $FLOWREPO_WORKSPACE, else main.
  const char* env = std::getenv("FLOWREPO_WORKSPACE");
  if (workspace != (env && *env ? env : "main")) line += " -w " + ShellWord(std::string(workspace));
  return line + " " + args;
}

CLI::Option* AddDraftOption(CLI::App* cmd, std::string& draft, const std::string& help) {
  return cmd->add_option("-d,--draft", draft, help);
}

std::string DraftGiven(const std::string& command, const std::string& option, const std::string& positional) {
  if (!option.empty() && !positional.empty() && option != positional) {
    throw Error(ErrorCode::kInvalidArgument,
                command + " names two drafts: '" + positional + "' and --draft '" + option + "'");
  }
  if (!option.empty()) return option;
  if (positional.empty()) throw Error(ErrorCode::kInvalidArgument, command + " needs --draft DRAFT");
  std::cerr << "flowrepo: warning: 'flowrepo " << command << " DRAFT' is the old spelling, which the next "
            << "release drops; write 'flowrepo " << command << " --draft " << ShellWord(positional) << "'\n";
  return positional;
}

void PrintWrite(const Globals& g, const WriteResult& r, const std::string& what,
                const std::vector<std::string>& listed) {
  Emit(
      g, [&] { return ToJson(r); },
      [&](std::ostream& os) {
        os << what << " on draft '" << r.draft.name << "'" << (r.created_draft ? " (new draft)" : "") << " at "
           << r.draft.commit.substr(0, 7) << "\n";
        constexpr std::size_t kShown = 20;
        for (std::size_t i = 0; i < listed.size() && i < kShown; ++i) os << "  " << OneLine(listed[i]) << "\n";
        if (listed.size() > kShown) os << "  ... and " << listed.size() - kShown << " more\n";
        PrintPublishHint(os, g, r.draft.workspace, r.draft.name);
      });
}

void PrintPublishHint(std::ostream& os, const Globals& g, std::string_view workspace, const std::string& draft) {
  os << "Publish with: " << Suggest(g, workspace, "publish --draft " + ShellWord(draft)) << "\n";
}

std::pair<std::string, std::string> SplitPair(const std::string& text, const char* option, const char* shape) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    throw Error(ErrorCode::kInvalidArgument, std::string("invalid ") + option + " '" + text + "': use " + shape);
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::string RevisionOf(const FlowSpec& spec) {
  return spec.version ? "v" + std::to_string(*spec.version) : spec.revision;
}

std::string RevisionArgument(const std::string& flow, const std::string& text) {
  if (text.find('@') == std::string::npos) return text;
  FlowSpec spec = ParseFlowSpec(text);
  if (spec.id != flow) {
    throw Error(ErrorCode::kInvalidArgument, "'" + text + "' names flow '" + spec.id + "', not '" + flow + "'");
  }
  return RevisionOf(spec);
}

void AddJsonFlag(CLI::App* cmd, Globals& g) { cmd->add_flag("--json", g.json, "machine-readable output on stdout"); }

void PrintSettingsChanges(std::ostream& os, const std::vector<SettingsChange>& changes) {
  for (const auto& c : changes) os << "  " << OneLine(c.message) << "\n";
}

std::string FormatTime(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

}  // namespace flowrepo::cli
