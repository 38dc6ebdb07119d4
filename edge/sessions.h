#pragma once
// The edge's stream-session stores: one shared in-process store (sessions.store: memory), or one
// Redis store per worker loop (sessions.store: redis), each created lazily on its own loop thread
// because a RedisSessionStore must live and be called there. One set per process, kept across
// reloads: a reload hands it the new settings (reconfigure).
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/auth/memory_session_store.h"
#include "common/auth/redis_session_store.h"
#include "common/obs/metrics.h"
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
  // not admitted by the local fallback while the connection is still being set up. The workers
  // are also the ones a reconfigure reaches.
  void connect_early(std::vector<net::Worker*> workers);

  // A config reload: the sessions settings of `cfg` (lease, evicted_memory, sid_elsewhere, the
  // Redis address, user, password, key prefix, timeouts, when_down) apply to the next requests.
  // A new Redis address or credential replaces each worker's store (requests waiting on the old
  // connection at that moment, and those before the new one is up, get the when_down answer).
  // Returns the keys only a restart can change (access.sessions.store), which keep their
  // running value.
  std::vector<std::string> reconfigure(const AccessConfig& cfg);

  // Redis mode: the state of the workers' Redis connections (null in memory mode).
  const auth::RedisHealth* redis_health() const { return redis_health_.get(); }

  // Redis mode keeps a local mirror of the sessions this edge served, for the gauge.
  void served(const auth::SessionKey& key, int64_t now_ms);
  void kicked(const auth::SessionKey& key);
  // cdn_stream_sessions_active counts a delivery service's viewers (subs "<name>/<sub>") under
  // its metric label; subs of no named service count without a label.
  void label_service(std::string_view name, std::string label);
  // The live count with expired leases swept at most once a second (for /healthz, polled often).
  size_t active_now(int64_t now_ms);
  // Drops expired leases now and then (called per request; sweeps at most once a second).
  void maybe_sweep(int64_t now_ms);

 private:
  struct RedisSlot {
    std::unique_ptr<auth::RedisSessionStore> store;
    uint64_t generation = 0;  // of the options it was made or updated with
  };
  auth::RedisStoreOptions redis_options(const AccessConfig& cfg) const;
  // cdn_stream_sessions_active: live sessions (memory) / sessions served here within a lease
  // (redis), by service.
  void collect(obs::Registry& r);

  const bool redis_mode_;
  std::shared_ptr<auth::RedisHealth> redis_health_;     // redis mode, across store replacements
  std::shared_ptr<auth::RenewalCache> redis_renewals_;  // likewise
  std::mutex mu_;  // guards what follows up to memory_ (read by workers making their store)
  auth::RedisStoreOptions redis_opts_;
  uint64_t generation_ = 1;
  std::vector<net::Worker*> workers_;
  std::map<std::string, std::string, std::less<>> labels_;  // service name → metric label
  bool unlabelled_shown_ = false;
  // memory mode: the store; redis mode: the gauge's mirror (never asked for admission).
  auth::MemorySessionStore memory_;
  std::vector<RedisSlot> redis_;  // by worker index, each touched on its worker's thread only
  std::atomic<int64_t> last_sweep_ms_{0};
  obs::CollectorHandle collector_;  // reads the members above; last, so it goes first
};

}  // namespace cdn::edge
