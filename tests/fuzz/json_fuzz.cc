// libFuzzer target: the validating JSON reader, canonical writer and flow
// validation on arbitrary bytes. Any crash, leak, sanitizer report or
// exception other than flowrepo::Error is a finding.

#include <cstddef>
#include <cstdint>
#include <string>

#include "flowrepo/error.h"
#include "json/json_io.h"
#include "validate/flow_validator.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    flowrepo::Json j = flowrepo::ParseJson(text, "fuzz.json");
    std::string canonical = flowrepo::CanonicalJson(j);
    // Canonical output must read back to the same value.
    if (flowrepo::ParseJson(canonical, "canonical.json") != j) __builtin_trap();
  } catch (const flowrepo::Error&) {
  }
  // The same bytes as each document of a flow.
  flowrepo::Flow flow;
  flow.summary = {"fuzz", "Fuzz", "g", "flowrepo/flow@1"};
  flow.app_definition = R"({"id":"fuzz","name":"Fuzz","format":"flowrepo/flow@1"})";
  flow.flow_definition = text;
  flow.env_variables = text;
  std::set<std::string> ids = {"fuzz", "other"};
  flowrepo::ValidationContext context{flowrepo::InSet(ids), std::nullopt, flowrepo::CredentialPolicy::kRequireBound};
  try {
    flowrepo::ValidateFlow(flow, context);
  } catch (const flowrepo::Error&) {
  }
  return 0;
}
