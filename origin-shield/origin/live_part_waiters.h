#pragma once
// Requests held until a rendition's fMP4 output has something: LL-HLS blocking playlist reloads
// (_HLS_msn/_HLS_part) and requests for the preload-hinted part. A held request costs no thread:
// it is parked here with a deadline timer on its worker's loop; when ingest publishes a part it
// wakes the ready ones by posting to their loops, so the answer leaves within one loop turn of
// the publication. Parked requests are bounded across the process (refusals are counted by the
// caller).
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/net/uv_handle.h"

namespace cdn::net {
class Worker;
}

namespace cdn::origin {

struct CmafSnapshot;
class LiveRendition;

// What a streamed answer is waiting for: the preload-hinted part (`number` of `session`), or, for
// low-latency DASH, the segment in progress (msn `number`, one track or muxed).
struct GrowingTarget {
  bool part = true;
  uint64_t session = 0;  // part: its encoder session
  uint64_t number = 0;   // part number or segment msn
  char track = 0;        // segment: 'v', 'a', or 0 (muxed)
};

// A request LiveServing::answer() decided to hold: a blocking playlist reload (until the playlist
// has msn/part), or an object streamed while it is written (`growing`).
struct CmafHold {
  const LiveRendition* rendition = nullptr;
  std::optional<GrowingTarget> growing;
  uint64_t msn = 0;
  int64_t part_index = -1;
  int64_t timeout_ms = 0;
};

class PartWaiters {
 public:
  enum class Outcome { kReady, kEnded, kTimeout, kGone };
  using Ready = std::function<bool(const CmafSnapshot&)>;
  // Runs once, on the parking worker's loop thread.
  using Done = std::function<void(Outcome)>;

  static constexpr size_t kMaxParked = 10000;  // across all renditions

  PartWaiters() = default;
  ~PartWaiters();
  PartWaiters(const PartWaiters&) = delete;
  PartWaiters& operator=(const PartWaiters&) = delete;

  // From a worker's loop thread. False (and nothing parked) past kMaxParked. `cancel` is set to
  // what the caller runs when the client leaves (from its abort hook).
  // `current` gives the latest snapshot: checked once parked, so a publication between the
  // caller's check and the parking is not missed.
  // `counted`: false when the caller counts the outcome itself (a streamed answer parks once per
  // chunk, and is counted once, by how it ended).
  bool park(net::Worker* worker, int64_t timeout_ms, Ready ready, Done done,
            std::function<void()>* cancel,
            const std::function<std::shared_ptr<const CmafSnapshot>()>& current,
            bool counted = true);
  // From ingest, after publishing `snap`: wakes the waiters it satisfies (all of them if `ended`).
  void wake(const CmafSnapshot& snap, bool ended);

  static size_t parked();
  static void count(Outcome o);

 private:
  struct Waiter;
  std::mutex mu_;
  std::vector<std::shared_ptr<Waiter>> waiting_;
};

}  // namespace cdn::origin
