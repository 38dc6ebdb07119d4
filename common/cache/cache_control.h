#pragma once
// Cache-Control response directives relevant to a shared cache (RFC 9111 §5.2.2, RFC 5861).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cdn::cache {

struct CacheControl {
  std::optional<int64_t> max_age, s_maxage;
  std::optional<int64_t> stale_while_revalidate, stale_if_error;
  bool no_store = false;
  bool no_cache = false;  // unqualified: the whole response is validated before every reuse
  // RFC 9111 §5.2.2.4: no-cache="a, b" lets the response be reused without the fields it lists.
  std::vector<std::string> no_cache_fields;
  bool is_private = false;
  bool is_public = false;
  bool must_revalidate = false;
  bool proxy_revalidate = false;
  bool immutable = false;
  // Request directives (RFC 9111 §5.2.1); max-age and no-cache above serve both.
  bool only_if_cached = false;
  std::optional<int64_t> min_fresh;
  // max-age or s-maxage carried something other than delta-seconds; RFC 9111 §4.2.1 says to treat
  // such a response as stale rather than fall back to a default that the origin did not intend.
  bool invalid_freshness = false;
};

// Directive names are case-insensitive, values may be quoted, the first occurrence of a repeated
// directive wins, unknown directives are ignored. Several header lines may be joined with ','.
CacheControl parse_cache_control(std::string_view value);

// A targeted cache-control field (RFC 9213 §2.2: CDN-Cache-Control and the like), a Structured
// Fields Dictionary (RFC 8941 §3.2) with Cache-Control's directive names. nullopt when the value
// does not parse: the field is then ignored as a whole.
std::optional<CacheControl> parse_targeted_cache_control(std::string_view value);

// delta-seconds: 1*DIGIT, saturating at 2^31 (RFC 9111 §1.2.2); nullopt for anything else.
std::optional<int64_t> parse_delta_seconds(std::string_view s);

}  // namespace cdn::cache
