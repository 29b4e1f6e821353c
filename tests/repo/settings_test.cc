// What a workspace provides: components by exact name and version, by a
// name without a version (any version), by a wildcard prefix; topics.

#include "repo/settings.h"

#include <gtest/gtest.h>

namespace flowrepo {
namespace {

WorkspaceSettings WithComponents(const Json& components, const Json& topics = Json::array()) {
  return WorkspaceSettings::Parse(
      Json{{"schema", kSettingsSchema}, {"components", components}, {"topics", topics}}.dump());
}

TEST(AvailabilityTest, ComponentsByNameVersionAndWildcard) {
  const WorkspaceSettings settings = WithComponents(
      {{{"name", "http"}, {"version", "2"}}, "mail", {{"name", "n8n:*"}}, {{"name", "n8n-nodes-base.if"}}});
  const Availability available(settings);
  for (const char* c : {"http@2", "http", "mail", "n8n:slack", "n8n:", "n8n-nodes-base.if"}) {
    EXPECT_TRUE(available.HasComponent(c)) << c;
  }
  // A version not provided, a name that only starts like one provided, a
  // prefix of the wildcard, a version of a name provided without one.
  for (const char* c : {"http@3", "htt", "http2", "n8n", "node-red:inject", "mail@1", "n8n-nodes-base.ifx"}) {
    EXPECT_FALSE(available.HasComponent(c)) << c;
  }
}

TEST(AvailabilityTest, TopicsAreNamedOrObjects) {
  const Availability available(WithComponents(Json::array(), {"orders", {{"name", "billing"}}}));
  EXPECT_EQ(available.Topics(), (std::set<std::string>{"billing", "orders"}));
  EXPECT_TRUE(Availability(WithComponents(Json::array())).Topics().empty());
}

}  // namespace
}  // namespace flowrepo
