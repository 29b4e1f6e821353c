#ifndef FLOWREPO_REPOSITORY_H_
#define FLOWREPO_REPOSITORY_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flowrepo/access.h"
#include "flowrepo/check.h"
#include "flowrepo/flow.h"
#include "flowrepo/history.h"
#include "flowrepo/remote.h"
#include "flowrepo/settings_change.h"

namespace flowrepo {

struct InitOptions {
  enum class Layout { kWorkTree, kBare };
  Layout layout = Layout::kWorkTree;
  std::string workspace = "main";
  std::string user;  ///< becomes the first admin; empty: git config user.email
};

struct WorkspaceInfo {
  std::string name;
  std::string commit;  ///< head of refs/heads/<name>
  int flow_count = 0;
  /// CreateWorkspace only: the workspace had been created by an interrupted
  /// run of the same command, whose version tags this run completed.
  bool completed_earlier_create = false;
};

struct DraftInfo {
  std::string workspace;
  std::string name;
  std::string ref;                         ///< refs/heads/drafts/<ws>/<name>
  std::string commit;                      ///< draft head
  std::string base;                        ///< merge base with the workspace branch
  std::vector<std::string> changed_flows;  ///< ids added, changed or removed since base
  std::vector<std::string> removed_flows;  ///< those of changed_flows the draft removes
  /// (old id, new id) of the flows the draft renames (flow mv --id): the
  /// old id is among removed_flows, the new one among changed_flows.
  std::vector<std::pair<std::string, std::string>> renamed;
  /// What the draft changes under .flowrepo/ since base (roles first);
  /// publishing it needs admin when any change says so.
  std::vector<SettingsChange> settings_changes;
};

/// What a write onto a draft did.
struct WriteResult {
  DraftInfo draft;
  std::vector<std::string> flows;  ///< ids written
  bool created_draft = false;
};

struct FlowQuery {
  std::string workspace = "main";
  std::string group;  ///< only flows in this group and its sub-groups
  std::string at;     ///< a ref, draft or commit instead of the workspace head
};

/// The lists of .flowrepo/workspace.json that settings commands edit.
enum class SettingsList { kComponents, kTopics };

/// A workspace default of an environment variable ("env" in the workspace
/// settings): the value a flow's runtime takes when the flow does not set
/// the variable. A secret one holds only where the secret is kept (\a ref).
struct EnvDefault {
  std::string name;
  std::string value;  ///< empty for a secret
  bool secret = false;
  std::string ref;  ///< set for a secret only: "vault:...", "op://..."
};

struct NewFlowRequest {
  std::string id;
  std::string name;
  std::string group;
  std::string draft;  ///< empty: a draft named after the flow id
};

struct CopyRequest {
  std::string flow;   ///< source flow id (workspace head)
  std::string name;   ///< new display name
  std::string id;     ///< new id; empty: derived from the name
  std::string group;  ///< empty: the source's group
  std::string draft;  ///< empty: "copy-<new id>"
};

struct PublishResult {
  std::string workspace;
  std::string draft;
  std::string commit;                ///< the publish commit on the workspace
  std::vector<Version> versions;     ///< one new version per changed flow
  std::vector<std::string> removed;  ///< flows deleted by the draft
  /// (old id, new id) of the flows the draft renamed: the new id's version
  /// continues the old one's numbers, and the old id is among \a removed.
  std::vector<std::pair<std::string, std::string>> renamed;
  /// What the publish changed under .flowrepo/ (roles first); a role
  /// change has needs_admin set, so an admin publishing it sees it flagged.
  std::vector<SettingsChange> settings_changes;
  bool completed_earlier_publish = false;  ///< the draft had been merged by an interrupted run
  /// Set when this draft's head had already been published by a publish of
  /// that other draft (both heads were one commit); nothing new was made.
  std::string published_with_draft;
  /// Work trees that have the draft checked out: there the draft branch is
  /// kept, moved to the publish commit, instead of being removed.
  std::vector<std::string> draft_kept_in;
  /// Set when the workspace has an upstream: the server the publish
  /// landed on, and how many times it was tried (another publish landing
  /// first makes it fetch and try again).
  std::string remote;
  int attempts = 0;
  /// What went wrong after the publish landed (its tags could not be
  /// shared, the local branch could not follow): the next pull finishes it.
  std::vector<std::string> warnings;
};

/// One work tree whose interrupted update Repair finished.
struct RepairAction {
  std::string work_tree;  ///< its top directory
  std::string ref;        ///< the branch checked out there
  std::string message;    ///< what was done
};

/// One change between two versions of a flow.
struct Change {
  enum class Kind { kAdded, kRemoved, kChanged };
  Kind kind;
  std::string file;     ///< "flow_definition.json", ...
  std::string node;     ///< node id, when the change is inside a node
  std::string pointer;  ///< JSON pointer in the file
  std::string before;   ///< compact JSON; empty when added
  std::string after;    ///< compact JSON; empty when removed
};

struct FlowDiff {
  std::string flow;
  std::string from;  ///< "v1" or the revision given
  std::string to;
  std::vector<Change> changes;
};

/// A flow repository: a git repository (bare or not) holding workspaces,
/// drafts and version tags as docs/repository-format.md describes. Every
/// method reads objects directly and moves refs by compare-and-swap; none
/// needs or touches a work tree. Methods check the acting user's role first
/// and throw kPermissionDenied naming the missing role.
class FlowRepository {
 public:
  /// Creates a flow repository at \a dir, or adopts the git repository there
  /// when it has no such workspace yet. Throws kAlreadyExists when the
  /// workspace exists.
  static FlowRepository Init(const std::string& dir, const InitOptions& options);
  /// Opens the repository containing \a dir; \a user is the acting user
  /// (empty: git config user.email). Throws kNotFound.
  static FlowRepository Open(const std::string& dir, const std::string& user = "");

