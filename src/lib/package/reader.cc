// Package reader: see reader.h for the order of checks. The rules ids of
// problems found here start with "package/"; flow problems keep the
// validator's rule ids.

#include "package/reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "digest.h"
#include "flowrepo/error.h"
#include "json/json_io.h"
#include "package/manifest.h"
#include "parallel.h"
#include "validate/flow_validator.h"
#include "validate/secrets.h"
#include "zip/zip.h"

namespace flowrepo {
namespace {

constexpr std::uint32_t kFileTypeMask = 0170000;
constexpr std::uint32_t kRegularFile = 0100000;
constexpr std::uint32_t kDosDirectory = 0x10;
constexpr std::uint32_t kDosVolumeLabel = 0x08;
constexpr std::uint32_t kWindowsReparsePoint = 0x400;  // symlinks and junctions
constexpr std::uint8_t kAtheOsHost = 30;
constexpr std::uint64_t kCentralHeaderBytes = 46;
constexpr std::uint64_t kCentralExtraAllowance = 256;  // extra fields and comment of one entry
constexpr std::size_t kEntriesPerThread = 64;          // smaller packages are read on one thread

void Add(std::vector<Problem>& problems, const std::string& file, const std::string& rule, const std::string& message) {
  problems.push_back({file, "", rule, message});
}

std::string Octal(std::uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%o", mode);
  return buf;
}

// Hosts whose upper 16 bits of the external attributes zip tools read as a
// Unix st_mode: Info-ZIP's unzip does for all of these (PKZIP for Unix
// marks its entries FAT), so a symlink or a device can be made by any.
bool ModeHost(std::uint8_t host) {
  switch (host) {
    case ZIP_OPSYS_DOS:
    case ZIP_OPSYS_OPENVMS:
    case ZIP_OPSYS_UNIX:
    case ZIP_OPSYS_ATARI_ST:
    case ZIP_OPSYS_OS_2:
    case ZIP_OPSYS_WINDOWS_NTFS:
    case ZIP_OPSYS_VSE:  // QDOS for Info-ZIP
    case ZIP_OPSYS_ACORN_RISC:
    case ZIP_OPSYS_VFAT:
    case ZIP_OPSYS_BEOS:
    case ZIP_OPSYS_TANDEM:
    case ZIP_OPSYS_OS_X:
    case kAtheOsHost: return true;
    default: return false;
  }
}

// Metadata problems of one entry; empty when it may be read.
std::string CheckEntryMetadata(const zip::EntryInfo& e) {
  if (e.unicode_path_field) {
    return "has a Unicode Path extra field, which may name it differently than its header";
  }
  if (e.encryption != ZIP_EM_NONE) return "encrypted entries are not supported";
  if (e.comp_method != ZIP_CM_STORE && e.comp_method != ZIP_CM_DEFLATE) {
    return "compression method " + std::to_string(e.comp_method) + " is not supported (only stored and deflated)";
  }
  // Whatever host made it, an entry is a plain regular file: a mode, when
  // there is one, says so; a host whose attributes mean something else
  // (Amiga, Macintosh, OS/400, unknown ones) has none.
  const std::uint32_t mode = e.attributes >> 16;
  if (mode != 0 && !ModeHost(e.opsys)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(e.attributes));
    return "was made on host system " + std::to_string(e.opsys) + ", whose file attributes (" + buf +
           ") flowrepo cannot read; only plain files are allowed";
  }
  if (mode != 0) {
    if ((mode & kFileTypeMask) != kRegularFile) {
      return "is not a regular file (mode " + Octal(mode) + ")";
    }
    if (mode & 07000) return "has setuid, setgid or sticky bits (mode " + Octal(mode) + ")";
  }
  if (e.attributes & kDosDirectory) return "is a directory";
  if (e.attributes & kDosVolumeLabel) return "is a volume label";
  if (e.attributes & kWindowsReparsePoint) return "is a symbolic link or another reparse point";
  return {};
}

}  // namespace

