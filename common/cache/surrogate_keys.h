#pragma once
// Surrogate keys (cache tags) of a stored response: Fastly's `Surrogate-Key: k1 k2` (space
// separated) and Cloudflare's `Cache-Tag: k1,k2` (comma separated), read from the upstream's
// headers. The values come from outside, so they are bounded: a key longer than kMaxKeyBytes or
// with a control byte is dropped, and at most kMaxKeys are kept per object.
#include <string>
#include <string_view>
#include <vector>

#include "common/cache/object.h"

namespace cdn::cache {

inline constexpr size_t kMaxSurrogateKeys = 64;
inline constexpr size_t kMaxSurrogateKeyBytes = 256;

// True for the two header names that carry surrogate keys.
bool is_surrogate_key_header(std::string_view name);

// The object's keys, in first-seen order, without duplicates.
std::vector<std::string> surrogate_keys(const std::vector<StoredHeader>& headers);

// One key as an operator typed it (purge ?key=): true when it is a key surrogate_keys() can yield.
bool valid_surrogate_key(std::string_view key);

}  // namespace cdn::cache
