// clone, pull, push, status: working with the team's server (docs/teams.md).

#include "cli/cli.h"
#include "cli/one_line.h"

namespace flowrepo::cli {
namespace {

// The directory `git clone` would pick: the URL's last part without ".git".
std::string DefaultCloneDir(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  std::string last = url.substr(url.find_last_of("/:") + 1);
  if (last.size() > 4 && last.compare(last.size() - 4, 4, ".git") == 0) last.resize(last.size() - 4);
  return last.empty() ? "flows" : last;
}

Json ToJson(const PullChange& c) {
  return {{"ref", c.ref},
          {"what", c.what},
          {"before", c.before.empty() ? Json() : Json(c.before)},
          {"after", c.after.empty() ? Json() : Json(c.after)},
          {"detail", c.detail.empty() ? Json() : Json(c.detail)}};
}

void PrintChange(std::ostream& os, const PullChange& c) {
  const std::string name = c.ref.substr(std::string_view("refs/heads/").size());
  if (c.what == "up-to-date") return;
  if (c.what == "unpublished-to-draft") {
    os << "  " << name << ": local commits the server never got are now draft '" << c.detail
       << "' (publish it to make them versions)\n";
  } else if (c.what == "rebased") {
    os << "  " << name << ": started on those changes; now one commit on draft '" << c.detail << "'\n";
  } else if (c.what == "removed-published") {
    os << "  " << name << ": published on the server, removed here\n";
  } else if (c.what == "local-ahead") {
    os << "  " << name << ": has commits the server lacks (flowrepo push shares them)\n";
  } else if (c.what == "diverged") {
    os << "  " << name << ": differs from the server's copy; left as is\n";
  } else {
    os << "  " << name << ": " << c.what << (c.after.empty() ? "" : " to " + c.after.substr(0, 7)) << "\n";
  }
}

void AddCloneCommand(CLI::App& app, Globals& g) {
  static std::string url, dir;
  auto* cmd = app.add_subcommand("clone",
                                 "Clone a team's server repository: every workspace branch (each with the server as\n"
                                 "its upstream, so publish lands there), every version tag and shared draft.\n"
                                 "Credentials come from git: credential helpers for HTTPS, ssh-agent or ~/.ssh keys\n"
                                 "and known_hosts for SSH, GIT_SSL_CAINFO or http.sslCAInfo for a private CA.\n"
                                 "Example: flowrepo clone https://git.example.com/flows.git");
  cmd->add_option("URL", url, "server repository (https://, ssh://, git://, file:// or a path)")->required();
  cmd->add_option("DIR", dir, "directory to create (default: the URL's last part)");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    const std::string target = dir.empty() ? DefaultCloneDir(url) : dir;
    FlowRepository repo = FlowRepository::Clone(url, target, g.user, ServerLinePrinter());
    Json workspaces = Json::array();
    for (const auto& ws : repo.ListWorkspaces()) workspaces.push_back({{"name", ws.name}, {"flows", ws.flow_count}});
    Emit(g, {{"directory", target}, {"workspaces", workspaces}}, [&](std::ostream& os) {
      os << "Cloned " << url << " into " << target << ":";
      for (const auto& ws : workspaces) os << " " << ws["name"].get<std::string>() << " (" << ws["flows"] << " flows)";
      os << "\n";
    });
  });
}

void AddPullCommand(CLI::App& app, Globals& g) {
  static std::string remote;
  auto* cmd =
      app.add_subcommand("pull",
                         "Fetch the server's workspaces, version tags and shared drafts, and bring this clone\n"
                         "to them: workspaces fast-forward (with their work trees), shared drafts are created\n"
                         "or fast-forwarded, drafts the server published are removed. A publish made here that\n"
                         "never reached the server becomes a draft again (the server decides version numbers);\n"
                         "its local tags are kept under refs/flowrepo/set-aside-tags/.\n"
                         "Example: flowrepo pull");
  cmd->add_option("--remote", remote, "remote to pull from (default: origin)");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    auto repo = OpenRepository(g);
    PullReport r = repo.Pull(remote, ServerLinePrinter());
    Json changes = Json::array();
    for (const auto& c : r.changes) changes.push_back(ToJson(c));
    Emit(g,
         {{"remote", r.remote},
          {"changes", changes},
          {"tags_added", r.tags_added},
          {"tags_set_aside", r.tags_set_aside}},
         [&](std::ostream& os) {
           os << "Pulled from " << r.remote << "\n";
           for (const auto& c : r.changes) PrintChange(os, c);
           if (!r.tags_added.empty()) os << "  " << r.tags_added.size() << " version tag(s) from the server\n";
           for (const auto& t : r.tags_set_aside) {
             os << "  tag " << t << " set aside: the server decides that number\n";
           }
         });
  });
}