namespace {

// The size of the package file at \a path; throws kNotFound, kIo and
// kInvalidArgument (not a file).
std::uint64_t PackageFileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      throw Error(ErrorCode::kNotFound, "package '" + path + "' not found");
    }
    throw Error(ErrorCode::kIo, "cannot read package '" + path + "': " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    throw Error(ErrorCode::kInvalidArgument, "package '" + path + "' is not a file");
  }
  if (::access(path.c_str(), R_OK) != 0) {
    throw Error(ErrorCode::kIo, "cannot read package '" + path + "': " + std::strerror(errno));
  }
  return static_cast<std::uint64_t>(st.st_size);
}

// The package opened by libzip, or std::nullopt with the problem in
// \a report when it is over a limit or no zip. The entry count comes from
// the end records before libzip reads the central directory, which costs
// memory by the entry.
std::optional<zip::Reader> OpenWithinLimits(const std::string& path, std::uint64_t file_size,
                                            const PackageLimits& limits, PackageReport& report) {
  std::vector<Problem>& problems = report.problems;
  if (file_size > limits.max_file_bytes) {
    Add(problems, path, "package/limit",
        "package is larger than " + std::to_string(limits.max_file_bytes) + " bytes (the limit)");
    return std::nullopt;
  }
  std::optional<zip::Reader> reader;
  try {
    const zip::Directory directory = zip::ReadDirectory(path);
    if (directory.entries > limits.max_entries) {
      report.entries = directory.entries;
      Add(problems, path, "package/limit",
          "package has " + std::to_string(directory.entries) + " entries, more than " +
              std::to_string(limits.max_entries) + " (the limit)");
      return std::nullopt;
    }
    // libzip holds the central directory, parsed, while the package is
    // read: it may not hold more per entry than a header, a name within
    // the limit and a few extra fields.
    const std::uint64_t per_entry = kCentralHeaderBytes + limits.max_name_bytes + kCentralExtraAllowance;
    if (directory.size > directory.entries * per_entry) {
      Add(problems, path, "package/limit",
          "central directory of " + std::to_string(directory.size) + " bytes is larger than its " +
              std::to_string(directory.entries) + " entries may take (" + std::to_string(per_entry) +
              " bytes each, the limit)");
      return std::nullopt;
    }
    reader.emplace(zip::Reader::Open(path));
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidData) throw;
    Add(problems, path, "package/zip", e.what());
    return std::nullopt;
  }
  report.entries = reader->size();
  if (reader->size() == 0) {
    Add(problems, path, "package/zip", "package has no entries");
    return std::nullopt;
  }
  if (reader->size() > limits.max_entries) {
    Add(problems, path, "package/limit",
        "package has " + std::to_string(reader->size()) + " entries, more than " + std::to_string(limits.max_entries) +
            " (the limit)");
    return std::nullopt;
  }
  return reader;
}

// The metadata of every entry, checked before anything is decompressed:
// its name, type and declared size, and the declared total. Returns the
// entries when every one may be read, else std::nullopt with the first
// problem of each refused entry in \a problems: a package with a refused
// entry is not trusted further, and the problems that entry would cause (a
// file missing from the manifest's view) are not reported on top.
std::optional<std::vector<zip::EntryInfo>> ReadableEntries(const zip::Reader& reader, const std::string& path,
                                                           const PackageLimits& limits,
                                                           std::vector<Problem>& problems) {
  std::vector<zip::EntryInfo> readable;
  std::map<std::string, std::string> folded;  // case-folded name -> name
  std::uint64_t declared_total = 0;
  bool limit_exceeded = false;
  for (std::uint64_t i = 0; i < reader.size(); ++i) {
    zip::EntryInfo e;
    try {
      e = reader.Stat(i);
    } catch (const Error& err) {
      Add(problems, path, "package/zip", err.what());
      limit_exceeded = true;
      continue;
    }
    const std::string shown = Printable(e.name);
    std::string why;
    std::string meta = CheckEntryMetadata(e);
    auto [it, fresh] = folded.emplace(FoldCase(e.name), e.name);
    bool ok = false;
    if (e.nul_in_name) {
      Add(problems, shown, "package/entry-name", "entry name has a NUL character");
    } else if (!ParseEntryName(e.name, limits, why)) {
      Add(problems, shown, "package/entry-name", why);
    } else if (!fresh) {
      Add(problems, shown, "package/duplicate-entry",
          it->second == e.name ? "entry name appears twice"
                               : "entry name differs only in case from '" + Printable(it->second) + "'");
    } else if (!meta.empty()) {
      Add(problems, shown, "package/entry-type", meta);
    } else if (e.size > limits.max_entry_bytes) {
      Add(problems, shown, "package/limit",
          "entry decompresses to " + std::to_string(e.size) + " bytes, more than " +
              std::to_string(limits.max_entry_bytes) + " (the limit)");
    } else {
      ok = true;
      declared_total += e.size;  // each at most max_entry_bytes: no overflow
    }
    if (ok) readable.push_back(std::move(e));
  }
  if (declared_total > limits.max_total_bytes) {
    Add(problems, path, "package/limit",
        "package decompresses to more than " + std::to_string(limits.max_total_bytes) + " bytes (the limit)");
    limit_exceeded = true;
  }
  if (limit_exceeded || readable.size() != reader.size()) return std::nullopt;
  return readable;
}

