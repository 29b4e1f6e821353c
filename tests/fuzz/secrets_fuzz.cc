// libFuzzer target: the secret scanner on arbitrary key/value strings and
// on whole JSON documents.

#include <cstddef>
#include <cstdint>
#include <string>

#include "flowrepo/error.h"
#include "json/json_io.h"
#include "validate/secrets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto split = text.find('\n');
  std::string key = split == std::string::npos ? "" : text.substr(0, split);
  std::string value = split == std::string::npos ? text : text.substr(split + 1);
  std::string rule = flowrepo::DetectSecret(key, value);
  // A reported secret is never a secret reference.
  if (!rule.empty() && flowrepo::IsSecretReference(value)) __builtin_trap();
  try {
    std::vector<flowrepo::Problem> problems;
    flowrepo::ScanSecrets(flowrepo::ParseJson(text, "fuzz.json"), "fuzz.json", problems);
    for (const auto& p : problems) {
      // Messages never carry the value they flag.
      if (value.size() >= 8 && p.message.find(value) != std::string::npos) __builtin_trap();
    }
  } catch (const flowrepo::Error&) {
  }
  return 0;
}
