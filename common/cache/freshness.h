#pragma once
// RFC 9111 rules for a shared cache: whether to store a response, for how long it is fresh, and
// what may be done with it at a given moment.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/cache/cache_control.h"
#include "common/util/http_date.h"
#include "common/cache/object.h"

namespace cdn::cache {

// pattern is a glob over the request path where '*' matches any run of characters, '/' included
// (e.g. "*.m3u8", "/live/*").
struct TtlRule {
  std::string pattern;
  int64_t ttl_s = 0;
};

struct FreshnessPolicy {
  std::vector<TtlRule> default_ttls;  // first match wins; used only without explicit freshness
  int64_t negative_ttl_s = 10;        // 404/410 without explicit freshness
  int64_t default_swr_s = 0;
  int64_t default_sie_s = 0;
  // cache.max_object_size: a response with a larger body is passed through, never stored
  // (0 = no limit). Applied by Content-Length here and by body growth in the fetcher.
  uint64_t max_object_size = 0;
  // RFC 9213 §2.1: this cache's target list, most specific first (cache.targeted_field, then
  // CDN-Cache-Control). The first with a valid, non-empty value replaces Cache-Control and Expires.
  std::vector<std::string> targeted_fields;
};

struct StoreDecision {
  bool store = false;
  std::string reason;  // why not stored, or where the lifetime came from
  int64_t fresh_lifetime_s = 0;
  int64_t swr_s = 0, sie_s = 0;
  bool must_revalidate = false;
  // RFC 9111 §5.2.2.4: fields a qualified no-cache keeps out of the stored response.
  std::vector<std::string> omit_fields;
};

// The response's caching policy for this cache: the first valid targeted field on the policy's
// list, else Cache-Control. `targeted` says which it was (Expires counts only without one).
CacheControl effective_cache_control(const std::vector<StoredHeader>& response_headers,
                                     const FreshnessPolicy& policy, bool* targeted = nullptr);

// The one freshness decision for a response on arrival (other modules call it too, e.g. purge).
StoreDecision decide_store(std::string_view method, std::string_view path, int status,
                           const std::vector<StoredHeader>& response_headers, bool request_has_authorization,
                           const FreshnessPolicy& policy, int64_t now_s);

// RFC 9111 §4.2.3 current_age, in whole seconds, never negative.
int64_t current_age_s(const ObjectMeta& meta, int64_t now_s);
// The same from a clock in milliseconds: what the Age header says (a whole-second clock would
// make a response up to a second younger than it is).
int64_t current_age_s_at_ms(const ObjectMeta& meta, int64_t now_ms);
// RFC 9111 §5.1: the Age field's value, the first member of a (wrongly) repeated or listed
// field; 0 when that is not delta-seconds.
int64_t parse_age(const std::vector<StoredHeader>& headers);

enum class Freshness {
  Fresh,
  StaleRevalidate,  // stale but within stale-while-revalidate: serve and refresh in the background
  StaleIfError,     // stale, only within stale-if-error: serve only if the upstream fails
  Expired,
};
// must_revalidate objects are never served stale.
Freshness classify(const ObjectMeta& meta, int64_t now_s);

bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace cdn::cache
