#pragma once
#include <string>
#include <string_view>

#include "common/cache/object.h"
#include "common/http/message.h"

namespace cdn::proxy {

// Headers a client gets for a cached or streamed object: the stored end-to-end headers plus
// Age, X-Cache, Via (RFC 9110 §7.6.3) and Accept-Ranges.
http::Headers client_headers(const std::vector<cache::StoredHeader>& stored, int64_t age_s,
                             std::string_view cache_status, std::string_view via_name);
http::Headers client_headers(const http::Headers& upstream, int64_t age_s, std::string_view cache_status,
                             std::string_view via_name);

// Client conditionals against a cached object (RFC 9110 §13): true when 304 is the answer.
bool not_modified(const http::Request& req, const cache::ObjectMeta& meta);

struct ByteRange {
  uint64_t first = 0, last = 0;  // inclusive
};
enum class RangeResult { None, Satisfiable, Unsatisfiable };
// A single "bytes=" range; several ranges are answered with the whole object (allowed by RFC).
RangeResult parse_range(std::string_view header, uint64_t size, ByteRange& out);

}  // namespace cdn::proxy
