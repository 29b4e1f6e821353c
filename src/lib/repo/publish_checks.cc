// Publish's checks of the merged workspace.
//
// 1. The merged settings: the document the draft brings is validated when
//    it changed (a missing file, bad JSON, unknown roles, secrets).
// 2. Every flow the draft adds or changes is validated in full against the
//    merged flow ids and settings, as it always was; the groups and flow
//    folders it brings must not clash with others of their folder
//    (flow/names.h: two drafts may each add one of "Finance" and
//    "finance", or a plain git commit may).
// 3. Flows the draft leaves alone can still break: a flow they use as a
//    subflow is removed (or renamed away), or a component or topic they use
//    is no longer provided. Only when the draft does one of these is every
//    unchanged flow read: its app and flow definitions once each, a text
//    search for the removed ids first when only a few flows are removed,
//    then the format's facts, worked out on both cores. Only what the draft takes away is reported;
//    an unchanged flow's older problems are not the draft's doing.

#include "repo/publish_checks.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "flow/format.h"
#include "flowrepo/error.h"
#include "parallel.h"
#include "repo/settings.h"
#include "validate/flow_validator.h"

namespace flowrepo {
namespace {

/// Every problem found, and where.
struct MergeProblems {
  std::vector<Problem> found;
  std::set<std::string> flows;
  bool settings = false;

  void Add(const std::string& flow, const Problem& problem) {
    found.push_back(problem);
    flows.insert(flow);
  }
};

// ---- 1. settings ------------------------------------------------------------

std::optional<WorkspaceSettings> MergedSettings(const Store& store, const git_tree* root, bool changed,
                                                MergeProblems& problems) {
  auto entry = store.EntryAt(root, std::string(kSettingsPath));
  if (!changed) {
    return entry ? WorkspaceSettings::Parse(store.ReadBlob(entry->id)) : WorkspaceSettings::Default("");
  }
  std::string text = entry ? store.ReadBlob(entry->id) : std::string();
  std::vector<Problem> found;
  ValidateSettingsDocument(text, std::string(kSettingsPath), found);
  problems.found.insert(problems.found.end(), found.begin(), found.end());
  problems.settings = !found.empty();
  try {
    if (!text.empty()) return WorkspaceSettings::Parse(text);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidData) throw;
  }
  return std::nullopt;
}

// ---- 2. changed flows -------------------------------------------------------

void CheckChangedFlows(const Store& store, const std::map<std::string, FlowLocation>& flows_after,
                       const std::vector<FlowChange>& changes, const WorkspaceSettings* settings,
                       MergeProblems& problems) {
  ValidationContext context{[&flows_after](const std::string& id) { return flows_after.count(id) > 0; },
                            AvailabilityOf(settings), CredentialPolicy::kRequireBound};
  // Read in order, in batches; validated on all cores (JSON parsing and the
  // secret scan are most of a large publish); reported in order.
  constexpr std::size_t kBatch = 256;
  std::vector<const FlowChange*> written;
  for (const auto& change : changes) {
    if (change.after) written.push_back(&change);
  }
  for (std::size_t start = 0; start < written.size(); start += kBatch) {
    const std::size_t n = std::min(kBatch, written.size() - start);
    std::vector<Flow> flows;
    for (std::size_t i = 0; i < n; ++i) flows.push_back(ReadFlowAt(store, *written[start + i]->after));
    std::vector<std::vector<Problem>> found(n);
    ParallelFor(n, [&](std::size_t i, std::size_t) { found[i] = ValidateFlow(flows[i], context); });
    for (std::size_t i = 0; i < n; ++i) {
      for (const auto& p : found[i]) problems.Add(written[start + i]->id, p);
    }
  }
}

// Groups and flow folders the draft brings that clash with others of
// their folder (flow/names.h); each is counted against the changed flows
// below it.
void CheckNameClashes(const std::map<std::string, FlowLocation>& flows_after, const std::vector<FlowChange>& changes,
                      MergeProblems& problems) {
  std::vector<const FlowChange*> pointers;
  for (const auto& change : changes) pointers.push_back(&change);
  for (const auto& clash : ClashesOfChanges(flows_after, pointers)) {
    const Problem problem = NameClashProblem(clash);
    for (const auto& change : changes) {
      if (!change.after) continue;
      const std::string folder = change.after->path.substr(kFlowsDir.size() + 1);
      if (folder == clash.path || folder.rfind(clash.path + "/", 0) == 0) {
        problems.flows.insert(change.id);
      }
    }
    problems.found.push_back(problem);
  }
}

// ---- 3. flows the draft leaves alone ---------------------------------------

// What the merge takes away that unchanged flows may still use.
class Withdrawn {
 public:
  /// \a before and \a after are the settings' availability before and
  /// after the merge, or both null when components and topics are unchanged.
  Withdrawn(std::string draft, std::set<std::string> flows, const WorkspaceSettings* before,
            const WorkspaceSettings* after)
      : draft_(std::move(draft)),
        flows_(std::move(flows)),
        before_(AvailabilityOf(before)),
        after_(AvailabilityOf(after)) {
    if (before_ && after_ && before_->Topics() != after_->Topics()) {
      topics_before_ = before_->Topics();
      topics_after_ = after_->Topics();
    }
  }