  FlowRepository(FlowRepository&&) noexcept;
  FlowRepository& operator=(FlowRepository&&) noexcept;
  ~FlowRepository();

  const std::string& user() const;
  bool bare() const;
  /// The git directory.
  std::string git_dir() const;

  std::vector<WorkspaceInfo> ListWorkspaces() const;
  /// Creates workspace \a name from workspace \a from with a publish of
  /// its own: one commit on \a from's head (same tree) whose trailers give
  /// every flow v1 in \a name and name the version it came from, then the
  /// tags <name>/<flow>/v1. Rerunning it after an interruption completes the
  /// tags. Needs the admin role in \a from. Throws kAlreadyExists (the
  /// workspace, or version tags under its name, exist), kNotFound.
  WorkspaceInfo CreateWorkspace(std::string_view name, std::string_view from);

  /// Flows at the workspace head (or query.at), sorted by group then id.
  std::vector<FlowSummary> ListFlows(const FlowQuery& query) const;
  /// A flow at the workspace head, a version or a revision. Throws kNotFound.
  Flow ReadFlow(std::string_view workspace, const FlowSpec& spec) const;

  DraftInfo StartDraft(std::string_view workspace, std::string_view name);
  std::vector<DraftInfo> ListDrafts(std::string_view workspace) const;
  DraftInfo ShowDraft(std::string_view workspace, std::string_view name) const;
  /// Removes the draft branch; its head stays reachable under
  /// refs/flowrepo/dropped/<ws>/<name>/<time>, which is returned.
  std::string DropDraft(std::string_view workspace, std::string_view name);

