// libFuzzer target: the secret scanner on arbitrary key/value strings and
// on whole JSON documents (JSON held in strings included), and the masking
// of pointers, paths and messages.

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
  // Masking takes any text; a pointer keeps its segment count.
  std::string masked = flowrepo::MaskSecrets(value);
  std::string pointer = flowrepo::MaskSecretsInPointer(text);
  std::size_t slashes = 0, masked_slashes = 0;
  for (char c : text) slashes += c == '/';
  for (char c : pointer) masked_slashes += c == '/';
  if (slashes != masked_slashes) __builtin_trap();
  try {
    std::vector<flowrepo::Problem> problems;
    flowrepo::ScanSecrets(flowrepo::ParseJson(text, "fuzz.json"), "flows/f/app_definition.json", problems);
    for (const auto& p : problems) {
      // Messages never carry the value they flag.
      if (value.size() >= 8 && p.message.find(value) != std::string::npos) __builtin_trap();
    }
  } catch (const flowrepo::Error&) {
  }
  return 0;
}