  /// True when no flow and no component or topic is taken away.
  bool empty() const { return flows_.empty() && !before_; }

  /// Whether the flow with these documents may be affected; a cheap text
  /// search, used when only a few flows are removed and settings keep
  /// every component and topic.
  bool MayBeUsedBy(const std::string& definition, const std::string& app) const {
    if (before_ || flows_.size() > kMaxSearchedIds) return true;
    for (const auto& id : flows_) {
      const std::string quoted = "\"" + id + "\"";
      if (definition.find(quoted) != std::string::npos || app.find(quoted) != std::string::npos) return true;
    }
    return false;
  }

  /// Problems of a flow (its facts, its definition file) caused by the merge.
  void Check(const FlowFacts& facts, const std::string& file, std::vector<Problem>& out) {
    for (const auto& ref : facts.subflows) {
      if (ref.flow.empty() || !flows_.count(ref.flow)) continue;
      out.push_back({file, ref.pointer, "missing-subflow",
                     "node '" + ref.node + "' uses flow '" + ref.flow + "', which draft '" + draft_ + "' removes"});
    }
    if (!before_) return;
    for (const auto& c : facts.components) {
      if (!ComponentWithdrawn(c)) continue;
      out.push_back({file, PointerOf(facts.component_pointers, c), "missing-component",
                     "component '" + c + "' is used here and draft '" + draft_ + "' removes it from the workspace"});
    }
    for (const auto& t : facts.topics) {
      if (!TopicWithdrawn(t)) continue;
      out.push_back({file, PointerOf(facts.topic_pointers, t), "missing-topic",
                     "topic '" + t + "' is used here and draft '" + draft_ + "' removes it from the workspace"});
    }
  }

 private:
  static constexpr std::size_t kMaxSearchedIds = 16;

  static std::string PointerOf(const std::map<std::string, std::string>& pointers, const std::string& name) {
    auto it = pointers.find(name);
    return it == pointers.end() ? std::string() : it->second;
  }

  bool ComponentWithdrawn(const std::string& component) {
    auto [it, fresh] = components_.emplace(component, false);
    if (fresh) it->second = before_->HasComponent(component) && !after_->HasComponent(component);
    return it->second;
  }

  // A workspace listing no topics does not manage them (any topic passes).
  bool TopicWithdrawn(const std::string& topic) const {
    if (topics_after_.empty() || topics_after_.count(topic)) return false;
    return topics_before_.empty() || topics_before_.count(topic) > 0;
  }

  std::string draft_;
  std::set<std::string> flows_;
  std::optional<Availability> before_;  ///< none: components and topics unchanged
  std::optional<Availability> after_;
  std::set<std::string> topics_before_, topics_after_;  ///< empty when topics did not change
  std::map<std::string, bool> components_;              ///< component -> withdrawn
};

std::string ReadFile(const Store& store, const git_tree* folder, std::string_view name) {
  const git_tree_entry* e = git_tree_entry_byname(folder, std::string(name).c_str());
  if (!e || git_tree_entry_type(e) != GIT_OBJECT_BLOB) return {};
  return store.ReadBlob(*git_tree_entry_id(e));
}

// The facts of an unchanged flow, or std::nullopt when it cannot be
// analysed (its own problems predate the draft and are not reported here).
std::optional<FlowFacts> FactsOf(const std::string& definition_text, const std::string& app_text,
                                 const std::string& file) {
  try {
    Json app = ParseJson(app_text, file);
    const FlowFormat* format = FindFormat(StringOr(app, "format", std::string(kNativeFormat)));
    if (!format) return std::nullopt;
    Json definition = ParseJson(definition_text, file);
    std::vector<Problem> own;
    format->Check(definition, file, own);
    if (!own.empty()) return std::nullopt;
    FlowFacts facts = format->Facts(definition);
    ResolveReferences(app, facts);
    return facts;
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidData) throw;
    return std::nullopt;
  } catch (const Json::exception&) {
    return std::nullopt;  // a shape the format's own check let through
  }
}

