#ifndef FLOWREPO_VALIDATE_FLOW_VALIDATOR_H_
#define FLOWREPO_VALIDATE_FLOW_VALIDATOR_H_

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "flow/format.h"
#include "flow/names.h"
#include "flowrepo/flow.h"
#include "flowrepo/validation.h"
#include "json/json_io.h"
#include "repo/settings.h"

namespace flowrepo {

/// A flow's documents parsed, with its format handler.
struct ParsedFlow {
  FlowSummary summary;
  Json definition;
  Json app;
  Json env;
  const FlowFormat* format = nullptr;
};

/// Parses the three documents of \a flow within \a limits (a JsonMemory
/// there is shared by the three); every problem (bad JSON, missing app
/// fields, unknown format) goes to \a problems. Returns std::nullopt when
/// the flow cannot be analysed further.
std::optional<ParsedFlow> ParseFlow(const Flow& flow, std::vector<Problem>& problems,
                                    const JsonLimits& limits = JsonLimits());

enum class CredentialPolicy { kAllowUnbound, kRequireBound };

/// What a flow is checked against besides itself.
struct ValidationContext {
  /// Whether a flow id exists where the flow will live (subflow targets);
  /// empty skips the check.
  std::function<bool(const std::string&)> flow_exists;
  /// The target workspace's components and topics; none skips the check.
  std::optional<Availability> available;
  CredentialPolicy credentials = CredentialPolicy::kAllowUnbound;
};

/// A flow_exists backed by \a ids, which must outlive it.
inline std::function<bool(const std::string&)> InSet(const std::set<std::string>& ids) {
  return [&ids](const std::string& id) { return ids.count(id) > 0; };
}

/// Every problem of \a flow: JSON, schema, graph integrity, references,
/// availability and secrets.
std::vector<Problem> ValidateFlow(const Flow& flow, const ValidationContext& context,
                                  const JsonLimits& limits = JsonLimits());

/// ValidateFlow of documents already parsed (export checks the stripped
/// documents it is about to write without parsing them again); sets
/// parsed.format.
std::vector<Problem> ValidateParsedFlow(ParsedFlow& parsed, const ValidationContext& context);

/// The problem a name clash is (rule "name-clash", file "flows/<path>").
Problem NameClashProblem(const NameClash& clash);

/// Problems of a workspace settings document (.flowrepo/workspace.json,
/// named \a file): JSON, schema name, the shape of components and topics,
/// and roles mapping non-empty user names to "viewer", "integrator" or
/// "admin"; plus secrets.
void ValidateSettingsDocument(const std::string& text, const std::string& file, std::vector<Problem>& problems);

}  // namespace flowrepo

#endif  // FLOWREPO_VALIDATE_FLOW_VALIDATOR_H_
