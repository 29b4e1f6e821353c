#ifndef FLOWREPO_PACKAGE_READER_H_
#define FLOWREPO_PACKAGE_READER_H_

// Reading packages safely. The zip is opened read-only with libzip's
// consistency checks; every entry's metadata is checked (allowlisted name,
// regular file, no encryption, stored or deflated, within the limits, no
// overlapping data) before any entry is decompressed, and entries are
// decompressed into bounded memory buffers, counting the bytes that really
// come out. Nothing is ever extracted to disk. Then the manifest is checked
// against the entries (sha256, sizes, nothing missing or unlisted) and
// every flow is validated on its own. Every problem of a stage is
// collected; a stage with problems (an entry refused, a limit exceeded)
// ends the reading before the next, so a hostile entry is never
// decompressed and its consequences are not reported on top of it. No
// message contains a secret value.

#include <map>
#include <string>
#include <vector>

#include "flowrepo/flow.h"
#include "flowrepo/package.h"
#include "json/json_io.h"

namespace flowrepo {

/// One flow of a package with its documents as the package holds them.
struct PackagedFlow {
  Flow flow;              ///< documents empty when a file is missing or damaged
  bool complete = false;  ///< every listed file present with its sha256
  bool valid = false;     ///< complete, and valid on its own
};

struct LoadedPackage {
  PackageReport report;
  std::vector<PackagedFlow> flows;  ///< parallel to report.manifest.flows
};

/// The JSON limits of a package's documents: the usual ones, with the
/// parsed form charged to \a memory, which must outlive the parses.
JsonLimits PackageJsonLimits(JsonMemory& memory);

/// Reads and checks the package file at \a path. Throws kNotFound,
/// kInvalidArgument (not a regular file) or kIo; problems of the content go
/// into the report.
LoadedPackage LoadPackage(const std::string& path, const PackageLimits& limits);

/// Checks package entries already in memory (name -> bytes; names already
/// allowlisted); \a label names the package in the report.
LoadedPackage CheckPackage(const std::string& label, std::map<std::string, std::string> entries,
                           const PackageLimits& limits);

}  // namespace flowrepo

#endif  // FLOWREPO_PACKAGE_READER_H_
