#include "common/auth/memory_session_store.h"

#include <algorithm>

namespace cdn::auth {
namespace {

// One stream's identity: place never holds '\n', so this is unambiguous however odd the sid.
std::string stream_id(const std::string& sid, const std::string& place) { return sid + '\n' + place; }

}  // namespace

MemorySessionStore::MemorySessionStore(SessionRules rules, size_t max_sessions,
                                       std::function<int64_t()> clock)
    : max_sessions_(max_sessions), clock_(std::move(clock)) {
  set_rules(rules);
}

void MemorySessionStore::set_rules(const SessionRules& rules) {
  lease_ms_.store(rules.lease_ms, std::memory_order_relaxed);
  evicted_memory_ms_.store(rules.evicted_memory_ms, std::memory_order_relaxed);
  sid_elsewhere_.store(rules.sid_elsewhere, std::memory_order_relaxed);
}

void MemorySessionStore::visit_live(
    const std::function<void(const std::string& sub, size_t live)>& fn) {
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (const auto& [sub, v] : s.viewers)
      if (!v.live.empty()) fn(sub, v.live.size());
  }
}

MemorySessionStore::Shard& MemorySessionStore::shard_for(const std::string& sub) {
  return shards_[std::hash<std::string>{}(sub) % kShards];
}

void MemorySessionStore::expire(Viewer& v, int64_t now_ms) {
  size_t before = v.live.size();
  const int64_t lease_ms = lease_ms_.load(std::memory_order_relaxed);
  std::erase_if(v.live, [&](const Session& s) { return s.renewed_ms + lease_ms <= now_ms; });
  live_ -= before - v.live.size();
  const int64_t memory_ms = evicted_memory_ms_.load(std::memory_order_relaxed);
  auto forgotten = [&](const auto& e) { return e.second + memory_ms <= now_ms; };
  std::erase_if(v.evicted, forgotten);
  std::erase_if(v.kicked, forgotten);
}

void MemorySessionStore::sweep(Shard& s, int64_t now_ms, bool force) {
  // Viewers that stopped watching are only visited here: amortised, at most twice per lease.
  if (!force && now_ms - s.last_sweep_ms < lease_ms_.load(std::memory_order_relaxed) / 2) return;
  s.last_sweep_ms = now_ms;
  for (auto it = s.viewers.begin(); it != s.viewers.end();) {
    expire(it->second, now_ms);
    if (it->second.live.empty() && it->second.evicted.empty() && it->second.kicked.empty()) it = s.viewers.erase(it);
    else ++it;
  }
}

void MemorySessionStore::sweep_all(int64_t now_ms) {
  last_full_sweep_ms_ = now_ms;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    sweep(s, now_ms, true);
  }
}

Admit MemorySessionStore::admit_sync(const SessionKey& key, int limit, bool block_new, int64_t now_ms) {
  // At the cap, stale leases in other shards may be what fills it; a full sweep (rate-limited,
  // and taken before this shard's lock so two shard locks are never held) finds out.
  if (live_.load() >= max_sessions_ &&
      now_ms - last_full_sweep_ms_.load() >= lease_ms_.load(std::memory_order_relaxed) / 2)
    sweep_all(now_ms);
  Shard& s = shard_for(key.sub);
  std::lock_guard lock(s.mu);
  sweep(s, now_ms, false);
  Viewer& v = s.viewers[key.sub];
  expire(v, now_ms);
  if (v.kicked.count(key.sid) || v.evicted.count(stream_id(key.sid, key.place))) return Admit::Evicted;
  bool elsewhere = false;
  for (Session& live : v.live) {
    if (live.sid != key.sid) continue;
    if (live.place == key.place) {
      live.renewed_ms = now_ms;
      return Admit::Allowed;
    }
    elsewhere = true;
  }
  if (elsewhere && sid_elsewhere_.load(std::memory_order_relaxed) == SidElsewhere::Refuse)
    return Admit::InUseElsewhere;
  if (live_.load() >= max_sessions_) return Admit::LimitReached;
  if (limit > 0 && v.live.size() >= static_cast<size_t>(limit)) {
    if (block_new) return Admit::LimitReached;
    // Oldest by start first; more than one goes when the limit was lowered since they started.
    std::sort(v.live.begin(), v.live.end(),
              [](const Session& a, const Session& b) { return a.started_ms < b.started_ms; });
    size_t drop = v.live.size() - static_cast<size_t>(limit) + 1;
    for (size_t i = 0; i < drop; ++i) v.evicted[stream_id(v.live[i].sid, v.live[i].place)] = now_ms;
    v.live.erase(v.live.begin(), v.live.begin() + static_cast<std::ptrdiff_t>(drop));
    live_ -= drop;
  }
  v.live.push_back(Session{key.sid, key.place, now_ms, now_ms});
  ++live_;
  return elsewhere ? Admit::AllowedNewPlace : Admit::Allowed;
}

void MemorySessionStore::admit(const SessionKey& key, int limit, bool block_new, int64_t now_ms,
                               std::function<void(Admit)> done) {
  done(admit_sync(key, limit, block_new, now_ms));
}

void MemorySessionStore::list(const std::string& sub,
                              std::function<void(std::vector<SessionInfo>)> done) {
  std::vector<SessionInfo> out;
  {
    Shard& s = shard_for(sub);
    std::lock_guard lock(s.mu);
    auto it = s.viewers.find(sub);
    if (it != s.viewers.end()) {
      expire(it->second, clock_());
      for (const Session& live : it->second.live)
        out.push_back(SessionInfo{sub, live.sid, live.place, live.started_ms, live.renewed_ms});
    }
  }
  done(std::move(out));
}

void MemorySessionStore::kick(const SessionKey& key, std::function<void(bool)> done) {
  bool found = false;
  {
    Shard& s = shard_for(key.sub);
    std::lock_guard lock(s.mu);
    int64_t now = clock_();
    Viewer& v = s.viewers[key.sub];
    expire(v, now);
    size_t ended = std::erase_if(v.live, [&](const Session& x) { return x.sid == key.sid; });
    live_ -= ended;
    found = ended > 0;
    // Remembered even when not live, so a kicked player that was between requests stays out; at
    // every place, since the admin kicks a sid, not one of its streams.
    v.kicked[key.sid] = now;
  }
  done(found);
}

}  // namespace cdn::auth
