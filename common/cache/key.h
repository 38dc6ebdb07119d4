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
// `service_prefix` (key_prefix_of(name); empty for the implicit service) comes first, so two
// delivery services never share an object and a service's keys share one text prefix.
CacheKey make_key(std::string_view host, std::string_view path, std::string_view query,
                  const std::vector<std::string>& excluded_params,
                  std::string_view service_prefix = {});

// "name#": '#' is escaped in every host, so no key of the implicit service (which starts with
// its host) can start like a named service's.
std::string key_prefix_of(std::string_view service_name);

uint64_t hash64(std::string_view s);
uint64_t hash64_seeded(std::string_view s, uint64_t seed);

}  // namespace cdn::cache
