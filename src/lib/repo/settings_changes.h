#ifndef FLOWREPO_REPO_SETTINGS_CHANGES_H_
#define FLOWREPO_REPO_SETTINGS_CHANGES_H_

// What changed under .flowrepo/ between two commits: the paths (for
// publish to merge) and a description of each change (for drafts and
// publish to show). Reads only the .flowrepo/ trees and the blobs that
// differ, so the cost does not depend on the number of flows.

#include <string>
#include <string_view>
#include <vector>

#include "flowrepo/settings_change.h"
#include "json/json_io.h"
#include "repo/store.h"

namespace flowrepo {

/// The folder of workspace settings files.
inline constexpr std::string_view kSettingsDir = ".flowrepo";

/// Paths of files under .flowrepo/ that were added, changed or removed
/// between the trees of commits \a from and \a to, sorted.
std::vector<std::string> ChangedSettingsPaths(const Store& store, const git_oid& from, const git_oid& to);

/// Every settings change from commit \a from to commit \a to: roles,
/// components, topics and other fields of .flowrepo/workspace.json, then
/// other files under .flowrepo/. Never throws for malformed settings (a
/// file that is not valid JSON is described as a changed file).
std::vector<SettingsChange> DescribeSettingsChanges(const Store& store, const git_oid& from, const git_oid& to);

/// The changes from settings document \a before to \a after (either may be
/// an empty object for an absent file).
std::vector<SettingsChange> DescribeSettingsDocuments(const Json& before, const Json& after);

/// True when any of \a changes needs the admin role.
bool NeedsAdmin(const std::vector<SettingsChange>& changes);

}  // namespace flowrepo

#endif  // FLOWREPO_REPO_SETTINGS_CHANGES_H_
