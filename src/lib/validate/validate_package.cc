// `validate PKG`: the package module's verification (layout, limits,
// manifest, hashes, each flow's schema and secrets), then a secret sweep of
// every entry, whatever it is (the manifest and any JSON or text the flows
// do not cover), and with --reproducible a re-export of the recorded source
// commit and selection compared byte for byte with the package: an archived
// package whose bytes differ from what its commit gives was altered.

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <tuple>

#include "digest.h"
#include "file_io.h"
#include "flowrepo/error.h"
#include "flowrepo/package.h"
#include "flowrepo/validate.h"
#include "json/json_io.h"
#include "package/manifest.h"
#include "validate/secrets.h"
#include "zip/zip.h"

namespace flowrepo {
namespace {

namespace fs = std::filesystem;

// Scans every readable entry for secrets; problems the verification found
// already (same file, pointer and rule) are not repeated.
void SweepSecrets(const std::string& path, const PackageLimits& limits, std::vector<Problem>& problems) {
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (const auto& p : problems) seen.emplace(p.file, p.pointer, p.rule);
  std::optional<zip::Reader> reader;
  try {
    reader.emplace(zip::Reader::Open(path));
  } catch (const Error&) {
    return;  // reported by the verification
  }
  if (reader->size() > limits.max_entries) return;
  std::uint64_t total = 0;
  for (std::uint64_t i = 0; i < reader->size(); ++i) {
    std::string data, name;
    try {
      zip::EntryInfo e = reader->Stat(i);
      name = e.name;
      if (e.size > limits.max_entry_bytes || total + e.size > limits.max_total_bytes) continue;
      data = reader->Read(e, limits.max_entry_bytes, limits.max_ratio);
      total += data.size();
    } catch (const Error&) {
      continue;  // reported by the verification
    }
    std::vector<Problem> found;
    bool json = name.size() > 5 && name.substr(name.size() - 5) == ".json";
    if (json) {
      try {
        // Within the memory of reading the package, as the verification.
        JsonMemory memory(static_cast<std::size_t>(std::min<std::uint64_t>(limits.parse_budget(), SIZE_MAX)));
        JsonLimits json_limits;
        json_limits.memory = &memory;
        ScanSecrets(ParseJson(data, name, json_limits), name, found);
      } catch (const Error&) {
        json = false;  // malformed or too costly to parse: scan it as text
      }
    }
    if (!json) {
      std::string rule = DetectSecretInText(data);
      if (!rule.empty()) {
        found.push_back(
            {name, "", "secret/" + rule, "plain-text secret (" + rule + "); a package never holds a secret"});
      }
    }
    for (auto& p : found) {
      MaskSecrets(p);  // entry names are group and flow ids
      if (seen.emplace(p.file, p.pointer, p.rule).second) problems.push_back(std::move(p));
    }
  }
}

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/flowrepo-reexport-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw Error(ErrorCode::kIo, "cannot create a temporary directory in '" + tmpl + "'");
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void CheckReproducible(const std::string& path, const PackageManifest& m, FlowRepository& repo,
                       std::vector<Problem>& problems) {
  auto refuse = [&](const std::string& message) {
    problems.push_back({path, "", "package/not-reproducible", message});
  };
  if (m.commit.empty() || m.workspace.empty()) {
    refuse("manifest.json records no source workspace and commit to re-export");
    return;
  }
  ExportRequest request;
  request.workspace = m.workspace;
  request.selection = m.selection;
  request.exclude = m.exclude;
  request.all = m.all;
  if (!m.dependency_policy.empty()) request.dependencies = ParseDependencyPolicy(m.dependency_policy);
  if (m.version) {
    request.version = *m.version;
  } else {
    request.at = m.commit;
  }
  TempDir scratch;
  request.output = scratch.path() + "/" + fs::path(path).filename().string();
  request.overwrite = ExportRequest::Overwrite::kYes;
  ExportResult result;
  try {
    result = ExportPackage(repo, request);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kPermissionDenied || e.code() == ErrorCode::kIo) throw;
    refuse("cannot re-export commit " + m.commit.substr(0, 7) + " of workspace '" + m.workspace + "': " + e.what());
    return;
  }
  if (result.commit != m.commit) {
    refuse("re-export resolved commit " + result.commit.substr(0, 7) + ", manifest.json records " +
           m.commit.substr(0, 7));
    return;
  }
  std::string original = ReadWholeFile(path);
  std::string again = ReadWholeFile(result.path);
  if (original != again && m.tool_version != FLOWREPO_VERSION) {
    refuse("the package was made by flowrepo " + Printable(m.tool_version) + " and this is " + FLOWREPO_VERSION +
           ": only the version that made a package reproduces its bytes");
  } else if (original != again) {
    refuse("re-exporting commit " + m.commit.substr(0, 7) + " of workspace '" + m.workspace +
           "' gives different bytes (sha256 " + Sha256Hex(again).substr(0, 12) + ", package " +
           Sha256Hex(original).substr(0, 12) + "): the package was altered or made otherwise");
  }
}

}  // namespace

ValidationReport ValidatePackage(const std::string& path, PackageCheck check, FlowRepository* source) {
  if (check == PackageCheck::kReproducible && !source) {
    throw Error(ErrorCode::kInvalidArgument, "--reproducible needs the source repository (--repo)");
  }
  PackageLimits limits;
  PackageReport verified = VerifyPackage(path, limits);
  ValidationReport report;
  report.target = "package '" + path + "'";
  report.packages.push_back(path);
  for (const auto& f : verified.manifest.flows) report.flows.push_back(f.path);
  report.problems = std::move(verified.problems);
  // A package refused for its container (damaged, a limit, a hostile entry)
  // is not decompressed again for the sweep.
  static const std::set<std::string> kStructural = {"package/zip", "package/limit", "package/entry-name",
                                                    "package/entry-type", "package/duplicate-entry"};
  bool structural = std::any_of(report.problems.begin(), report.problems.end(),
                                [](const Problem& p) { return kStructural.count(p.rule) > 0; });
  if (!structural) SweepSecrets(path, limits, report.problems);
  if (check == PackageCheck::kReproducible) {
    CheckReproducible(path, verified.manifest, *source, report.problems);
  }
  return report;
}

}  // namespace flowrepo
