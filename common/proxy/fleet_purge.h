#pragma once
// Purges for the whole fleet through Redis (purge.redis). A purge accepted by any node's admin API
// gets the next number of a Redis counter and is added to a short stream and published on a
// channel, in one script; every edge and shield subscribes, applies each purge in number order on
// its purge job thread, and records it (node → time) in a Redis hash per purge, which
// GET /admin/purges/<n> reads. The admin call answers once every live node (heartbeat within
// node_timeout) has applied it, or with 504 naming the nodes that have not.
//
// Missed purges: a node that was disconnected (or restarted: its last applied number is kept in
// Redis) replays the stream from its last applied number when it is back; if the purges it missed
// were already trimmed, everything it cached before the oldest purge still in the stream counts as
// stale (cache::set_stale_before_ms), so it is revalidated before use. Out of touch: once no
// heartbeat has reached Redis for half of node_timeout (after a whole node_timeout the other nodes
// stop waiting for this one), the node moves that cutoff forward on every tick: it revalidates what
// it serves, rather than risk serving an object purged while it could not hear about it.
//
// Refills: an edge sends the number of the last purge it applied with every upstream request
// (X-Purge-Seq); a shield that has not applied that purge yet holds the request (at most
// barrier_timeout) while it catches up, so it cannot hand the edge the version just purged.
//
// Threads: Redis and the admin routes on the admin loop; purges on the purge job thread; hold()
// and applied() from any thread.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/proxy/purge_config.h"
#include "common/proxy/purge_route.h"

namespace cdn::net {
class Worker;
}
namespace cdn::cache {
class ThreadPool;
}

namespace cdn::proxy {

struct FleetPurgeDeps {
  net::Worker* admin;  // the admin loop: Redis, routes
  const ServicePurge* services;  // applies a purge to this node's delivery services
  cache::ThreadPool* jobs;  // one thread: purges apply in order
  std::string node;
  FleetPurgeConfig cfg;
};

class FleetPurge final : public FleetPurgeSubmitter {
 public:
  explicit FleetPurge(FleetPurgeDeps deps);
  ~FleetPurge() override;
  FleetPurge(const FleetPurge&) = delete;
  FleetPurge& operator=(const FleetPurge&) = delete;

  // Connects; on the admin loop (post it there before the loop runs).
  void start();
  // POST /admin/purge with Redis configured: always taken (503 when Redis is unavailable).
  bool submit(const std::shared_ptr<http::Exchange>& ex, const PurgeSpec& spec) override;
  // GET /admin/purges/<n>.
  void report(const std::shared_ptr<http::Exchange>& ex, std::string_view id);
  // Any thread. True when purge `seq` has not been applied here yet: `resume` will be posted to
  // `w` once it has (or barrier_timeout passed).
  bool hold(uint64_t seq, net::Worker* w, std::function<void()> resume);
  // The number of the last purge applied here (sent upstream as X-Purge-Seq).
  const std::atomic<uint64_t>& applied() const { return applied_; }
  // True while this node assumes it may be missing purges (and revalidates every object).
  bool out_of_touch() const { return out_of_touch_.load(std::memory_order_relaxed); }

 private:
  struct Impl;
  FleetPurgeDeps d_;
  std::atomic<uint64_t> applied_{0};
  std::atomic<bool> out_of_touch_{false};
  std::unique_ptr<Impl> impl_;  // lives on the admin loop
};

}  // namespace cdn::proxy
