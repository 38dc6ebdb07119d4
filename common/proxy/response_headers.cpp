#include "common/proxy/response_headers.h"

#include "common/cache/surrogate_keys.h"
#include "common/http/conditional.h"

#include "common/util/http_date.h"
#include "common/util/strings.h"

namespace cdn::proxy {

static bool skip_stored(std::string_view name, bool strip_surrogate_keys) {
  return http::is_hop_by_hop(name) || iequals(name, "content-length") || iequals(name, "age") ||
         iequals(name, "x-cache") || (strip_surrogate_keys && cache::is_surrogate_key_header(name));
}

static void finish(http::Headers& h, int64_t age_s, std::string_view cache_status, std::string_view via_name) {
  h.add("Age", std::to_string(age_s < 0 ? 0 : age_s));
  h.add("X-Cache", std::string(cache_status));
  std::string via = "1.1 " + std::string(via_name);
  if (auto* v = h.get("via")) {
    h.set("Via", *v + ", " + via);
  } else {
    h.add("Via", via);
  }
  if (!h.get("accept-ranges")) h.add("Accept-Ranges", "bytes");
}

// Stored and upstream headers have the same {name, value} shape.
template <typename List>
static http::Headers build(const List& from, int64_t age_s, std::string_view cache_status, std::string_view via_name,
                           bool strip_surrogate_keys) {
  http::Headers h;
  h.raw().reserve(from.size() + 4);
  for (auto& x : from)
    if (!skip_stored(x.name, strip_surrogate_keys)) h.add(x.name, x.value);
  finish(h, age_s, cache_status, via_name);
  return h;
}

http::Headers client_headers(const std::vector<cache::StoredHeader>& stored, int64_t age_s,
                             std::string_view cache_status, std::string_view via_name,
                             bool strip_surrogate_keys) {
  return build(stored, age_s, cache_status, via_name, strip_surrogate_keys);
}

http::Headers client_headers(const http::Headers& upstream, int64_t age_s, std::string_view cache_status,
                             std::string_view via_name, bool strip_surrogate_keys) {
  return build(upstream, age_s, cache_status, via_name, strip_surrogate_keys);
}

bool not_modified(const http::Request& req, const cache::ObjectMeta& meta) {
  if (meta.status != 200) return false;
  // Most requests carry no validator: nothing to compare, and no date to parse on every hit.
  if (!req.headers.get("if-none-match") && !req.headers.get("if-modified-since")) return false;
  int64_t lm = meta.last_modified.empty() ? -1 : parse_http_date(meta.last_modified);
  return http::not_modified(req, meta.etag, lm);
}

}  // namespace cdn::proxy
