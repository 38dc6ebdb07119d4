#include "common/http/range.h"

#include <algorithm>

#include "common/util/strings.h"

namespace cdn::http {

RangeResult parse_range(std::string_view header, uint64_t size, ByteRange& out) {
  header = trim(header);
  if (!starts_with(header, "bytes=")) return RangeResult::None;
  std::string_view spec = trim(header.substr(6));
  if (spec.find(',') != std::string_view::npos) return RangeResult::None;
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeResult::None;
  std::string_view a = trim(spec.substr(0, dash)), b = trim(spec.substr(dash + 1));
  if (a.empty()) {  // suffix range: last N bytes
    auto n = parse_int(b);
    if (!n || *n < 0) return RangeResult::None;
    if (*n == 0 || size == 0) return RangeResult::Unsatisfiable;
    uint64_t len = std::min<uint64_t>(uint64_t(*n), size);
    out = {size - len, size - 1};
    return RangeResult::Satisfiable;
  }
  auto first = parse_int(a);
  if (!first || *first < 0) return RangeResult::None;
  if (uint64_t(*first) >= size) return RangeResult::Unsatisfiable;
  uint64_t last = size - 1;
  if (!b.empty()) {
    auto l = parse_int(b);
    if (!l || *l < *first) return RangeResult::None;
    last = std::min<uint64_t>(uint64_t(*l), size - 1);
  }
  out = {uint64_t(*first), last};
  return RangeResult::Satisfiable;
}

}  // namespace cdn::http
