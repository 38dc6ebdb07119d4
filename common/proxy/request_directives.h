#pragma once
// Request cache directives (RFC 9111 §5.2.1). only-if-cached is always honoured (it costs the
// origin nothing); the others only with proxy.request_directives: honour, and then through the
// coalescer and at most one validation per object per proxy.revalidate_interval, so a client
// looping no-cache cannot drive the origin.
#include <cstdint>
#include <optional>

#include "common/cache/object.h"
#include "common/http/message.h"

namespace cdn::proxy {

struct RequestDirectives {
  bool only_if_cached = false;
  bool no_cache = false;
  bool no_store = false;
  std::optional<int64_t> max_age, min_fresh;
};

// Cache-Control of the request; Pragma: no-cache counts only without Cache-Control (§5.4).
RequestDirectives request_directives(const http::Request& req);

// Whether a stored response, fresh by its own lifetime, must be validated before it answers a
// request with these directives (no-cache, max-age exceeded, min-fresh not met).
bool wants_validation(const RequestDirectives& d, const cache::ObjectMeta& meta, int64_t now_s);

}  // namespace cdn::proxy
