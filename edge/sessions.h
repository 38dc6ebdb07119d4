#pragma once
// The edge's stream-session stores: one shared in-process store (sessions.store: memory), or one
// Redis store per worker loop (sessions.store: redis), each created lazily on its own loop thread
// because a RedisSessionStore must live and be called there.
#include <atomic>
#include <memory>
#include <vector>

#include "common/auth/memory_session_store.h"
#include "common/auth/redis_session_store.h"
#include "edge/access_config.h"

namespace cdn::net {
class Worker;
}

namespace cdn::edge {

class Sessions {
 public:
  Sessions(const AccessConfig& cfg, size_t worker_count);
  // Redis stores are left to the process exit: by the time the phases are destroyed their loops
  // no longer run, and a store must be destroyed on its running loop.
  ~Sessions();
  Sessions(const Sessions&) = delete;
  Sessions& operator=(const Sessions&) = delete;

  // The store to use from `w`'s loop thread (only there).
  auth::SessionStore& store_for(net::Worker& w);
  // Redis mode: connects every worker's store as soon as its loop runs, so the first viewers are
  // not admitted by the local fallback while the connection is still being set up.
  void connect_early(std::vector<net::Worker*> workers);

  // Redis mode: the state of the workers' Redis connections (null in memory mode).
  const auth::RedisHealth* redis_health() const { return redis_opts_.health.get(); }

  // Redis mode keeps a local mirror of the sessions this edge served, for the gauge.
  void served(const auth::SessionKey& key, int64_t now_ms);
  void kicked(const auth::SessionKey& key);
  // cdn_stream_sessions_active: live sessions (memory) / sessions served here within a lease (redis).
  size_t active(int64_t now_ms);
  // The same count with expired leases swept at most once a second (for /healthz, polled often).
  size_t active_now(int64_t now_ms);
  // Drops expired leases now and then (called per request; sweeps at most once a second).
  void maybe_sweep(int64_t now_ms);

 private:
  bool redis_mode_;
  auth::RedisStoreOptions redis_opts_;
  // memory mode: the store; redis mode: the gauge's mirror (never asked for admission).
  auth::MemorySessionStore memory_;
  std::vector<std::unique_ptr<auth::RedisSessionStore>> redis_;  // by worker index
  std::atomic<int64_t> last_sweep_ms_{0};
};

}  // namespace cdn::edge
