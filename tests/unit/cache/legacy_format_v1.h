#pragma once
// The disk format before chunked bodies (version 1), frozen as it was written, so that tests can
// build a cache the way the previous release left it. Do not "fix" or share code with object.cpp:
// this file is the old writer, byte for byte.
#include <xxhash.h>

#include <string>

#include "common/cache/object.h"

namespace cdn::cache::testing {

inline void v1_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}
inline void v1_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}
inline void v1_str(std::string& out, const std::string& s) {
  v1_u32(out, uint32_t(s.size()));
  out += s;
}

// magic "CDNo", version 1, 3 zero bytes, expires_at_s, meta_len u32, body_len u64, meta, body,
// XXH3-64 of everything before it.
inline std::string serialize_v1(const CachedObject& obj) {
  const ObjectMeta& m = obj.meta;
  std::string meta;
  v1_str(meta, obj.key_text);
  v1_u32(meta, uint32_t(m.status));
  v1_u32(meta, uint32_t(m.headers.size()));
  for (const auto& h : m.headers) {
    v1_str(meta, h.name);
    v1_str(meta, h.value);
  }
  const int64_t times[] = {m.request_time_ms, m.response_time_ms, m.date_s,
                           m.age_s,           m.fresh_lifetime_s, m.stale_while_revalidate_s,
                           m.stale_if_error_s};
  for (int64_t v : times) v1_u64(meta, uint64_t(v));
  meta.push_back(m.must_revalidate ? 1 : 0);
  v1_str(meta, m.etag);
  v1_str(meta, m.last_modified);
  v1_u64(meta, m.body_size);

  std::string out;
  v1_u32(out, 0x6f4e4443);
  out.push_back(1);
  out.append(3, '\0');
  v1_u64(out, uint64_t(expires_at_s(obj.meta)));
  v1_u32(out, uint32_t(meta.size()));
  v1_u64(out, obj.body.size);
  out += meta;
  for (const auto& c : obj.body.chunks) out += *c;
  v1_u64(out, XXH3_64bits(out.data(), out.size()));
  return out;
}

// The previous release's index record: {seq, size} as 16 big-endian bytes.
inline std::string index_v1(uint64_t seq, uint64_t size) {
  std::string out;
  for (uint64_t v : {seq, size})
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(char((v >> shift) & 0xff));
  return out;
}

}  // namespace cdn::cache::testing
