#include "cli/cli.h"
#include "cli/one_line.h"
#include "flowrepo/package.h"

namespace flowrepo::cli {
void PrintImport(const Globals& g, const ImportResult& r) {
  Emit(
      g, [&] { return ToJson(r); },
      [&](std::ostream& os) {
        os << (r.dry_run ? "Dry run: would import " : "Imported ") << r.flows.size() << " flow(s) from "
           << (r.package.rfind("workspace '", 0) == 0 ? r.package : "'" + r.package + "'") << " onto draft '" << r.draft
           << "' of workspace '" << r.workspace << "'" << (r.created_draft ? " (new draft)" : "");
        if (!r.dry_run) os << " at " << r.commit.substr(0, 7);
        os << "\n";
        if (!r.declared_components.empty()) {
          os << (r.dry_run ? "Would declare " : "Declared ") << r.declared_components.size()
             << " component(s) in the workspace settings on the draft:";
          for (const auto& c : r.declared_components) os << " " << OneLine(c);
          os << "\n";
        }
        constexpr std::size_t kListed = 50;  // --json lists them all
        std::size_t listed = 0;
        for (const auto& f : r.flows) {
          if (++listed > kListed) {
            os << "  ... and " << r.flows.size() - kListed << " more\n";
            break;
          }
          os << "  " << f.id << " (" << (f.group.empty() ? "-" : f.group)
             << "): " << (f.action == ImportedFlow::Action::kAdded ? "added" : "overrides the existing flow");
          if (f.source_id != f.id) os << ", from '" << f.source_id << "'";
          os << "\n";
          for (const auto& [src, dst] : f.topics) os << "    topic " << src << " -> " << dst << "\n";
          for (const auto& name : f.kept_env) os << "    env " << name << ": kept the workspace's value\n";
          for (const auto& name : f.overwritten_env) os << "    env " << name << ": replaced\n";
          for (const auto& node : f.unbound_credentials) {
            os << "    node '" << node << "' needs a credential: "
               << Suggest(g, r.workspace,
                          "bind " + f.id + " --draft " + ShellWord(r.draft) + " --credential " + node + "=NAME")
               << "\n";
          }
          for (const auto& name : f.unbound_secrets) {
            os << "    secret '" << name << "' needs a reference: "
               << Suggest(g, r.workspace,
                          "bind " + f.id + " --draft " + ShellWord(r.draft) + " --secret " + name + "=REFERENCE")
               << "\n";
          }
        }
        if (r.dry_run) {
          os << "Nothing was written.\n";
        } else {
          PrintPublishHint(os, g, r.workspace, r.draft);
        }
      });
}

void AddImportCommand(CLI::App& app, Globals& g) {
  static ImportRequest request;
  static std::string override_flow, env_conflict;
  static std::vector<std::string> topics;
  static bool as_new = false, override_existing = false;
  auto* cmd =
      app.add_subcommand("import",
                         "Verify a package completely and commit its flows onto a draft (never the\n"
                         "workspace branch). Refuses, listing every problem, when the package is damaged\n"
                         "or unsafe, a component or topic is missing in the workspace, or an id exists.\n"
                         "Credentials and secret references are never imported: bind them with\n"
                         "'flowrepo bind' before publish.\n"
                         "Example: flowrepo -w prod import export.studiopkg --topic support.tickets=helpdesk.in\n"
                         "         flowrepo import 'Banking Assistant.zip' --override banking-assistant\n"
                         "         flowrepo import export.studiopkg --as-new --dry-run\n"
                         "         flowrepo -w prod import finance.studiopkg --override-existing");
  cmd->add_option("PKG", request.package, "package file")->required();
  AddDraftOption(cmd, request.draft, "draft to write on (default: import-<package name>)");
  cmd->add_option("--flows", request.flows, "only these flows of the package (ID,ID,...)")
      ->delimiter(',')
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  auto* over = cmd->add_option("--override", override_flow,
                               "the one imported flow replaces FLOW (its id and group are kept; "
                               "publish makes its next version)");
  auto* fresh = cmd->add_flag("--as-new", as_new, "import as new flows with unique ids and names")->excludes(over);
  cmd->add_flag("--override-existing", override_existing,
                "every package flow whose id exists in the workspace replaces it (keeping its group); the "
                "others are added")
      ->excludes(over)
      ->excludes(fresh);
  cmd->add_option("--id", request.new_id, "with --as-new and one flow: its new id");
  cmd->add_option("--name", request.new_name, "with --as-new and one flow: its new name");
  cmd->add_option("--topic", topics, "map a topic of the package to one of the workspace (SRC=DST)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--env-conflict", env_conflict, "env variables the replaced flow has: keep (default) or overwrite")
      ->check(CLI::IsMember({"keep", "overwrite"}));
  cmd->add_flag("--dry-run", request.dry_run, "check and print the plan; write nothing");
  cmd->add_flag("--declare-components", request.declare_components,
                "declare the components the workspace lacks, on the same draft, instead of refusing");
  cmd->add_option("--max-entries", request.limits.max_entries, "limit: zip entries");
  cmd->add_option("--max-bytes", request.limits.max_total_bytes, "limit: decompressed bytes in all");
  cmd->add_option("--max-entry-bytes", request.limits.max_entry_bytes, "limit: decompressed bytes of one entry");
  cmd->add_option("--max-package-bytes", request.limits.max_file_bytes, "limit: package file size");
  cmd->add_option("--max-ratio", request.limits.max_ratio,
                  "limit: decompressed / compressed size of one entry (checked above 1 MiB)");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    auto repo = OpenRepository(g);
    request.workspace = g.workspace;
    if (!override_flow.empty()) {
      request.mode = ImportRequest::Mode::kOverride;
      request.override_flow = override_flow;
    } else if (as_new) {
      request.mode = ImportRequest::Mode::kAsNew;
    } else if (override_existing) {
      request.mode = ImportRequest::Mode::kOverrideExisting;
    }
    for (const auto& t : topics) {
      auto [src, dst] = SplitPair(t, "--topic", "SRC=DST");
      request.topics[src] = dst;
    }
    if (env_conflict == "overwrite") request.env_conflict = ImportRequest::EnvConflict::kOverwrite;
    PrintImport(g, ImportPackage(repo, request));
  });
}

}  // namespace flowrepo::cli
