#pragma once
#include <string>
#include <string_view>

#include "common/cache/object.h"
#include "common/http/message.h"
#include "common/http/range.h"

namespace cdn::proxy {

// Headers a client gets for a cached or streamed object: the stored end-to-end headers plus
// Age, X-Cache, Via (RFC 9110 §7.6.3) and Accept-Ranges. `strip_surrogate_keys`: drop
// Surrogate-Key and Cache-Tag (the outermost tier does; a shield passes them on to its edges).
http::Headers client_headers(const std::vector<cache::StoredHeader>& stored, int64_t age_s,
                             std::string_view cache_status, std::string_view via_name,
                             bool strip_surrogate_keys);
http::Headers client_headers(const http::Headers& upstream, int64_t age_s, std::string_view cache_status,
                             std::string_view via_name, bool strip_surrogate_keys);

// Client conditionals against a cached object (RFC 9110 §13): true when 304 is the answer.
bool not_modified(const http::Request& req, const cache::ObjectMeta& meta);

}  // namespace cdn::proxy
