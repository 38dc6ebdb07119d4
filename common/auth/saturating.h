#pragma once
// Time-claim arithmetic that cannot overflow: a token may carry exp = 2^63-1 or nbf = -2^63 and the
// leeway is configured, so `exp + leeway` must clamp at the int64 range instead of being undefined.
#include <cstdint>
#include <limits>

namespace cdn::auth {

inline int64_t saturating_add(int64_t a, int64_t b) {
  int64_t r;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

inline int64_t saturating_sub(int64_t a, int64_t b) {
  int64_t r;
  if (!__builtin_sub_overflow(a, b, &r)) return r;
  return b < 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

}  // namespace cdn::auth
