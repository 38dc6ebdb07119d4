#include "common/cache/purge_marks.h"

#include <atomic>

#include "common/cache/freshness.h"

namespace cdn::cache {

namespace {
// Process-wide like the caches it describes; read on every lookup, written on a rare reconnect.
std::atomic<int64_t> g_stale_before_ms{0};
}  // namespace

void set_stale_before_ms(int64_t unix_ms) {
  // Only ever moves forward: a later, smaller cutoff must not unmark what an earlier one marked.
  int64_t cur = g_stale_before_ms.load(std::memory_order_relaxed);
  while (unix_ms > cur &&
         !g_stale_before_ms.compare_exchange_weak(cur, unix_ms, std::memory_order_relaxed)) {
  }
}

int64_t stale_before_ms() {
  return g_stale_before_ms.load(std::memory_order_relaxed);
}

bool soft_purged(const ObjectMeta& meta) {
  return meta.soft_purged ||
         meta.response_time_ms < g_stale_before_ms.load(std::memory_order_relaxed);
}

Freshness after_soft_purge(const ObjectMeta& meta, Freshness by_age) {
  if (by_age == Freshness::Expired || meta.must_revalidate || meta.stale_if_error_s <= 0)
    return Freshness::Expired;
  return Freshness::StaleIfError;
}

}  // namespace cdn::cache
