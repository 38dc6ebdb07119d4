#pragma once
// Gives memory a burst of work freed back to the kernel once the burst is over. Serving a large
// response over TLS allocates and frees record-sized buffers (OpenSSL's write buffer, partial
// writes) between the long-lived allocations of other connections; glibc keeps the freed pages
// resident in the holes, so without this a stalled TLS viewer costs twice its live heap in RSS.
// Trimming runs only in a quiet period after activity, never on every tick of a busy worker.
#include <cstdint>

namespace cdn::net {

class TrimAfterBurst {
 public:
  using TrimFn = void (*)();
  explicit TrimAfterBurst(TrimFn trim = &trim_process_heap) : trim_(trim) {}
  // Requests, closes: anything that may have freed memory.
  void note_activity() { ++activity_; }
  // Call once per period: trims if there was activity before the last period and none since.
  void on_period();
  static void trim_process_heap();

 private:
  TrimFn trim_;
  uint64_t activity_ = 0;
  uint64_t seen_ = 0;     // activity at the previous period
  uint64_t trimmed_ = 0;  // activity at the last trim
};

}  // namespace cdn::net