// The entries decompressed on all cores, each worker through its own
// handle (libzip archives are not shared between threads). Every entry must
// produce exactly its declared size, and the declared sizes are within the
// total limit, so the total holds without a running count. An entry that
// cannot be read is a problem; the others are returned by name, their
// bytes added to \a total.
std::map<std::string, std::string> Decompress(const zip::Reader& reader, const std::vector<zip::EntryInfo>& readable,
                                              const PackageLimits& limits, std::vector<Problem>& problems,
                                              std::uint64_t& total) {
  std::vector<std::string> data(readable.size());
  std::vector<std::string> errors(readable.size());
  const std::size_t workers = ParallelWorkers(readable.size(), kEntriesPerThread);
  std::vector<zip::Reader> handles;
  for (std::size_t w = 1; w < workers; ++w) handles.push_back(reader.Clone());
  ParallelFor(
      readable.size(),
      [&](std::size_t k, std::size_t worker) {
        const zip::Reader& r = worker == 0 ? reader : handles[worker - 1];
        try {
          data[k] = r.Read(readable[k], limits.max_entry_bytes, limits.max_ratio);
        } catch (const Error& err) {
          if (err.code() != ErrorCode::kInvalidData) throw;
          errors[k] = err.what();
        }
      },
      kEntriesPerThread, workers);
  std::map<std::string, std::string> entries;
  for (std::size_t k = 0; k < readable.size(); ++k) {
    if (!errors[k].empty()) {
      Add(problems, Printable(readable[k].name), "package/entry", errors[k]);
      continue;
    }
    total += data[k].size();
    entries.emplace(readable[k].name, std::move(data[k]));
  }
  return entries;
}

}  // namespace

LoadedPackage LoadPackage(const std::string& path, const PackageLimits& limits) {
  const std::uint64_t file_size = PackageFileSize(path);
  LoadedPackage out;
  PackageReport& report = out.report;
  report.path = path;
  std::vector<Problem>& problems = report.problems;
  std::optional<zip::Reader> reader = OpenWithinLimits(path, file_size, limits, report);
  if (!reader) return out;
  std::optional<std::vector<zip::EntryInfo>> readable = ReadableEntries(*reader, path, limits, problems);
  if (!readable) return out;
  std::uint64_t total = 0;
  std::map<std::string, std::string> entries = Decompress(*reader, *readable, limits, problems, total);
  report.bytes = total;
  // An entry that could not be read is not reported once more as missing.
  if (!problems.empty()) return out;
  LoadedPackage checked = CheckPackage(path, std::move(entries), limits);
  checked.report.entries = report.entries;
  checked.report.bytes = total;
  problems.insert(problems.end(), checked.report.problems.begin(), checked.report.problems.end());
  checked.report.problems = std::move(problems);
  return checked;
}

JsonLimits PackageJsonLimits(JsonMemory& memory) {
  JsonLimits limits;
  limits.memory = &memory;
  return limits;
}

