#include "common/proxy/request_directives.h"

#include "common/cache/cache_control.h"
#include "common/cache/freshness.h"
#include "common/util/strings.h"

namespace cdn::proxy {

RequestDirectives request_directives(const http::Request& req) {
  RequestDirectives d;
  std::string value;
  for (const auto& h : req.headers)
    if (iequals(h.name, "cache-control")) value += (value.empty() ? "" : ",") + h.value;
  if (value.empty()) {
    // RFC 9111 §5.4: Pragma: no-cache is no-cache when there is no Cache-Control.
    for (const auto& h : req.headers)
      if (iequals(h.name, "pragma"))
        for (auto tok : split(h.value, ','))
          if (iequals(trim(tok), "no-cache")) d.no_cache = true;
    return d;
  }
  cache::CacheControl cc = cache::parse_cache_control(value);
  d.only_if_cached = cc.only_if_cached;
  d.no_cache = cc.no_cache;
  d.no_store = cc.no_store;
  d.max_age = cc.max_age;
  d.min_fresh = cc.min_fresh;
  return d;
}

bool wants_validation(const RequestDirectives& d, const cache::ObjectMeta& meta, int64_t now_s) {
  if (d.no_cache) return true;  // §5.2.1.4
  int64_t age = cache::current_age_s(meta, now_s);
  if (d.max_age && age > *d.max_age) return true;                              // §5.2.1.1
  if (d.min_fresh && meta.fresh_lifetime_s - age < *d.min_fresh) return true;  // §5.2.1.3
  return false;
}

}  // namespace cdn::proxy
