#pragma once
// What the edge's and the simulator's CPU seconds bought in a run: per join while the flash crowd
// arrives, per segment once every viewer plays. From the per-second rows (CPU from /proc), so a
// before/after comparison holds on a shared machine as long as both sides run in the same way.
#include <cstdint>
#include <optional>
#include <vector>

#include "bench/viewers/run_report.h"

namespace cdn::viewers {

struct CostWindow {
  uint64_t first_t = 0, last_t = 0;  // the rows' seconds, inclusive
  uint64_t seconds = 0;              // rows counted (those with an edge CPU sample)
  double edge_cpu_s = 0, sim_cpu_s = 0;
  uint64_t joins = 0, segments = 0, playlists = 0;
  bool sim_measured = false;
};

struct Costs {
  // From the first join to the second every viewer had its first segment (or, when some never
  // did, the last second anyone joined).
  std::optional<CostWindow> flash;
  // From `settle_s` after the flash window to the second before the last (when viewers leave).
  std::optional<CostWindow> steady;
};

// Rows without an edge CPU sample (edge_cpu_s < 0) are left out of both windows.
Costs split_costs(const std::vector<SecondRow>& rows, uint64_t viewers, uint64_t settle_s = 5);

// The report's "cost" object: milliseconds of CPU per join, microseconds per segment, and per join
// less the flash crowd's segments at the steady rate (what the handshake, token and playlists
// cost).
auth::json::Value costs_json(const Costs& c);

}  // namespace cdn::viewers
