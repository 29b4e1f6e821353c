#include "hostile/zip_bytes.h"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>

namespace flowrepo::testing::hostile {
namespace {

void Put16(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
}

void Put32(std::string& out, std::uint32_t v) {
  Put16(out, v & 0xffff);
  Put16(out, v >> 16);
}

void Put64(std::string& out, std::uint64_t v) {
  Put32(out, static_cast<std::uint32_t>(v));
  Put32(out, static_cast<std::uint32_t>(v >> 32));
}

std::uint32_t Get16(const std::string& s, std::size_t at) {
  return static_cast<unsigned char>(s[at]) | static_cast<unsigned char>(s[at + 1]) << 8;
}

std::uint32_t Get32(const std::string& s, std::size_t at) { return Get16(s, at) | Get16(s, at + 2) << 16; }

// Streams \a n bytes of \a fill (or \a data when given) through raw deflate.
std::string DeflateStream(const std::string* data, std::uint64_t zeros) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  static const std::string kZeros(1 << 20, '\0');
  std::string out;
  char buf[1 << 16];
  std::uint64_t left = data ? data->size() : zeros;
  std::size_t offset = 0;
  int flush = Z_NO_FLUSH;
  do {
    std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(left, kZeros.size()));
    const char* in = data ? data->data() + offset : kZeros.data();
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in));
    z.avail_in = static_cast<uInt>(chunk);
    left -= chunk;
    offset += chunk;
    flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      deflate(&z, flush);
      out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0);
  } while (flush != Z_FINISH);
  deflateEnd(&z);
  return out;
}

}  // namespace

