#include "common/cache/age.h"

#include <algorithm>

namespace cdn::cache {

int64_t corrected_initial_age_ms(const ObjectMeta& meta) {
  int64_t response_ms = clamp_time_ms(meta.response_time_ms);
  int64_t apparent_ms = std::max<int64_t>(0, response_ms - clamp_time_s(meta.date_s) * 1000);
  int64_t response_delay_ms = std::max<int64_t>(0, response_ms - clamp_time_ms(meta.request_time_ms));
  int64_t corrected_age_ms = clamp_delta(meta.age_s) * 1000 + response_delay_ms;
  return std::max(apparent_ms, corrected_age_ms);
}

}  // namespace cdn::cache
