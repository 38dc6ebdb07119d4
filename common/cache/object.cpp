#include "common/cache/object.h"

#include <xxhash.h>

#include <algorithm>

#include "common/cache/age.h"
#include "common/cache/codec.h"

namespace cdn::cache {

// Records (little-endian).
//   Version 2 head:                      Version 1 head (still read):
//    0  magic "CDNo"        4              0  magic "CDNo"   4
//    4  version (2)         1              4  version (1)    1
//    5  zero padding        3              5  zero padding   3
//    8  expires_at_s        8              8  expires_at_s   8
//   16  meta_len            4             16  meta_len       4
//   20  inline body_len     8             20  body_len       8
//   28  generation          8             28  meta, body, xxh3_64
//   36  chunk_count         4
//   40  chunk_size          4
//   44  meta, inline body, xxh3_64
//   Version 2 chunk: magic "CDNc" 4, version 1, padding 3, expires_at_s 8, generation 8,
//   index 4, data_len 4, data, xxh3_64.
// The checksum covers every byte before it.
namespace {

constexpr uint32_t kHeadMagic = 0x6f4e4443;   // "CDNo"
constexpr uint32_t kChunkMagic = 0x634e4443;  // "CDNc"
constexpr uint8_t kVersion1 = 1;
constexpr size_t kHeadSizeV1 = 28;
constexpr size_t kHeadSizeV2 = 44;
constexpr size_t kChunkHeadSize = 32;
constexpr size_t kTrailerSize = 8;

void put_meta(std::string& out, const CachedObject& obj) {
  const ObjectMeta& m = obj.meta;
  codec::put_str(out, obj.key_text);
  codec::put_u32(out, uint32_t(m.status));
  codec::put_u32(out, uint32_t(m.headers.size()));
  for (const auto& h : m.headers) {
    codec::put_str(out, h.name);
    codec::put_str(out, h.value);
  }
  for (int64_t v : {m.request_time_ms, m.response_time_ms, m.date_s, m.age_s, m.fresh_lifetime_s,
                    m.stale_while_revalidate_s, m.stale_if_error_s})
    codec::put_u64(out, uint64_t(v));
  codec::put_u8(out, m.must_revalidate ? 1 : 0);
  codec::put_str(out, m.etag);
  codec::put_str(out, m.last_modified);
  codec::put_u64(out, m.body_size);
  // A flags byte after the fields above; records written before it existed end without it.
  codec::put_u8(out, m.soft_purged ? 1 : 0);
}

void put_checksum(std::string& out) {
  codec::put_u64(out, XXH3_64bits(out.data(), out.size()));
}

// The bytes a checksum covers, or nullopt when the record is too short or the checksum is wrong.
// The checksum goes first: nothing after it has to be robust against a record that decodes but
// lies.
std::optional<std::string_view> checked(std::string_view data, size_t min_head) {
  if (data.size() < min_head + kTrailerSize) return std::nullopt;
  std::string_view covered = data.substr(0, data.size() - kTrailerSize);
  if (codec::load_u64(data.data() + covered.size()) != XXH3_64bits(covered.data(), covered.size()))
    return std::nullopt;
  return covered;
}

bool read_meta(std::string_view data, CachedObject& obj) {
  codec::Reader r(data);
  ObjectMeta& m = obj.meta;
  obj.key_text = r.str();
  m.status = int(int32_t(r.u32()));
  uint32_t n = r.u32();
  // Each header takes at least 8 bytes, so a count beyond that is corrupt; checking before
  // reserve() keeps a damaged count from allocating gigabytes.
  if (!r.ok() || n > r.remaining() / 8) return false;
  m.headers.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    StoredHeader h;
    h.name = r.str();
    h.value = r.str();
    m.headers.push_back(std::move(h));
  }
  for (int64_t* v : {&m.request_time_ms, &m.response_time_ms, &m.date_s, &m.age_s, &m.fresh_lifetime_s,
                     &m.stale_while_revalidate_s, &m.stale_if_error_s})
    *v = r.i64();
  uint8_t mr = r.u8();
  m.must_revalidate = mr == 1;
  m.etag = r.str();
  m.last_modified = r.str();
  m.body_size = r.u64();
  uint8_t flags = 0;
  if (r.ok() && r.remaining() == 1) flags = r.u8();
  m.soft_purged = flags == 1;
  return r.ok() && mr <= 1 && flags <= 1 && r.remaining() == 0;
}

}  // namespace

ChunkLayout layout_for(uint64_t size, uint64_t generation) {
  ChunkLayout l;
  l.generation = generation;
  if (size > kChunkSize) {
    l.chunk_size = kChunkSize;
    l.chunk_count = uint32_t((size + kChunkSize - 1) / kChunkSize);
  }
  return l;
}

std::string encode_head(const CachedObject& obj, const ChunkLayout& layout) {
  std::string meta;
  put_meta(meta, obj);
  const uint64_t inline_len = layout.chunked() ? 0 : obj.body.size;
  std::string out;
  out.reserve(kHeadSizeV2 + meta.size() + inline_len + kTrailerSize);
  codec::put_u32(out, kHeadMagic);
  codec::put_u8(out, kFormatVersion);
  out.append(3, '\0');
  codec::put_u64(out, uint64_t(expires_at_s(obj.meta)));
  codec::put_u32(out, uint32_t(meta.size()));
  codec::put_u64(out, inline_len);
  codec::put_u64(out, layout.generation);
  codec::put_u32(out, layout.chunk_count);
  codec::put_u32(out, layout.chunk_size);
  out += meta;
  if (inline_len > 0)
    for (const auto& chunk : obj.body.chunks) out += *chunk;
  put_checksum(out);
  return out;
}