// An unchanged flow that may use what the merge takes away.
struct Candidate {
  std::string id;
  std::string file;  ///< its flow definition's path
  std::string definition;
  std::string app;
  std::optional<FlowFacts> facts;
};

// Flows are read in batches whose facts are worked out on both cores (the
// JSON parsing is most of the cost); reading and reporting stay in order.
constexpr std::size_t kBatchSize = 256;

void CheckBatch(std::vector<Candidate>& batch, Withdrawn& withdrawn, MergeProblems& problems) {
  ParallelFor(batch.size(), [&batch](std::size_t i, std::size_t) {
    Candidate& c = batch[i];
    c.facts = FactsOf(c.definition, c.app, c.file);
  });
  for (const auto& c : batch) {
    if (!c.facts) continue;
    std::vector<Problem> found;
    withdrawn.Check(*c.facts, c.file, found);
    for (const auto& p : found) problems.Add(c.id, p);
  }
  batch.clear();
}

void CheckUnchangedFlows(const Store& store, const std::map<std::string, FlowLocation>& flows_after,
                         const std::set<std::string>& changed, Withdrawn& withdrawn, MergeProblems& problems) {
  if (withdrawn.empty()) return;
  std::vector<Candidate> batch;
  for (const auto& [id, location] : flows_after) {
    if (changed.count(id)) continue;
    git::TreePtr folder = store.LookupTree(location.tree);
    std::string definition = ReadFile(store, folder.get(), kFlowDefinitionFile);
    std::string app = ReadFile(store, folder.get(), kAppDefinitionFile);
    if (!withdrawn.MayBeUsedBy(definition, app)) continue;
    batch.push_back({id, location.path + "/" + std::string(kFlowDefinitionFile), std::move(definition), std::move(app),
                     std::nullopt});
    if (batch.size() == kBatchSize) CheckBatch(batch, withdrawn, problems);
  }
  CheckBatch(batch, withdrawn, problems);
}

// ---- the verdict ------------------------------------------------------------

std::string Summary(const MergeProblems& problems, const std::string& workspace) {
  std::string where;
  if (!problems.flows.empty()) where = std::to_string(problems.flows.size()) + " flow(s)";
  if (problems.settings) where += std::string(where.empty() ? "" : " and ") + "the workspace settings";
  return "publish refused: " + std::to_string(problems.found.size()) + " problem(s) in " + where + "; workspace '" +
         workspace + "' unchanged";
}

}  // namespace

void CheckMergedWorkspace(const Store& store, FlowIndexCache& index, const MergeToCheck& merge) {
  git::TreePtr merged = store.LookupTree(merge.merged_tree);
  const auto& flows_after = index.ForRootTree(store, merged.get());
  MergeProblems problems;
  std::optional<WorkspaceSettings> settings = MergedSettings(store, merged.get(), merge.settings_changed, problems);
  CheckChangedFlows(store, flows_after, *merge.changes, settings ? &*settings : nullptr, problems);
  CheckNameClashes(flows_after, *merge.changes, problems);

  std::set<std::string> changed, removed;
  for (const auto& change : *merge.changes) {
    if (change.after) changed.insert(change.id);
    if (!flows_after.count(change.id)) removed.insert(change.id);
  }
  // The workspace's settings, when the merge may provide fewer components
  // or topics than they do.
  std::optional<WorkspaceSettings> before;
  if (merge.settings_changed && settings) {
    before = WorkspaceSettings::AtCommit(store, merge.workspace_head);
    if (before->Components() == settings->Components() && before->Topics() == settings->Topics()) {
      before.reset();
    }
  }
  Withdrawn withdrawn(merge.draft, std::move(removed), before ? &*before : nullptr, before ? &*settings : nullptr);
  CheckUnchangedFlows(store, flows_after, changed, withdrawn, problems);

  if (!problems.found.empty()) {
    const std::string summary = Summary(problems, merge.workspace);
    throw Error::Listing(ErrorCode::kInvalidData, summary, std::move(problems.found));
  }
}

}  // namespace flowrepo