  /// A new native flow with a start and an end node on a draft.
  WriteResult NewFlow(std::string_view workspace, const NewFlowRequest& request);
  /// Writes \a flows into \a draft (created from the workspace head when
  /// missing), replacing flows with the same id wherever they were.
  /// With GroupChoice::kKeepExisting a flow already in the draft keeps its
  /// group whatever \a flows say.
  /// Documents are parsed and stored canonically (kCanonicalise), or, when
  /// the caller has just written them with the canonical writer (import),
  /// stored as given (kAlreadyCanonical), which saves parsing them again.
  enum class GroupChoice { kAsGiven, kKeepExisting };
  enum class DocumentForm { kCanonicalise, kAlreadyCanonical };
  WriteResult PutFlows(std::string_view workspace, std::string_view draft, std::vector<Flow> flows,
                       std::string_view action = "put", GroupChoice groups = GroupChoice::kAsGiven,
                       DocumentForm form = DocumentForm::kCanonicalise);
  WriteResult CopyFlow(std::string_view workspace, const CopyRequest& request);
  /// Adds \a add to and removes \a remove from a list of the workspace
  /// settings (components: "name", "name@version" or a prefix "n8n:*";
  /// topics: names) on \a draft, in one commit; publishing the draft lists
  /// the changes and checks the flows that stay against them. Throws
  /// kAlreadyExists (added one listed), kNotFound (removed one not listed,
  /// with the closest), kInvalidArgument (a malformed name, nothing to do).
  WriteResult EditSettings(std::string_view workspace, std::string_view draft, SettingsList list,
                           const std::vector<std::string>& add, const std::vector<std::string>& remove);
  /// The entries of \a list at the workspace head (or revision \a at),
  /// sorted. Needs the viewer role.
  std::vector<std::string> ListSettings(std::string_view workspace, SettingsList list, std::string_view at = "") const;
  /// Sets \a set (added, or replacing a default of the same name) and
  /// removes \a remove among the workspace's env defaults on \a draft, in
  /// one commit. Throws kInvalidArgument (a malformed name, a secret with
  /// a value or without a reference, a value or reference that looks like
  /// a secret, nothing to do) and kNotFound (a removed name not there).
  WriteResult EditEnvDefaults(std::string_view workspace, std::string_view draft, const std::vector<EnvDefault>& set,
                              const std::vector<std::string>& remove);
  /// The env defaults at the workspace head (or revision \a at), by name.
  std::vector<EnvDefault> ListEnvDefaults(std::string_view workspace, std::string_view at = "") const;
  /// Sets the role needed to export flows of the workspace (and to copy
  /// them into another) on \a draft; publishing the change needs an admin.
  /// Without the setting it is integrator.
  WriteResult SetExportRole(std::string_view workspace, std::string_view draft, Role role);
  /// The role needed to export at the workspace head (or revision \a at).
  Role ExportRole(std::string_view workspace, std::string_view at = "") const;
  /// Removes flows \a ids from \a draft (created from the workspace head
  /// when missing), in one commit. Their versions stay in history; publish
  /// refuses while a flow it leaves still uses one. Throws kNotFound (with
  /// the closest id), kInvalidArgument (none given, one given twice).
  WriteResult RemoveFlows(std::string_view workspace, std::string_view draft, const std::vector<std::string>& ids);
  /// Moves flows \a ids to \a group on \a draft, in one commit, their
  /// documents unchanged. Refuses as PutFlows does (invalid group, name
  /// clashes in the new folder) and throws kNotFound.
  /// Renames flow \a from to \a to on \a draft, in one commit: its folder
  /// and app definition take the new id, and the flows that use it as a
  /// subflow (native references, and the "references" of foreign ones)
  /// name the new id. Publishing the draft continues the old id's versions
  /// under the new one (its next version is the old one's next) and history
  /// of the new id lists the old id's versions. Throws kNotFound (with the
  /// closest id), kAlreadyExists (the new id is taken, or held by a removed
  /// flow's versions) and kInvalidArgument.
  WriteResult RenameFlow(std::string_view workspace, std::string_view draft, const std::string& from,
                         const std::string& to);
  WriteResult MoveFlows(std::string_view workspace, std::string_view draft, const std::vector<std::string>& ids,
                        std::string_view group);

  /// Validates the workspace as the merge would leave it, merges the
  /// draft's flows flow by flow and its .flowrepo/ files file by file onto
  /// the workspace branch, tags v<N+1> per changed flow and removes the
  /// draft. Checked: every flow the draft changed (against the merged flows
  /// and settings, credentials bound), the settings document when it
  /// changed, and the flows the draft leaves alone that use a flow it
  /// removes (or renames) or a component or topic its settings no longer
  /// provide; only then are all flows read, each once. Throws kInvalidData
  /// listing every problem, kConflict naming both commits when a flow or
  /// settings file changed on the workspace since the draft's base, or
  /// kPermissionDenied when the draft changes roles and the user is not
  /// admin; the workspace branch is untouched then.
  PublishResult Publish(std::string_view workspace, std::string_view draft, std::string_view note);

  History FlowHistory(std::string_view workspace, std::string_view flow) const;
  /// The version numbers of every flow of \a workspace at once, ascending,
  /// by flow id: for each flow, the numbers of FlowHistory's versions that
  /// are its own (Version::flow is the flow: a renamed flow's old id's
  /// versions stay under the old id). Flows never published are absent;
  /// removed flows are present. Reads each version tag once and the
  /// version index, never a flow's tree or another commit while the index
  /// is sound, so it costs the number of tags, not flows x history. Needs
  /// the viewer role. Throws kNotFound (workspace), kPermissionDenied.
  std::map<std::string, std::vector<int>> ListVersions(std::string_view workspace) const;
  /// Node-by-node changes between two revisions ("v1", "v2", a draft, a ref).
  FlowDiff Diff(std::string_view workspace, std::string_view flow, std::string_view from, std::string_view to) const;
  /// A draft holding version \a version of \a flow; publishing it makes the
  /// next version.
  WriteResult Revert(std::string_view workspace, std::string_view flow, int version, std::string_view draft = "");

