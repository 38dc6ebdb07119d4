#include "common/cache/object.h"

#include <xxhash.h>

#include <algorithm>

#include "common/cache/age.h"
#include "common/cache/codec.h"

namespace cdn::cache {

// Layout (little-endian):
//   0  magic "CDNo"        4
//   4  version             1   (currently 1)
//   5  zero padding        3
//   8  expires_at_s        8   (fixed offset so the compaction filter reads it without decoding)
//  16  meta_len            4
//  20  body_len            8
//  28  meta                meta_len
//      body                body_len
//      xxh3_64             8   over every byte before it
namespace {

constexpr uint32_t kMagic = 0x6f4e4443;  // "CDNo"
constexpr uint8_t kVersion = 1;
constexpr size_t kHeadSize = 28;
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
  return r.ok() && mr <= 1 && r.remaining() == 0;
}

}  // namespace

std::string serialize(const CachedObject& obj) {
  std::string meta;
  put_meta(meta, obj);
  std::string out;
  out.reserve(kHeadSize + meta.size() + obj.body.size + kTrailerSize);
  codec::put_u32(out, kMagic);
  codec::put_u8(out, kVersion);
  out.append(3, '\0');
  codec::put_u64(out, uint64_t(expires_at_s(obj.meta)));
  codec::put_u32(out, uint32_t(meta.size()));
  codec::put_u64(out, obj.body.size);
  out += meta;
  for (const auto& chunk : obj.body.chunks) out += *chunk;
  codec::put_u64(out, XXH3_64bits(out.data(), out.size()));
  return out;
}

Result<CachedObject> deserialize(std::string_view data) {
  if (data.size() < kHeadSize + kTrailerSize) return make_error("cache object: truncated");
  std::string_view covered = data.substr(0, data.size() - kTrailerSize);
  // The checksum goes first: nothing below has to be robust against a body that decodes but lies.
  if (codec::load_u64(data.data() + covered.size()) != XXH3_64bits(covered.data(), covered.size()))
    return make_error("cache object: checksum mismatch");
  codec::Reader head(covered);
  if (head.u32() != kMagic) return make_error("cache object: bad magic");
  if (head.u8() != kVersion) return make_error("cache object: unsupported version");
  if (head.bytes(3) != std::string_view("\0\0\0", 3)) return make_error("cache object: bad padding");
  head.u64();  // expires_at_s is derived from meta; only the compaction filter reads it.
  uint64_t meta_len = head.u32();
  uint64_t body_len = head.u64();
  if (meta_len + body_len != head.remaining()) return make_error("cache object: length mismatch");

  CachedObject obj;
  if (!read_meta(head.bytes(meta_len), obj)) return make_error("cache object: bad metadata");
  if (obj.meta.body_size != body_len) return make_error("cache object: body size mismatch");
  if (body_len > 0) obj.body.append(make_bytes(head.bytes(body_len)));
  return obj;
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
  if (data.size() < kHeadSize + kTrailerSize) return std::nullopt;
  if (codec::load_u32(data.data()) != kMagic || uint8_t(data[4]) != kVersion) return std::nullopt;
  return int64_t(codec::load_u64(data.data() + 8));
}

}  // namespace cdn::cache
