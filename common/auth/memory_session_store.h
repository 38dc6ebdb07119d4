#pragma once
// In-process session store: the default for a single edge, and the Redis store's fail-open fallback.
#include <array>
#include <atomic>
#include <mutex>
#include <unordered_map>

#include "common/auth/session_store.h"
#include "common/util/clock.h"

namespace cdn::auth {

class MemorySessionStore final : public SessionStore {
 public:
  // clock: for list()/kick(), which take no time argument (tests inject a fake one).
  // max_sessions caps memory against token-minting floods: beyond it new sessions get
  // LimitReached while live ones keep renewing.
  explicit MemorySessionStore(SessionRules rules = {}, size_t max_sessions = 1000000,
                              std::function<int64_t()> clock = unix_now_ms);

  void admit(const SessionKey& key, int limit, bool block_new, int64_t now_ms,
             std::function<void(Admit)> done) override;
  void list(const std::string& sub, std::function<void(std::vector<SessionInfo>)> done) override;
  void kick(const SessionKey& key, std::function<void(bool)> done) override;

  Admit admit_sync(const SessionKey& key, int limit, bool block_new, int64_t now_ms);
  // Drops every expired lease and forgotten eviction. Admissions sweep only their own shard, so
  // the owner calls this from a timer to keep live_sessions() (the gauge) exact.
  void sweep_all(int64_t now_ms);
  size_t live_sessions() const { return live_.load(); }  // for cdn_stream_sessions_active
  // Calls fn for every viewer with live sessions (expired leases included until a sweep), with
  // each shard locked in turn: fn must not call the store.
  void visit_live(const std::function<void(const std::string& sub, size_t live)>& fn);
  // New rules (a config reload): they apply to the next admission, renewal and sweep; a lease
  // shortened below its age ends there.
  void set_rules(const SessionRules& rules);

 private:
  struct Session {
    std::string sid, place;
    int64_t started_ms, renewed_ms;
  };
  struct Viewer {
    std::vector<Session> live;
    std::unordered_map<std::string, int64_t> evicted;  // stream id (sid \n place) → when
    std::unordered_map<std::string, int64_t> kicked;   // sid (every place) → when
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Viewer> viewers;  // by sub
    int64_t last_sweep_ms = 0;
  };
  static constexpr size_t kShards = 16;

  Shard& shard_for(const std::string& sub);
  void expire(Viewer& v, int64_t now_ms);  // shard lock held
  void sweep(Shard& s, int64_t now_ms, bool force);  // shard lock held

  // The rules, each read on its own (set_rules may run on another thread while admissions run).
  std::atomic<int64_t> lease_ms_{0};
  std::atomic<int64_t> evicted_memory_ms_{0};
  std::atomic<SidElsewhere> sid_elsewhere_{SidElsewhere::NewStream};
  size_t max_sessions_;
  std::function<int64_t()> clock_;
  std::atomic<size_t> live_{0};
  std::atomic<int64_t> last_full_sweep_ms_{0};
  std::array<Shard, kShards> shards_;
};

}  // namespace cdn::auth
