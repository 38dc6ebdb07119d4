#pragma once
// What the cache stores for one key, and its on-disk encoding.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/bytes.h"
#include "common/util/result.h"

namespace cdn::cache {

struct StoredHeader {
  std::string name, value;
};

struct ObjectMeta {
  int status = 200;
  std::vector<StoredHeader> headers;  // end-to-end response headers as received (caller strips hop-by-hop)
  int64_t request_time_ms = 0, response_time_ms = 0;  // unix ms around the upstream fetch
  int64_t date_s = 0;            // Date header (or response time) in unix seconds
  int64_t age_s = 0;             // Age header value at receipt
  int64_t fresh_lifetime_s = 0;  // computed when stored (freshness.h)
  int64_t stale_while_revalidate_s = 0, stale_if_error_s = 0;
  bool must_revalidate = false;  // no-cache / must-revalidate / proxy-revalidate
  std::string etag, last_modified;
  uint64_t body_size = 0;
};

struct CachedObject {
  std::string key_text;
  ObjectMeta meta;
  Body body;
};
using ObjectRef = std::shared_ptr<const CachedObject>;

// Versioned binary format; an XXH3 checksum covers every byte before it.
std::string serialize(const CachedObject& obj);
// Any corruption, truncation or unknown version yields an Error, never a wrong body.
Result<CachedObject> deserialize(std::string_view data);

// The last unix second at which the object may be served at all, fresh or stale
// (fresh lifetime + max(swr, sie), no stale window when must_revalidate). Used by disk GC.
int64_t expires_at_s(const ObjectMeta& meta);

// Reads expires_at_s from the fixed-size head of a serialized object without touching (or
// verifying) the rest; nullopt if the head is not one this version wrote.
std::optional<int64_t> peek_expires_at_s(std::string_view data);

}  // namespace cdn::cache
