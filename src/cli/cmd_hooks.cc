#include <filesystem>
#include <iterator>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "flowrepo/hooks.h"

namespace flowrepo::cli {
namespace {

// The running binary, so installed hooks do not depend on PATH.
std::string SelfPath() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("flowrepo") : path.string();
}

}  // namespace

void AddHooksCommand(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("hooks", "Install flowrepo's git hooks.");
  cmd->require_subcommand(1);
  static bool server = false, force = false;
  auto* install =
      cmd->add_subcommand("install",
                          "Install hooks into the repository: pre-commit (validates staged flows and packages),\n"
                          "or with --server pre-receive (roles, validity, immutable version tags) into a shared\n"
                          "bare repository. The hooks call this flowrepo binary by its absolute path.\n"
                          "Example: flowrepo hooks install\n"
                          "         flowrepo -C /srv/git/flows.git hooks install --server");
  install->add_flag("--server", server, "install pre-receive for a shared server repository");
  install->add_flag("--force", force, "replace an existing different hook");
  AddJsonFlag(install, g);
  install->callback([&g] {
    auto paths = InstallHooks(g.repo, server ? HookSet::kServer : HookSet::kClient, SelfPath(),
                              force ? HookOverwrite::kYes : HookOverwrite::kNo);
    Emit(g, {{"installed", paths}}, [&](std::ostream& os) {
      for (const auto& p : paths) os << "Installed " << p << "\n";
    });
  });

  // Plumbing for hooks/pre-receive: reads "<old> <new> <ref>" lines.
  auto* hook = app.add_subcommand("hook",
                                  "Plumbing run by the installed hooks.\n"
                                  "Example: printf '%s %s %s\\n' OLD NEW refs/heads/main | flowrepo hook pre-receive");
  hook->group("");  // hidden from the top-level help
  hook->require_subcommand(1);
  auto* receive =
      hook->add_subcommand("pre-receive",
                           "Check pushed ref updates (stdin: <old> <new> <ref> lines) against roles, validity and\n"
                           "version tags; exit 1 refusing the push. User: GL_USERNAME, GL_USER or REMOTE_USER as\n"
                           "the server authenticated it; --user / FLOWREPO_USER only where the server repository\n"
                           "has git config flowrepo.trustUserEnvironment true.\n"
                           "Example: flowrepo hook pre-receive < updates.txt");
  AddJsonFlag(receive, g);
  receive->callback([&g] {
    std::string input(std::istreambuf_iterator<char>(std::cin), {});
    auto updates = ParseRefUpdates(input);
    std::string user = PushingUser(g.repo, g.user);
    ReceiveReport report = CheckReceive(g.repo, user, updates);
    Json refs = Json::array();
    int refused = 0;
    for (const auto& r : report.refs) {
      refs.push_back({{"ref", r.ref}, {"accepted", r.accepted}, {"reasons", r.reasons}});
      if (!r.accepted) ++refused;
    }
    Emit(g, {{"user", report.user}, {"ok", report.ok()}, {"refs", refs}}, [&](std::ostream&) {
      for (const auto& r : report.refs) {
        for (const auto& reason : r.reasons) std::cerr << "flowrepo: " << r.ref << ": " << reason << "\n";
      }
      if (refused) {
        std::cerr << "flowrepo: push refused: " << refused << " of " << report.refs.size()
                  << " ref update(s) not allowed for "
                  << (user.empty() ? std::string("an unknown user") : "'" + user + "'") << "\n";
      }
    });
    if (!report.ok()) g.exit_code = kExitCheckFailed;
  });
}

}  // namespace flowrepo::cli
