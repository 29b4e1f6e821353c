// libFuzzer target: the manifest reader and the package checks behind the
// zip layer. The input is the manifest.json of a package that also holds
// one valid native flow, so the fuzzer reaches the hash, listing and flow
// checks. Any crash, sanitizer report or exception other than
// flowrepo::Error is a finding.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "flowrepo/error.h"
#include "json/json_io.h"
#include "package/manifest.h"
#include "package/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    std::vector<flowrepo::Problem> problems;
    flowrepo::PackageManifest manifest =
        flowrepo::ManifestFromJson(flowrepo::ParseJson(text, "manifest.json"), problems);
    if (problems.empty()) {
      // A manifest read without problems writes and reads back the same.
      std::vector<flowrepo::Problem> again;
      flowrepo::ManifestFromJson(flowrepo::ManifestToJson(manifest), again);
      if (!again.empty()) __builtin_trap();
    }
  } catch (const flowrepo::Error&) {
  }
  std::map<std::string, std::string> entries = {
      {"manifest.json", text},
      {"flows/Fuzz/fuzz/app_definition.json", R"({"format":"flowrepo/flow@1","id":"fuzz","name":"Fuzz"})"},
      {"flows/Fuzz/fuzz/flow_definition.json",
       R"({"schema":"flowrepo/flow@1","start":"a","nodes":[{"id":"a","type":"end"}],"edges":[]})"},
  };
  try {
    flowrepo::LoadedPackage loaded = flowrepo::CheckPackage("fuzz.studiopkg", entries, {});
    if (loaded.flows.size() != loaded.report.manifest.flows.size()) __builtin_trap();
  } catch (const flowrepo::Error&) {
  }
  return 0;
}