std::uint32_t Crc32(const std::string& data) {
  return static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

std::string Deflate(const std::string& data) { return DeflateStream(&data, 0); }

std::string DeflateZeros(std::uint64_t n) { return DeflateStream(nullptr, n); }

std::uint32_t Crc32Zeros(std::uint64_t n) {
  static const std::string kZeros(1 << 20, '\0');
  uLong crc = crc32(0, nullptr, 0);
  while (n > 0) {
    auto chunk = static_cast<uInt>(std::min<std::uint64_t>(n, kZeros.size()));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(kZeros.data()), chunk);
    n -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

std::string OverlappingZip(const std::vector<std::string>& names) {
  // Lay out the local headers first (sizes patched afterwards), then give
  // entry i the bytes from its data start to the end of the local area.
  std::string local;
  std::vector<std::size_t> offsets, data_starts;
  for (const auto& name : names) {
    offsets.push_back(local.size());
    Put32(local, 0x04034b50);
    Put16(local, 20);
    Put16(local, 0x0800);
    Put16(local, 0);  // stored
    Put16(local, 0);
    Put16(local, (1 << 5) | 1);
    Put32(local, 0);  // crc, patched
    Put32(local, 0);  // sizes, patched
    Put32(local, 0);
    Put16(local, static_cast<std::uint32_t>(name.size()));
    Put16(local, 0);
    local += name;
    data_starts.push_back(local.size());
  }
  local += "{}";  // the last entry's own data
  // Sizes do not change the layout. Entry i's CRC covers the headers after
  // it, CRC fields included: computed from the last entry backwards, each
  // covers only final bytes.
  std::vector<std::uint32_t> crcs(names.size()), sizes(names.size());
  for (std::size_t i = names.size(); i-- > 0;) {
    sizes[i] = static_cast<std::uint32_t>(local.size() - data_starts[i]);
    Put32At(local, offsets[i] + 18, sizes[i]);
    Put32At(local, offsets[i] + 22, sizes[i]);
  }
  for (std::size_t i = names.size(); i-- > 0;) {
    crcs[i] = Crc32(local.substr(data_starts[i]));
    Put32At(local, offsets[i] + 14, crcs[i]);
  }
  std::string central;
  for (std::size_t i = 0; i < names.size(); ++i) {
    Put32(central, 0x02014b50);
    Put16(central, (3 << 8) | 20);
    Put16(central, 20);
    Put16(central, 0x0800);
    Put16(central, 0);
    Put16(central, 0);
    Put16(central, (1 << 5) | 1);
    Put32(central, crcs[i]);
    Put32(central, sizes[i]);
    Put32(central, sizes[i]);
    Put16(central, static_cast<std::uint32_t>(names[i].size()));
    Put16(central, 0);
    Put16(central, 0);
    Put16(central, 0);
    Put16(central, 0);
    Put32(central, 0100644u << 16);
    Put32(central, static_cast<std::uint32_t>(offsets[i]));
    central += names[i];
  }
  std::string out = local;
  auto cd_offset = static_cast<std::uint32_t>(out.size());
  out += central;
  Put32(out, 0x06054b50);
  Put16(out, 0);
  Put16(out, 0);
  Put16(out, static_cast<std::uint32_t>(names.size()));
  Put16(out, static_cast<std::uint32_t>(names.size()));
  Put32(out, static_cast<std::uint32_t>(central.size()));
  Put32(out, cd_offset);
  Put16(out, 0);
  return out;
}

std::string BuildZip(const std::vector<ZipEntry>& entries, const ZipLayout& layout) {
  std::string out = layout.prefix, central;
  std::vector<std::uint32_t> offsets;
  for (const auto& e : entries) {
    std::string payload = e.raw ? *e.raw : e.method == 8 ? Deflate(e.data) : e.data;
    std::uint32_t crc = e.crc.value_or(Crc32(e.data));
    std::uint32_t comp = e.comp_size.value_or(static_cast<std::uint32_t>(payload.size()));
    std::uint32_t size = e.size.value_or(static_cast<std::uint32_t>(e.data.size()));
    std::string extra = e.extra;
    std::uint16_t needed = 20;
    if (e.zip64_size) {
      Put16(extra, 0x0001);
      Put16(extra, 16);
      Put64(extra, *e.zip64_size);
      Put64(extra, payload.size());
      comp = size = 0xffffffffu;
      needed = 45;
    }
    std::uint32_t offset;
    if (e.shares) {
      offset = offsets.at(*e.shares);
    } else {
      offset = static_cast<std::uint32_t>(out.size());
      const std::string& local_name = e.local_name ? *e.local_name : e.name;
      Put32(out, 0x04034b50);
      Put16(out, needed);
      Put16(out, e.local_flags.value_or(e.flags));
      Put16(out, e.local_method.value_or(e.method));
      Put16(out, 0);             // time
      Put16(out, (1 << 5) | 1);  // date 1980-01-01
      Put32(out, crc);
      Put32(out, comp);
      Put32(out, size);
      Put16(out, static_cast<std::uint32_t>(local_name.size()));
      Put16(out, static_cast<std::uint32_t>(extra.size()));
      out += local_name;
      out += extra;
      out += payload;
      out += e.descriptor;
    }
    offsets.push_back(offset);
    Put32(central, 0x02014b50);
    Put16(central, e.made_by);
    Put16(central, needed);
    Put16(central, e.flags);
    Put16(central, e.method);
    Put16(central, 0);
    Put16(central, (1 << 5) | 1);
    Put32(central, crc);
    Put32(central, comp);
    Put32(central, size);
    Put16(central, static_cast<std::uint32_t>(e.name.size()));
    Put16(central, static_cast<std::uint32_t>(extra.size()));
    Put16(central, 0);  // comment
    Put16(central, 0);  // disk
    Put16(central, 0);  // internal attributes
    Put32(central, e.external);
    Put32(central, offset);
    central += e.name;
    central += extra;
  }
  auto cd_offset = static_cast<std::uint32_t>(out.size());
  out += central;
  auto count = static_cast<std::uint16_t>(entries.size());
  if (layout.zip64_end) {
    auto z64 = static_cast<std::uint64_t>(out.size());
    Put32(out, 0x06064b50);
    Put64(out, 44);  // size of the rest of the record
    Put16(out, 45);
    Put16(out, 45);
    Put32(out, 0);
    Put32(out, 0);
    Put64(out, entries.size());
    Put64(out, entries.size());
    Put64(out, central.size());
    Put64(out, cd_offset);
    Put32(out, 0x07064b50);  // locator
    Put32(out, 0);
    Put64(out, z64);
    Put32(out, 1);
    count = 0xffff;
  }
  Put32(out, 0x06054b50);
  Put16(out, 0);
  Put16(out, 0);
  Put16(out, layout.count.value_or(count));
  Put16(out, layout.count.value_or(count));
  Put32(out, static_cast<std::uint32_t>(central.size()));
  Put32(out, layout.cd_offset.value_or(cd_offset));
  Put16(out, layout.comment_length.value_or(static_cast<std::uint16_t>(layout.comment.size())));
  out += layout.comment;
  return out;
}

std::string TwoDirectoryZip(const std::vector<ZipEntry>& hidden, const std::vector<ZipEntry>& shown,
                            std::uint16_t hidden_comment_length) {
  const std::string inner = BuildZip(hidden);
  const std::size_t inner_end = EndRecord(inner);
  const std::size_t inner_cd = Get32(inner, inner_end + 16);
  const std::string hidden_central = inner.substr(inner_cd, inner_end - inner_cd);
  ZipLayout layout;
  layout.prefix = inner.substr(0, inner_cd);                       // the hidden entries come first
  layout.comment = std::string(hidden_central.size() + 22, '\0');  // placeholder, same length
  std::string out = BuildZip(shown, layout);
  const std::size_t comment_at = out.size() - layout.comment.size();
  std::string comment = hidden_central;
  Put32(comment, 0x06054b50);
  Put16(comment, 0);
  Put16(comment, 0);
  Put16(comment, static_cast<std::uint32_t>(hidden.size()));
  Put16(comment, static_cast<std::uint32_t>(hidden.size()));
  Put32(comment, static_cast<std::uint32_t>(hidden_central.size()));
  Put32(comment, static_cast<std::uint32_t>(comment_at));
  Put16(comment, hidden_comment_length);
  out.replace(comment_at, comment.size(), comment);
  return out;
}

std::string WithHiddenEntry(const std::string& zip, const ZipEntry& extra, std::size_t at) {
  const std::string one = BuildZip({extra});
  const std::string local = one.substr(0, Get32(one, EndRecord(one) + 16));
  const std::size_t end = EndRecord(zip);
  std::string out = zip;
  // Offsets at or after the insertion point move; the central directory
  // and the end record lie after it.
  for (const auto& r : ListZip(zip)) {
    if (r.local >= at) Put32At(out, r.central + 42, static_cast<std::uint32_t>(r.local + local.size()));
  }
  const std::uint32_t cd_offset = Get32(zip, end + 16);
  if (cd_offset >= at) Put32At(out, end + 16, static_cast<std::uint32_t>(cd_offset + local.size()));
  out.insert(at, local);
  return out;
}

std::size_t EndRecord(const std::string& zip) {
  if (zip.size() < 22) return std::string::npos;
  for (std::size_t at = zip.size() - 22;; --at) {
    if (Get32(zip, at) == 0x06054b50) return at;
    if (at == 0) return std::string::npos;
  }
}

std::vector<ZipRecord> ListZip(const std::string& zip) {
  std::vector<ZipRecord> out;
  std::size_t end = EndRecord(zip);
  if (end == std::string::npos) return out;
  std::size_t count = Get16(zip, end + 10);
  std::size_t at = Get32(zip, end + 16);
  for (std::size_t i = 0; i < count && at + 46 <= zip.size(); ++i) {
    ZipRecord r;
    r.central = at;
    r.method = static_cast<std::uint16_t>(Get16(zip, at + kCentralMethod));
    r.comp_size = Get32(zip, at + kCentralCompSize);
    r.size = Get32(zip, at + kCentralSize);
    std::size_t name_len = Get16(zip, at + 28), extra_len = Get16(zip, at + 30), comment_len = Get16(zip, at + 32);
    r.local = Get32(zip, at + 42);
    r.name = zip.substr(at + 46, name_len);
    r.data = r.local + 30 + Get16(zip, r.local + 26) + Get16(zip, r.local + 28);
    out.push_back(std::move(r));
    at += 46 + name_len + extra_len + comment_len;
  }
  return out;
}

void Put16At(std::string& bytes, std::size_t at, std::uint16_t value) {
  bytes[at] = static_cast<char>(value & 0xff);
  bytes[at + 1] = static_cast<char>(value >> 8);
}

void Put32At(std::string& bytes, std::size_t at, std::uint32_t value) {
  Put16At(bytes, at, static_cast<std::uint16_t>(value & 0xffff));
  Put16At(bytes, at + 2, static_cast<std::uint16_t>(value >> 16));
}

}  // namespace flowrepo::testing::hostile