  /// The roles of \a workspace, sorted by user; empty when the workspace is
  /// unmanaged (everyone is admin). Needs the viewer role.
  std::vector<RoleAssignment> ListRoles(std::string_view workspace) const;
  /// Gives \a user \a role in \a workspace (replacing a role it had). Role
  /// changes are commits on the workspace branch itself, moved by
  /// compare-and-swap against the head whose roles allowed the change; they
  /// never leave a managed workspace without an admin. Needs the admin role.
  /// Throws kPermissionDenied, kInvalidArgument (bad user name, no admin
  /// left), kConflict (the workspace moved meanwhile).
  RoleChange GrantRole(std::string_view workspace, std::string_view user, Role role);
  /// Removes \a user's role. Throws kNotFound when the user has none, and
  /// as GrantRole.
  RoleChange RevokeRole(std::string_view workspace, std::string_view user);

  /// Finishes what killed flowrepo processes left undone: a branch that
  /// moved while its work tree and index (main or linked work tree) had
  /// not followed yet. Every write runs it first; it is safe any time and
  /// needs no role (it touches only this clone's work trees). Throws
  /// kConflict when such a work tree was changed since in a way that
  /// cannot be finished safely (the message says what to do).
  std::vector<RepairAction> Repair();
  /// Checks the repository's own invariants in every workspace the user
  /// has a role in (include/flowrepo/check.h); problems are reported, not
  /// thrown. With CheckOptions::Repair::kMissingTags, first creates the
  /// tags publish commits name but lack, then checks. Throws kIo, and
  /// kPermissionDenied when repairing needs a role the user lacks.
  CheckReport Check(const CheckOptions& options = {});

  // Working with a server (remote_sync.cc, docs/teams.md).

  /// Clones \a url into \a dir (which must not exist, or be empty): every
  /// workspace branch with its upstream set, every version tag and shared
  /// draft; HEAD is workspace "main" when the server has it, else the
  /// first. Throws kRemote (unreachable, authentication), kAlreadyExists.
  static FlowRepository Clone(const std::string& url, const std::string& dir, const std::string& user = "",
                              const ServerLineSink& lines = {});
  /// Fetches \a remote (empty: "origin") and brings this clone to it:
  /// workspaces fast-forward (with their work trees); local commits on a
  /// workspace the server never got (an offline publish) become a draft
  /// "unpublished-<commit>" and their version tags are set aside under
  /// refs/flowrepo/, since the server decides numbers; server tags are
  /// added; shared drafts are created or fast-forwarded; drafts the server
  /// published are removed. Needs no role.
  PullReport Pull(std::string_view remote = "", const ServerLineSink& lines = {});
  /// Shares \a draft on the workspace's upstream as drafts/<ws>/<name>
  /// (a fast-forward of the server's copy). Throws kConflict when the
  /// server's copy has commits this one lacks.
  std::string PushDraft(std::string_view workspace, std::string_view draft, const ServerLineSink& lines = {});
  /// Workspaces and drafts against the server, after fetching unless
  /// \a fetch is false.
  SyncStatus Status(bool fetch = true, const ServerLineSink& lines = {});
  /// Merges the workspace head (with an upstream: the server's, fetched
  /// first) into \a draft flow by flow, so that it publishes without
  /// conflicts. A flow changed on both sides must be
  /// named in \a request; otherwise throws kConflict listing them.
  DraftUpdateResult UpdateDraft(std::string_view workspace, std::string_view draft, const DraftUpdateRequest& request);
  /// Publishes locally even when the workspace has an upstream (the next
  /// pull turns the publish into a draft unless the server got it).
  void PublishOffline(bool offline);
  /// Where the server's lines go during Publish.
  void OnServerLines(ServerLineSink lines);

  struct Impl;  ///< defined in the library only (src/lib/repo/repository_impl.h)

 private:
  /// How the library's operations outside repo/ (flow add, export, import,
  /// validate) reach the repository; declared for them in
  /// repository_impl.h, of no use without it.
  friend Impl& ImplOf(const FlowRepository& repo);

  explicit FlowRepository(std::unique_ptr<Impl> impl);
  PublishResult PublishOnServer(const std::string& remote, std::string_view workspace, std::string_view draft,
                                std::string_view note);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowrepo

#endif  // FLOWREPO_REPOSITORY_H_
