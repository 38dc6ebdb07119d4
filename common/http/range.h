#pragma once
// Single byte ranges (RFC 9110 §14): enough for players seeking in segments and MP4s. A request
// with several ranges is answered with the whole representation, which the RFC allows.
#include <cstdint>
#include <string_view>

namespace cdn::http {

struct ByteRange {
  uint64_t first = 0, last = 0;  // inclusive
};
enum class RangeResult { None, Satisfiable, Unsatisfiable };
RangeResult parse_range(std::string_view header, uint64_t size, ByteRange& out);

}  // namespace cdn::http
