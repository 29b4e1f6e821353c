#ifndef FLOWREPO_SETTINGS_CHANGE_H_
#define FLOWREPO_SETTINGS_CHANGE_H_

// What a draft changes in a workspace's settings: .flowrepo/workspace.json
// (roles, components, topics, any other field such as environment
// defaults) and any other file under .flowrepo/. Drafts list these changes
// (draft show, draft list) and publish reports them, so that a settings or
// role change is never published unseen.

#include <string>

namespace flowrepo {

/// One change to a workspace's settings, between a draft's base and head.
struct SettingsChange {
  enum class Kind {
    kRoleGranted,       ///< \a key (a user) had no role
    kRoleChanged,       ///< \a key's role changed
    kRoleRevoked,       ///< \a key has no role any more
    kComponentAdded,    ///< \a key: "name@version"
    kComponentChanged,  ///< same component, other attributes (visibility)
    kComponentRemoved,
    kTopicAdded,  ///< \a key: the topic name
    kTopicChanged,
    kTopicRemoved,
    kSettingAdded,    ///< any other field; \a key "field" or "field/member"
    kSettingChanged,  ///< (environment defaults, schema, ...)
    kSettingRemoved,
    kFileAdded,    ///< another file under .flowrepo/; \a key its path
    kFileChanged,  ///< (or the settings file when it is not valid JSON)
    kFileRemoved,
  };
  Kind kind = Kind::kSettingChanged;
  std::string key;
  /// The value before and after: role names for roles, compact JSON for
  /// other settings, empty for files and for the side where it is absent.
  std::string before;
  std::string after;
  /// One line, lower-case, values quoted: "role change: 'mallory@example.com'
  /// integrator -> admin (needs admin)". Long values are shortened here
  /// (never in before and after). May quote user names from the settings
  /// as written: print it through a terminal-safe filter.
  std::string message;
  /// Publishing the change needs the admin role (every role change, and
  /// removing the settings file, which takes all roles with it).
  bool needs_admin = false;
};

/// The stable lower-case name of \a kind ("role-changed", "component-removed",
/// ...), as written in --json output.
const char* SettingsChangeKindName(SettingsChange::Kind kind);

}  // namespace flowrepo

#endif  // FLOWREPO_SETTINGS_CHANGE_H_