namespace {

// Checks one listed flow against the entries (present, sizes, sha256) and,
// when complete, validates it on its own within \a memory; its problems go
// to \a problems. Its documents move out of \a entries into \a pf (the
// other flows' threads only look up other names meanwhile).
void CheckFlowFiles(const PackageFlowInfo& info, std::map<std::string, std::string>& entries,
                    const std::set<std::string>& known, std::size_t memory, PackagedFlow& pf,
                    std::vector<Problem>& problems) {
  const bool none_present = std::none_of(info.files.begin(), info.files.end(), [&](const auto& file) {
    return entries.count(info.path + "/" + file.name) > 0;
  });
  if (none_present && !info.files.empty()) {
    Add(problems, Printable(info.path), "package/missing-file",
        "flow '" + Printable(info.id) + "' is listed in manifest.json but none of its files is in the package");
    pf.complete = false;
    return;
  }
  for (const auto& file : info.files) {
    std::string name = info.path + "/" + file.name;
    auto it = entries.find(name);
    if (it == entries.end()) {
      Add(problems, Printable(name), "package/missing-file", "listed in manifest.json but not in the package");
      pf.complete = false;
      continue;
    }
    if (it->second.size() != file.size) {
      Add(problems, Printable(name), "package/size",
          "holds " + std::to_string(it->second.size()) + " bytes, manifest.json says " + std::to_string(file.size));
      pf.complete = false;
      continue;
    }
    if (Sha256Hex(it->second) != file.sha256) {
      Add(problems, Printable(name), "package/sha256", "sha256 does not match manifest.json");
      pf.complete = false;
      continue;
    }
    if (file.name == kFlowDefinitionFile) pf.flow.flow_definition = std::move(it->second);
    if (file.name == kAppDefinitionFile) pf.flow.app_definition = std::move(it->second);
    if (file.name == kEnvVariablesFile) pf.flow.env_variables = std::move(it->second);
  }
  if (pf.complete && (pf.flow.app_definition.empty() || pf.flow.flow_definition.empty())) {
    pf.complete = false;  // reported by ManifestFromJson
  }
  if (pf.complete) {
    std::size_t before = problems.size();
    ValidationContext context{InSet(known), std::nullopt, CredentialPolicy::kAllowUnbound};
    JsonMemory flow_memory(memory);
    for (auto& p : ValidateFlow(pf.flow, context, PackageJsonLimits(flow_memory))) {
      problems.push_back(std::move(p));
    }
    if (problems.size() == before) {
      JsonMemory app_memory(memory);  // what validation parsed is freed
      Json app = ParseJson(pf.flow.app_definition, info.path + "/" + std::string(kAppDefinitionFile),
                           PackageJsonLimits(app_memory));
      std::string name = StringOr(app, "name");
      std::string format = StringOr(app, "format", std::string(kNativeFormat));
      const std::string app_file = info.path + "/" + std::string(kAppDefinitionFile);
      if (name != info.name) {
        Add(problems, app_file, "package/manifest",
            "name '" + Printable(name) + "' differs from manifest.json ('" + Printable(info.name) + "')");
      }
      if (format != info.format) {
        Add(problems, app_file, "package/manifest",
            "format '" + Printable(format) + "' differs from manifest.json ('" + Printable(info.format) + "')");
      }
      pf.valid = problems.size() == before;
    }
  }
}

// What the listed documents of \a info can take parsed, at most.
std::size_t ParsedBytesOf(const PackageFlowInfo& info, const std::map<std::string, std::string>& entries) {
  std::size_t total = 0;
  for (const auto& file : info.files) {
    auto it = entries.find(info.path + "/" + file.name);
    if (it == entries.end()) continue;
    const std::size_t need = MaxParsedBytes(it->second.size());
    total = need > SIZE_MAX - total ? SIZE_MAX : total + need;
  }
  return total;
}

}  // namespace

