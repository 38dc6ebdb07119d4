#pragma once
// Cache keys: one canonical text per cacheable resource, plus its 64-bit hash for sharding,
// lookups and rendezvous hashing.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cdn::cache {

struct CacheKey {
  std::string text;
  uint64_t hash = 0;
};

// The text is "host/path?query" with the host lowercased and escaped so it cannot run into the
// path (see append_host); `path` must start with '/'.
// Query parameters named in excluded_params (exact, case-sensitive name match) are dropped so that
// per-viewer values such as tokens do not split the cache; the rest are stably sorted by name so
// that parameter order does not either.
CacheKey make_key(std::string_view host, std::string_view path, std::string_view query,
                  const std::vector<std::string>& excluded_params);

uint64_t hash64(std::string_view s);
uint64_t hash64_seeded(std::string_view s, uint64_t seed);

}  // namespace cdn::cache
