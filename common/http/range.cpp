#include "common/http/range.h"

#include <algorithm>
#include <optional>

#include "common/util/http_date.h"
#include "common/util/strings.h"

namespace cdn::http {

namespace {

// 1*DIGIT as a byte position; saturates instead of overflowing (a last-pos past the end is
// clamped to the end anyway, and a first-pos that large is unsatisfiable).
std::optional<uint64_t> parse_pos(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = uint64_t(c - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
  }
  return v;
}

bool is_weak(std::string_view tag) {
  return tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/';
}

bool is_entity_tag(std::string_view t) {
  if (is_weak(t)) t.remove_prefix(2);
  return t.size() >= 2 && t.front() == '"' && t.back() == '"';
}

}  // namespace

RangeResult parse_range(std::string_view header, uint64_t size, ByteRange& out) {
  header = trim(header);
  if (!starts_with(header, "bytes=")) return RangeResult::None;
  std::string_view spec = trim(header.substr(6));
  if (spec.find(',') != std::string_view::npos) return RangeResult::None;
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeResult::None;
  std::string_view a = trim(spec.substr(0, dash)), b = trim(spec.substr(dash + 1));
  if (a.empty()) {  // suffix range: last N bytes
    auto n = parse_pos(b);
    if (!n) return RangeResult::None;
    if (*n == 0 || size == 0) return RangeResult::Unsatisfiable;
    uint64_t len = std::min(*n, size);
    out = {size - len, size - 1};
    return RangeResult::Satisfiable;
  }
  auto first = parse_pos(a);
  if (!first) return RangeResult::None;
  uint64_t last = UINT64_MAX;
  if (!b.empty()) {
    auto l = parse_pos(b);
    if (!l || *l < *first) return RangeResult::None;
    last = *l;
  }
  if (*first >= size) return RangeResult::Unsatisfiable;
  out = {*first, std::min(last, size - 1)};
  return RangeResult::Satisfiable;
}

bool if_range_matches(std::string_view if_range, const Validators& v) {
  if_range = trim(if_range);
  if (is_entity_tag(if_range)) {
    return !is_weak(if_range) && !v.etag.empty() && !is_weak(v.etag) && if_range == trim(v.etag);
  }
  int64_t date = parse_http_date(if_range);
  if (date < 0 || v.last_modified_s < 0) return false;
  // §13.1.5: a date is usable only against a strong Last-Modified (§8.8.2.2).
  bool strong = v.date_s >= 0 && v.date_s - v.last_modified_s >= 1;
  return strong && date == v.last_modified_s;
}

RangePlan plan_range(const Request& req, uint64_t size, const Validators& v) {
  RangePlan plan;
  if (req.method != "GET") return plan;  // §14.2: range handling is defined for GET only
  const std::string* range = req.headers.get("range");
  if (!range) return plan;
  if (const std::string* ir = req.headers.get("if-range"); ir && !if_range_matches(*ir, v))
    return plan;
  switch (parse_range(*range, size, plan.range)) {
    case RangeResult::Satisfiable:
      plan.kind = RangePlan::Kind::Partial;
      break;
    case RangeResult::Unsatisfiable:
      plan.kind = RangePlan::Kind::Unsatisfiable;
      break;
    case RangeResult::None:
      break;
  }
  return plan;
}

std::string content_range(const RangePlan& plan, uint64_t size) {
  if (plan.kind == RangePlan::Kind::Partial)
    return "bytes " + std::to_string(plan.range.first) + "-" + std::to_string(plan.range.last) +
           "/" + std::to_string(size);
  return "bytes */" + std::to_string(size);
}

}  // namespace cdn::http