LoadedPackage CheckPackage(const std::string& label, std::map<std::string, std::string> entries,
                           const PackageLimits& limits) {
  LoadedPackage out;
  PackageReport& report = out.report;
  report.path = label;
  report.entries = entries.size();
  for (const auto& [name, data] : entries) report.bytes += data.size();
  std::vector<Problem>& problems = report.problems;
  const std::string manifest_name(kManifestName);

  auto manifest_it = entries.find(manifest_name);
  if (manifest_it == entries.end()) {
    Add(problems, manifest_name, "package/manifest", "manifest.json is missing");
    return out;
  }
  Json doc;
  const auto parse_budget = static_cast<std::size_t>(std::min<std::uint64_t>(limits.parse_budget(), SIZE_MAX));
  try {
    JsonMemory memory(parse_budget);
    JsonLimits json_limits = PackageJsonLimits(memory);
    json_limits.max_bytes = static_cast<std::size_t>(std::min<std::uint64_t>(limits.max_entry_bytes, SIZE_MAX));
    doc = ParseJson(manifest_it->second, manifest_name, json_limits);
  } catch (const Error& e) {
    std::string message = e.what();
    if (message.rfind(manifest_name + ": ", 0) == 0) message = message.substr(manifest_name.size() + 2);
    Add(problems, manifest_name, "json", message);
    return out;
  }
  if (!doc.is_object()) {
    Add(problems, manifest_name, "package/manifest", "manifest must be a JSON object");
    return out;
  }
  std::string schema = StringOr(doc, "schema");
  if (schema != kPackageSchema) {
    std::string prefix = "flowrepo/package@";
    Add(problems, manifest_name, "package/schema",
        schema.rfind(prefix, 0) == 0 ? "package schema '" + Printable(schema) +
                                           "' is not supported; this flowrepo reads " + std::string(kPackageSchema)
                                     : "not a flowrepo package: schema is '" + Printable(schema) + "', expected '" +
                                           std::string(kPackageSchema) + "'");
    return out;
  }
  report.manifest = ManifestFromJson(doc, problems);
  ScanSecrets(doc, manifest_name, problems);
  doc = Json();  // its memory goes to the flows' documents
  const PackageManifest& manifest = report.manifest;
  if (!problems.empty()) {
    // The entries are not checked against a manifest that is itself wrong.
    out.flows.resize(manifest.flows.size());  // parallel, none complete
    for (std::size_t i = 0; i < manifest.flows.size(); ++i) {
      const PackageFlowInfo& info = manifest.flows[i];
      out.flows[i].flow.summary = {info.id, info.name, info.group, info.format};
    }
    return out;
  }

  // Subflows may point at flows in the package or at declared requirements.
  std::set<std::string> known;
  std::set<std::string> paths;
  for (const auto& f : manifest.flows) {
    known.insert(f.id);
    paths.insert(f.path);
    for (const auto& d : f.dependencies) known.insert(d.flow);
  }
  known.insert(manifest.required_flows.begin(), manifest.required_flows.end());

  std::set<std::string> listed = {manifest_name};
  std::vector<std::vector<Problem>> flow_problems(manifest.flows.size());
  out.flows.resize(manifest.flows.size());
  for (std::size_t i = 0; i < manifest.flows.size(); ++i) {
    const PackageFlowInfo& info = manifest.flows[i];
    PackagedFlow& pf = out.flows[i];
    pf.flow.summary = {info.id, info.name, info.group, info.format};
    pf.complete = IsValidId(info.id) && IsValidGroup(info.group) && !info.files.empty();
    // A flow folder inside another flow's folder cannot be stored.
    for (std::size_t slash = info.path.find('/'); slash != std::string::npos; slash = info.path.find('/', slash + 1)) {
      if (paths.count(info.path.substr(0, slash))) {
        Add(flow_problems[i], info.path, "package/layout",
            "flow folder is inside the folder of flow '" + info.path.substr(0, slash) + "'");
        pf.complete = false;
      }
    }
    for (const auto& file : info.files) listed.insert(info.path + "/" + file.name);
  }
  // Hashing and validating are most of the reading; flows are independent.
  // Each holds, while it is checked, what its documents can take parsed.
  MemoryBudget budget(parse_budget);
  ParallelFor(manifest.flows.size(), [&](std::size_t i, std::size_t) {
    MemoryBudget::Lease lease = budget.Acquire(ParsedBytesOf(manifest.flows[i], entries));
    CheckFlowFiles(manifest.flows[i], entries, known, lease.bytes(), out.flows[i], flow_problems[i]);
  });
  for (auto& fp : flow_problems) {
    problems.insert(problems.end(), std::make_move_iterator(fp.begin()), std::make_move_iterator(fp.end()));
  }
  for (const auto& [name, data] : entries) {
    if (!listed.count(name)) {
      Add(problems, Printable(name), "package/unlisted-entry", "entry is not listed in manifest.json");
    }
  }
  return out;
}

PackageReport VerifyPackage(const std::string& path, const PackageLimits& limits) {
  return LoadPackage(path, limits).report;
}

}  // namespace flowrepo
