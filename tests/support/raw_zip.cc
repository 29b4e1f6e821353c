#include "support/raw_zip.h"

#include <zip.h>

namespace flowrepo::testing {
namespace {

void Put16(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
}

void Put32(std::string& out, std::uint32_t v) {
  Put16(out, v & 0xffff);
  Put16(out, v >> 16);
}

}  // namespace

std::uint32_t Crc32(const std::string& data) {
  std::uint32_t crc = 0xffffffffu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

std::string RawZip(const std::vector<RawEntry>& entries) {
  std::string out, central;
  for (const auto& e : entries) {
    auto offset = static_cast<std::uint32_t>(out.size());
    std::uint32_t crc = e.crc.value_or(Crc32(e.data));
    std::uint32_t size = e.declared_size.value_or(static_cast<std::uint32_t>(e.data.size()));
    auto comp = static_cast<std::uint32_t>(e.data.size());
    // Local header.
    Put32(out, 0x04034b50);
    Put16(out, 20);
    Put16(out, e.flags);
    Put16(out, e.method);
    Put16(out, 0);             // time
    Put16(out, (1 << 5) | 1);  // date 1980-01-01
    Put32(out, crc);
    Put32(out, comp);
    Put32(out, size);
    Put16(out, static_cast<std::uint32_t>(e.name.size()));
    Put16(out, static_cast<std::uint32_t>(e.extra.size()));
    out += e.name;
    out += e.extra;
    out += e.data;
    // Central directory entry.
    Put32(central, 0x02014b50);
    Put16(central, (3 << 8) | 20);  // made by Unix
    Put16(central, 20);
    Put16(central, e.flags);
    Put16(central, e.method);
    Put16(central, 0);
    Put16(central, (1 << 5) | 1);
    Put32(central, crc);
    Put32(central, comp);
    Put32(central, size);
    Put16(central, static_cast<std::uint32_t>(e.name.size()));
    Put16(central, static_cast<std::uint32_t>(e.extra.size()));
    Put16(central, 0);  // comment
    Put16(central, 0);  // disk
    Put16(central, 0);  // internal attributes
    Put32(central, e.unix_mode << 16);
    Put32(central, offset);
    central += e.name;
    central += e.extra;
  }
  auto cd_offset = static_cast<std::uint32_t>(out.size());
  out += central;
  Put32(out, 0x06054b50);
  Put16(out, 0);
  Put16(out, 0);
  Put16(out, static_cast<std::uint32_t>(entries.size()));
  Put16(out, static_cast<std::uint32_t>(entries.size()));
  Put32(out, static_cast<std::uint32_t>(central.size()));
  Put32(out, cd_offset);
  Put16(out, 0);
  return out;
}

std::vector<std::pair<std::string, std::string>> ReadZipEntries(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  int error = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_RDONLY, &error);
  if (!za) return out;
  zip_int64_t n = zip_get_num_entries(za, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    auto index = static_cast<zip_uint64_t>(i);
    std::string name = zip_get_name(za, index, 0);
    std::string data;
    if (zip_file_t* f = zip_fopen_index(za, index, 0)) {
      char buf[4096];
      zip_int64_t got;
      while ((got = zip_fread(f, buf, sizeof buf)) > 0) data.append(buf, static_cast<std::size_t>(got));
      zip_fclose(f);
    }
    out.emplace_back(std::move(name), std::move(data));
  }
  zip_discard(za);
  return out;
}

std::string RezipStored(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::vector<RawEntry> raw;
  for (const auto& [name, data] : entries) {
    RawEntry e;
    e.name = name;
    e.data = data;
    raw.push_back(std::move(e));
  }
  return RawZip(raw);
}

}  // namespace flowrepo::testing
