#include "common/cache/freshness.h"

#include <algorithm>
#include <optional>

#include "common/cache/age.h"
#include "common/cache/purge_marks.h"
#include "common/util/strings.h"

namespace cdn::cache {

namespace {

constexpr int64_t kHeuristicCapS = 86400;

const std::string* find_header(const std::vector<StoredHeader>& headers, std::string_view name) {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

// Repeated field lines of a list-valued header mean the same as one line joined with commas.
std::string joined_header(const std::vector<StoredHeader>& headers, std::string_view name) {
  std::string out;
  for (const auto& h : headers) {
    if (!iequals(h.name, name)) continue;
    if (!out.empty()) out += ',';
    out += h.value;
  }
  return out;
}

bool vary_star(const std::vector<StoredHeader>& headers) {
  std::string vary = joined_header(headers, "vary");  // must outlive the views split() returns
  for (std::string_view field : split(vary, ','))
    if (trim(field) == "*") return true;
  return false;
}

bool heuristically_cacheable(int status) {
  switch (status) {
    case 200: case 203: case 204: case 300: case 301: case 308:
    case 404: case 405: case 410: case 414: case 501:
      return true;
    default:
      return false;
  }
}

StoreDecision no_store(std::string reason) {
  StoreDecision d;
  d.reason = std::move(reason);
  return d;
}

struct Lifetime {
  int64_t seconds;
  const char* source;
};

// Origin-given freshness (RFC 9111 §4.2.1), which takes precedence over every local default.
std::optional<Lifetime> explicit_lifetime(const CacheControl& cc,
                                          const std::vector<StoredHeader>& headers, int64_t date_s,
                                          bool targeted) {
  if (cc.invalid_freshness) return Lifetime{0, "invalid max-age/s-maxage"};
  if (cc.s_maxage) return Lifetime{*cc.s_maxage, "s-maxage"};
  if (cc.max_age) return Lifetime{*cc.max_age, "max-age"};
  if (targeted) return std::nullopt;  // RFC 9213 §2.1: a targeted field replaces Expires too
  if (const std::string* expires = find_header(headers, "expires")) {
    int64_t t = parse_http_date(*expires);
    // An invalid Expires (notably "0") means already expired (RFC 9111 §5.3).
    return Lifetime{t < 0 ? 0 : clamp_delta(t - date_s), "expires"};
  }
  return std::nullopt;
}

std::optional<Lifetime> default_lifetime(std::string_view path, int status, const std::vector<StoredHeader>& headers,
                                         int64_t date_s, const FreshnessPolicy& policy) {
  // Before path rules: a "*.ts = 1 day" rule must not pin a missing segment for a day.
  if (status == 404 || status == 410) return Lifetime{clamp_delta(policy.negative_ttl_s), "negative ttl"};
  for (const auto& rule : policy.default_ttls)
    if (glob_match(rule.pattern, path)) return Lifetime{clamp_delta(rule.ttl_s), "default ttl rule"};
  if (const std::string* lm = find_header(headers, "last-modified")) {
    int64_t t = parse_http_date(*lm);
    if (t >= 0 && t <= date_s) return Lifetime{std::min((date_s - t) / 10, kHeuristicCapS), "heuristic"};
  }
  return std::nullopt;
}

}  // namespace

CacheControl effective_cache_control(const std::vector<StoredHeader>& response_headers,
                                     const FreshnessPolicy& policy, bool* targeted) {
  for (const auto& name : policy.targeted_fields) {
    std::string value = joined_header(response_headers, name);
    if (value.empty()) continue;
    if (auto cc = parse_targeted_cache_control(value)) {  // RFC 9213 §2.1: first valid one wins
      if (targeted) *targeted = true;
      return *cc;
    }
  }
  if (targeted) *targeted = false;
  return parse_cache_control(joined_header(response_headers, "cache-control"));
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Greedy match with backtracking to the last '*': linear in practice, no recursion.
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

StoreDecision decide_store(std::string_view method, std::string_view path, int status,
                           const std::vector<StoredHeader>& response_headers, bool request_has_authorization,
                           const FreshnessPolicy& policy, int64_t now_s) {
  if (method != "GET") return no_store("method " + std::string(method));
  if (status == 206) return no_store("partial content");
  bool targeted = false;
  CacheControl cc = effective_cache_control(response_headers, policy, &targeted);
  if (cc.no_store) return no_store("no-store");
  if (cc.is_private) return no_store("private");
  if (vary_star(response_headers)) return no_store("vary *");
  if (policy.max_object_size != 0) {
    if (const std::string* cl = find_header(response_headers, "content-length")) {
      auto n = parse_int(*cl);
      if (n && *n >= 0 && uint64_t(*n) > policy.max_object_size)
        return no_store("larger than max_object_size");
    }
  }
  // RFC 9111 §3.5: only these directives make an authorized response shareable.
  if (request_has_authorization && !cc.is_public && !cc.s_maxage && !cc.must_revalidate)
    return no_store("authorization");

  int64_t date_s = now_s;
  if (const std::string* date = find_header(response_headers, "date")) {
    int64_t t = parse_http_date(*date);
    if (t >= 0) date_s = t;
  }

  std::optional<Lifetime> lifetime = explicit_lifetime(cc, response_headers, date_s, targeted);
  if (!lifetime) {
    if (!heuristically_cacheable(status)) return no_store("status " + std::to_string(status) + " without freshness");
    lifetime = default_lifetime(path, status, response_headers, date_s, policy);
  }

  StoreDecision d;
  d.store = true;
  d.fresh_lifetime_s = lifetime ? lifetime->seconds : 0;
  d.reason = lifetime ? lifetime->source : "no freshness";
  // RFC 9111 §5.2.2.10: s-maxage implies proxy-revalidate. An explicit stale-while-revalidate
  // or stale-if-error alongside it is the usual CDN idiom and the origin's own grant, so only
  // then may the default stale windows give way to it.
  bool explicit_stale_grant = cc.stale_while_revalidate || cc.stale_if_error;
  d.must_revalidate = cc.no_cache || cc.must_revalidate || cc.proxy_revalidate ||
                      (cc.s_maxage && !explicit_stale_grant);
  d.omit_fields = cc.no_cache_fields;
  if (cc.no_cache) {
    d.fresh_lifetime_s = 0;  // stored only to be revalidated on every use
    d.reason = "no-cache";
  }
  if (!d.must_revalidate) {
    d.swr_s = clamp_delta(cc.stale_while_revalidate.value_or(policy.default_swr_s));
    d.sie_s = clamp_delta(cc.stale_if_error.value_or(policy.default_sie_s));
  }
  bool has_validator = find_header(response_headers, "etag") || find_header(response_headers, "last-modified");
  if (d.fresh_lifetime_s == 0 && d.swr_s == 0 && d.sie_s == 0 && !has_validator)
    return no_store("never reusable: no freshness and no validator");
  return d;
}

int64_t current_age_s(const ObjectMeta& meta, int64_t now_s) {
  return current_age_s_at_ms(meta, clamp_time_s(now_s) * 1000);
}

int64_t current_age_s_at_ms(const ObjectMeta& meta, int64_t now_ms) {
  int64_t resident_ms =
      std::max<int64_t>(0, clamp_time_ms(now_ms) - clamp_time_ms(meta.response_time_ms));
  return floor_div(corrected_initial_age_ms(meta) + resident_ms, 1000);
}

int64_t parse_age(const std::vector<StoredHeader>& headers) {
  const std::string* age = find_header(headers, "age");
  if (!age) return 0;
  std::string_view first = *age;
  first = first.substr(0, first.find(','));
  return parse_delta_seconds(first).value_or(0);
}

static Freshness classify_by_age(const ObjectMeta& meta, int64_t now_s) {
  int64_t age = current_age_s(meta, now_s);
  int64_t fresh = clamp_delta(meta.fresh_lifetime_s);
  if (age < fresh) return Freshness::Fresh;
  if (meta.must_revalidate) return Freshness::Expired;
  int64_t staleness = age - fresh;
  if (staleness < clamp_delta(meta.stale_while_revalidate_s)) return Freshness::StaleRevalidate;
  if (staleness < clamp_delta(meta.stale_if_error_s)) return Freshness::StaleIfError;
  return Freshness::Expired;
}

Freshness classify(const ObjectMeta& meta, int64_t now_s) {
  Freshness f = classify_by_age(meta, now_s);
  return soft_purged(meta) ? after_soft_purge(meta, f) : f;  // purge_marks.h
}

}  // namespace cdn::cache