Result<StoredHead> decode_head(std::string_view data) {
  auto covered = checked(data, kHeadSizeV1);
  if (!covered) return make_error("cache object: truncated or checksum mismatch");
  codec::Reader head(*covered);
  if (head.u32() != kHeadMagic) return make_error("cache object: bad magic");
  StoredHead out;
  out.format_version = head.u8();
  if (out.format_version != kVersion1 && out.format_version != kFormatVersion)
    return make_error("cache object: unsupported version");
  if (head.bytes(3) != std::string_view("\0\0\0", 3)) return make_error("cache object: bad padding");
  head.u64();  // expires_at_s is derived from meta; only the compaction filter reads it.
  uint64_t meta_len = head.u32();
  uint64_t body_len = head.u64();
  if (out.format_version == kFormatVersion) {
    out.layout.generation = head.u64();
    out.layout.chunk_count = head.u32();
    out.layout.chunk_size = head.u32();
  }
  if (!head.ok() || meta_len > head.remaining() || body_len != head.remaining() - meta_len)
    return make_error("cache object: length mismatch");
  if (!read_meta(head.bytes(meta_len), out.object)) return make_error("cache object: bad metadata");
  const ChunkLayout& l = out.layout;
  const uint64_t size = out.object.meta.body_size;
  if (l.chunked()) {
    if (body_len != 0 || l.chunk_size == 0 || size == 0 ||
        (size - 1) / l.chunk_size + 1 != l.chunk_count)
      return make_error("cache object: bad chunk layout");
  } else if (l.chunk_size != 0 || size != body_len) {
    return make_error("cache object: body size mismatch");
  }
  if (body_len > 0) out.object.body.append(make_bytes(head.bytes(body_len)));
  return out;
}

std::string encode_chunk(int64_t expires_at_s, const ChunkLayout& layout, uint32_t index,
                         std::string_view data) {
  std::string out;
  out.reserve(kChunkHeadSize + data.size() + kTrailerSize);
  codec::put_u32(out, kChunkMagic);
  codec::put_u8(out, kFormatVersion);
  out.append(3, '\0');
  codec::put_u64(out, uint64_t(expires_at_s));
  codec::put_u64(out, layout.generation);
  codec::put_u32(out, index);
  codec::put_u32(out, uint32_t(data.size()));
  out.append(data);
  put_checksum(out);
  return out;
}

Result<std::string_view> decode_chunk(std::string_view data, const ChunkLayout& layout,
                                      uint32_t index, uint64_t body_size) {
  auto covered = checked(data, kChunkHeadSize);
  if (!covered) return make_error("cache chunk: truncated or checksum mismatch");
  codec::Reader r(*covered);
  if (r.u32() != kChunkMagic || r.u8() != kFormatVersion)
    return make_error("cache chunk: bad magic or version");
  if (r.bytes(3) != std::string_view("\0\0\0", 3)) return make_error("cache chunk: bad padding");
  r.u64();
  if (r.u64() != layout.generation)
    return make_error("cache chunk: from another version of the object");
  if (r.u32() != index || index >= layout.chunk_count)
    return make_error("cache chunk: wrong index");
  const uint64_t begin = uint64_t(index) * layout.chunk_size;
  const uint64_t expected =
      std::min<uint64_t>(layout.chunk_size, body_size - std::min(body_size, begin));
  uint32_t len = r.u32();
  if (len != expected || len != r.remaining()) return make_error("cache chunk: length mismatch");
  return r.bytes(len);
}

std::string chunk_key(std::string_view key_text, uint32_t index) {
  std::string k;
  k.reserve(key_text.size() + 5);
  k.append(key_text);
  k.push_back('\0');
  for (int shift = 24; shift >= 0; shift -= 8) k.push_back(char((index >> shift) & 0xff));
  return k;
}

std::string serialize(const CachedObject& obj) {
  return encode_head(obj, ChunkLayout{});
}

Result<CachedObject> deserialize(std::string_view data) {
  auto head = decode_head(data);
  if (!head) return head.error();
  if (head->layout.chunked()) return make_error("cache object: body is in chunk records");
  return std::move(head->object);
}

int64_t expires_at_s(const ObjectMeta& meta) {
  int64_t window = meta.must_revalidate
                       ? 0
                       : std::max(clamp_delta(meta.stale_while_revalidate_s), clamp_delta(meta.stale_if_error_s));
  int64_t servable_s = clamp_delta(meta.fresh_lifetime_s) + window;
  // Servable while current_age < servable_s, where current_age = floor((now_ms - base_ms) / 1000).
  int64_t base_ms = clamp_time_ms(meta.response_time_ms) - corrected_initial_age_ms(meta);
  int64_t first_unservable_s = -floor_div(-(servable_s * 1000 + base_ms), 1000);
  return first_unservable_s - 1;
}

std::optional<int64_t> peek_expires_at_s(std::string_view data) {
  if (data.size() < 16 + kTrailerSize) return std::nullopt;
  uint32_t magic = codec::load_u32(data.data());
  uint8_t version = uint8_t(data[4]);
  bool known = (magic == kHeadMagic && (version == kVersion1 || version == kFormatVersion)) ||
               (magic == kChunkMagic && version == kFormatVersion);
  if (!known) return std::nullopt;
  return int64_t(codec::load_u64(data.data() + 8));
}

}  // namespace cdn::cache
