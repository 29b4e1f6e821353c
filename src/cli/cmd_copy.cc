#include "cli/cli.h"
#include "flowrepo/package.h"

namespace flowrepo::cli {

void AddCopyCommand(CLI::App& app, Globals& g) {
  static CopyRequest request;
  static std::string to_workspace, override_flow, env_conflict;
  static std::vector<std::string> topics;
  static bool dry_run = false;
  auto* cmd =
      app.add_subcommand("copy",
                         "Copy a published flow under a new name, as a draft; or, with --to-workspace,\n"
                         "into another workspace as an import without a file in between (onto a draft\n"
                         "there, as a new flow or overriding one).\n"
                         "Example: flowrepo copy banking-assistant --name \"Banking Assistant EU\"\n"
                         "         flowrepo copy banking-assistant --to-workspace prod --override banking-assistant");
  cmd->add_option("FLOW", request.flow, "flow to copy")->required();
  cmd->add_option("--name", request.name, "name of the copy (needed within a workspace)");
  cmd->add_option("--id", request.id, "id of the copy (default: derived from the name)");
  cmd->add_option("--group", request.group, "group of the copy (default: the source's)");
  AddDraftOption(cmd, request.draft, "draft (default: copy-<id>)");
  cmd->add_option("--to-workspace", to_workspace, "copy into this workspace");
  cmd->add_option("--override", override_flow, "with --to-workspace: replace this flow there");
  cmd->add_option("--topic", topics, "with --to-workspace: map a topic (SRC=DST)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--env-conflict", env_conflict,
                  "with --override: env variables the replaced flow has: keep (default) or overwrite")
      ->check(CLI::IsMember({"keep", "overwrite"}));
  cmd->add_flag("--dry-run", dry_run, "with --to-workspace: check and print the plan only");
  AddJsonFlag(cmd, g);
  cmd->callback([&g] {
    auto repo = OpenRepository(g);
    if (!to_workspace.empty()) {
      ExportRequest source;
      source.workspace = g.workspace;
      source.selection = {request.flow};
      source.dependencies = DependencyPolicy::kReference;
      ImportRequest target;
      target.workspace = to_workspace;
      target.draft = request.draft;
      target.dry_run = dry_run;
      if (env_conflict == "overwrite") target.env_conflict = ImportRequest::EnvConflict::kOverwrite;
      if (!override_flow.empty()) {
        target.mode = ImportRequest::Mode::kOverride;
        target.override_flow = override_flow;
      } else if (!request.name.empty() || !request.id.empty()) {
        target.mode = ImportRequest::Mode::kAsNew;
        target.new_name = request.name;
        target.new_id = request.id;
      }
      for (const auto& t : topics) {
        auto [src, dst] = SplitPair(t, "--topic", "SRC=DST");
        target.topics[src] = dst;
      }
      PrintImport(g, CopyToWorkspace(repo, source, target));
      return;
    }
    if (!override_flow.empty() || !topics.empty() || dry_run || !env_conflict.empty()) {
      throw Error(ErrorCode::kInvalidArgument, "--override, --topic, --env-conflict and --dry-run need --to-workspace");
    }
    WriteResult r = repo.CopyFlow(g.workspace, request);
    Emit(
        g, [&] { return ToJson(r); },
        [&](std::ostream& os) {
          os << "Copied '" << request.flow << "' to '" << r.flows.at(0) << "' on draft '" << r.draft.name << "'\n";
          PrintPublishHint(os, g, r.draft.workspace, r.draft.name);
        });
  });
}

}  // namespace flowrepo::cli
