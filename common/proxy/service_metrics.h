#pragma once
// The `service` label of the request, cache, upstream and token counters. Label values are
// capped for the process's life: the first kMaxServiceLabels distinct service names keep their
// own, later ones (reloads that keep adding services) share "other", so a config cannot grow
// the registry without bound. The implicit service has no label, as before services existed.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/obs/metrics.h"

namespace cdn::proxy {

constexpr size_t kMaxServiceLabels = 64;

// The label value for a named service ("other" past the cap).
std::string capped_service_label(std::string_view service_name);
// `labels` with {"service", label} added when `label` is not empty.
obs::Labels with_service(obs::Labels labels, std::string_view label);

// cdn_cache_lookups_total{result[,service]}: hit, miss, stale, revalidated.
enum class Lookup { Hit, Miss, Stale, Revalidated };
constexpr int kLookupResults = 4;
obs::Counter& lookup_counter(Lookup result, std::string_view service_label);
// One result summed over every service label made so far (or every result: nullptr).
uint64_t lookups_total(const Lookup* result);

}  // namespace cdn::proxy