void AddPushCommand(CLI::App& app, Globals& g) {
  static std::string draft, old_draft;
  auto* cmd = app.add_subcommand("push",
                                 "Share a draft on the server as drafts/<workspace>/<name>, so teammates can pull it\n"
                                 "and an admin can publish it. Publishing needs no push: publish lands on the server.\n"
                                 "Example: flowrepo push --draft q3-changes");
  AddDraftOption(cmd, draft, "draft to share");
  cmd->add_option("DRAFT", old_draft)->group("");  // the old spelling, for one release
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    draft = DraftGiven("push", draft, old_draft);
    auto repo = OpenRepository(g);
    std::string remote = repo.PushDraft(g.workspace, draft, ServerLinePrinter());
    Emit(g, {{"draft", draft}, {"remote", remote}, {"ref", "refs/heads/drafts/" + g.workspace + "/" + draft}},
         [&](std::ostream& os) { os << "Shared draft '" << draft << "' on " << remote << "\n"; });
  });
}

void AddStatusCommand(CLI::App& app, Globals& g) {
  static bool no_fetch = false;
  auto* cmd = app.add_subcommand("status",
                                 "Workspaces and drafts against the server: commits ahead and behind, drafts not\n"
                                 "shared, drafts behind their workspace and the flows that would conflict at publish\n"
                                 "(settle them with 'flowrepo draft update').\n"
                                 "Example: flowrepo status");
  cmd->add_flag("--no-fetch", no_fetch, "compare with what the last fetch saw");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    auto repo = OpenRepository(g);
    SyncStatus s = repo.Status(!no_fetch, ServerLinePrinter());
    Json branches = Json::array();
    for (const auto& b : s.branches) {
      branches.push_back({{"name", b.name},
                          {"workspace", b.workspace},
                          {"draft", b.is_draft},
                          {"on_server", b.on_server},
                          {"ahead", b.ahead},
                          {"behind", b.behind},
                          {"behind_workspace", b.behind_workspace},
                          {"conflicts", b.conflicts}});
    }
    Emit(g, {{"remote", s.remote.empty() ? Json() : Json(s.remote)}, {"branches", branches}}, [&](std::ostream& os) {
      if (s.remote.empty()) os << "No remote: this repository is not a clone of a server\n";
      for (const auto& b : s.branches) {
        os << (b.is_draft ? "  draft " : "workspace ") << b.name << ": ";
        if (s.remote.empty()) {
        } else if (!b.on_server) {
          os << (b.is_draft ? "not shared" : "not on the server");
        } else if (b.ahead == 0 && b.behind == 0) {
          os << "same as the server";
        } else {
          os << b.ahead << " ahead, " << b.behind << " behind the server";
        }
        if (b.is_draft && b.behind_workspace > 0) os << "; workspace moved " << b.behind_workspace << " commit(s)";
        if (!b.conflicts.empty()) {
          os << "; would conflict on";
          for (const auto& f : b.conflicts) os << " " << f;
        }
        os << "\n";
      }
    });
  });
}

}  // namespace

ServerLineSink ServerLinePrinter() {
  return [](std::string_view line) { std::cerr << "remote: " << OneLine(std::string(line)) << "\n"; };
}

void AddRemoteCommands(CLI::App& app, Globals& g) {
  AddCloneCommand(app, g);
  AddPullCommand(app, g);
  AddPushCommand(app, g);
  AddStatusCommand(app, g);
}

}  // namespace flowrepo::cli
