#pragma once
// RFC 9111 §4.2.3 age arithmetic shared by freshness classification and disk expiry, so both
// agree on when an object stops being servable.
#include <cstdint>

#include "common/cache/object.h"

namespace cdn::cache {

// RFC 9111 §1.2.2: delta-seconds saturate at 2^31; clamping every stored duration there also keeps
// the millisecond arithmetic below far from int64 overflow whatever a stored object claims.
constexpr int64_t kMaxDeltaSeconds = 2147483648LL;
inline int64_t clamp_delta(int64_t s) { return s < 0 ? 0 : (s > kMaxDeltaSeconds ? kMaxDeltaSeconds : s); }
// Unix times are clamped to ±2^40 s (tens of thousands of years) for the same reason.
constexpr int64_t kMaxTimeSeconds = int64_t(1) << 40;
inline int64_t clamp_time_s(int64_t s) {
  return s < -kMaxTimeSeconds ? -kMaxTimeSeconds : (s > kMaxTimeSeconds ? kMaxTimeSeconds : s);
}
inline int64_t clamp_time_ms(int64_t ms) {
  constexpr int64_t kLimit = kMaxTimeSeconds * 1000;
  return ms < -kLimit ? -kLimit : (ms > kLimit ? kLimit : ms);
}

// max(apparent_age, age_value + response_delay), in milliseconds, never negative.
int64_t corrected_initial_age_ms(const ObjectMeta& meta);

// Floor division that rounds toward negative infinity (C++ '/' truncates toward zero).
inline int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace cdn::cache
