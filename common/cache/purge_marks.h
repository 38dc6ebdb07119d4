#pragma once
// Soft purges as freshness sees them. An object is soft-purged when its own flag says so
// (ObjectMeta::soft_purged, set by a soft purge of its URL, prefix or surrogate key) or when it
// was stored before this process's "stale before" instant (set when purges were missed and cannot
// be replayed: fleet_purge.h). A soft-purged object is stale from then on: the next request
// revalidates it, and it may still be served if the upstream fails within its stale-if-error
// window. The one check is in cache::classify (freshness.cpp).
#include <cstdint>

#include "common/cache/object.h"

namespace cdn::cache {

enum class Freshness;

// Objects whose response arrived before this unix ms count as soft-purged; 0 = none.
void set_stale_before_ms(int64_t unix_ms);
int64_t stale_before_ms();

bool soft_purged(const ObjectMeta& meta);
// What a soft purge makes of an object's freshness by age: never Fresh or StaleRevalidate;
// StaleIfError while the object could still have been served stale (it has a stale-if-error
// window and is not past it), Expired otherwise.
Freshness after_soft_purge(const ObjectMeta& meta, Freshness by_age);

}  // namespace cdn::cache
