#pragma once
// The one Range / If-Range / 416 rule (RFC 9110 §13.1.5, §14) that the origin and the caching
// tiers apply to a 200 representation. Single byte ranges only: enough for players seeking in
// segments and MP4s; a request with several ranges is answered with the whole representation,
// which the RFC allows. Offsets are 64-bit throughout (files above 4 GiB).
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/message.h"

namespace cdn::http {

struct ByteRange {
  uint64_t first = 0, last = 0;  // inclusive
  uint64_t length() const { return last - first + 1; }
};
enum class RangeResult { None, Satisfiable, Unsatisfiable };
RangeResult parse_range(std::string_view header, uint64_t size, ByteRange& out);

// What If-Range is compared with: the selected representation's validators.
struct Validators {
  std::string_view etag;         // as sent in ETag, quotes included; empty = none
  int64_t last_modified_s = -1;  // -1 = none
  int64_t date_s = -1;           // the response's Date; decides whether Last-Modified is strong
};

// RFC 9110 §13.1.5: true when If-Range (the header value) lets the Range apply. An entity-tag
// matches only by strong comparison (a weak tag on either side never matches); a date matches
// only a strong Last-Modified (Date at least one second later) that equals it exactly.
bool if_range_matches(std::string_view if_range, const Validators& v);

struct RangePlan {
  enum class Kind { Full, Partial, Unsatisfiable } kind = Kind::Full;
  ByteRange range;  // Partial only
};

// How to answer `req` from a 200 representation of `size` bytes: Range is honoured on GET only,
// and only when If-Range (if any) matches; otherwise the whole representation.
RangePlan plan_range(const Request& req, uint64_t size, const Validators& v);

// Content-Range for a 206 ("bytes first-last/size") or a 416 ("bytes */size").
std::string content_range(const RangePlan& plan, uint64_t size);

}  // namespace cdn::http
