#include "common/proxy/response_headers.h"

#include "common/util/http_date.h"
#include "common/util/strings.h"

namespace cdn::proxy {

static bool skip_stored(std::string_view name) {
  return http::is_hop_by_hop(name) || iequals(name, "content-length") || iequals(name, "age") ||
         iequals(name, "x-cache");
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

http::Headers client_headers(const std::vector<cache::StoredHeader>& stored, int64_t age_s,
                             std::string_view cache_status, std::string_view via_name) {
  http::Headers h;
  h.raw().reserve(stored.size() + 4);
  for (auto& s : stored)
    if (!skip_stored(s.name)) h.add(s.name, s.value);
  finish(h, age_s, cache_status, via_name);
  return h;
}

http::Headers client_headers(const http::Headers& upstream, int64_t age_s, std::string_view cache_status,
                             std::string_view via_name) {
  http::Headers h;
  h.raw().reserve(upstream.size() + 4);
  for (auto& s : upstream)
    if (!skip_stored(s.name)) h.add(s.name, s.value);
  finish(h, age_s, cache_status, via_name);
  return h;
}

static bool etag_matches(std::string_view list, std::string_view etag) {
  if (etag.empty()) return false;
  auto weak_strip = [](std::string_view t) {
    t = trim(t);
    if (t.size() > 2 && t[0] == 'W' && t[1] == '/') t.remove_prefix(2);
    return t;
  };
  if (trim(list) == "*") return true;
  for (auto part : split(list, ','))
    if (weak_strip(part) == weak_strip(etag)) return true;
  return false;
}

bool not_modified(const http::Request& req, const cache::ObjectMeta& meta) {
  if (meta.status != 200) return false;
  if (auto* inm = req.headers.get("if-none-match")) return etag_matches(*inm, meta.etag);
  if (auto* ims = req.headers.get("if-modified-since"); ims && !meta.last_modified.empty()) {
    int64_t since = parse_http_date(*ims);
    int64_t lm = parse_http_date(meta.last_modified);
    return since >= 0 && lm >= 0 && lm <= since;
  }
  return false;
}

}  // namespace cdn::proxy
