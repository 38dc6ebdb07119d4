#pragma once
// Builders shared by the cache tests.
#include <string>

#include "common/cache/object.h"

namespace cdn::cache::testing {

inline CachedObject make_object(std::string key, std::string body, size_t chunk = 0) {
  CachedObject o;
  o.key_text = std::move(key);
  o.meta.status = 200;
  o.meta.headers = {{"Content-Type", "video/mp2t"}, {"Cache-Control", "max-age=60"}};
  o.meta.request_time_ms = 1'700'000'000'000;
  o.meta.response_time_ms = 1'700'000'000'250;
  o.meta.date_s = 1'700'000'000;
  o.meta.fresh_lifetime_s = 60;
  o.meta.stale_while_revalidate_s = 5;
  o.meta.stale_if_error_s = 30;
  o.meta.etag = "\"v1\"";
  o.meta.last_modified = "Tue, 14 Nov 2023 22:13:20 GMT";
  o.meta.body_size = body.size();
  if (chunk == 0) chunk = body.size();
  for (size_t i = 0; i < body.size(); i += chunk) o.body.append(make_bytes(std::string_view(body).substr(i, chunk)));
  return o;
}

inline ObjectRef make_ref(std::string key, std::string body) {
  return std::make_shared<const CachedObject>(make_object(std::move(key), std::move(body)));
}

}  // namespace cdn::cache::testing
