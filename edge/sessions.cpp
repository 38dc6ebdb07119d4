#include "edge/sessions.h"

#include "common/net/worker.h"
#include "common/obs/log.h"

namespace cdn::edge {

namespace {
auth::SessionRules rules_of(const AccessConfig& cfg) {
  auth::SessionRules t;
  t.lease_ms = cfg.lease_ms;
  t.evicted_memory_ms = cfg.evicted_memory_ms;
  t.sid_elsewhere = cfg.sid_elsewhere;
  return t;
}
// In redis mode the memory store only mirrors what Redis admitted, so it must never refuse.
auth::SessionRules memory_rules(const AccessConfig& cfg, bool mirror) {
  auth::SessionRules r = rules_of(cfg);
  if (mirror) r.sid_elsewhere = auth::SidElsewhere::NewStream;
  return r;
}

}  // namespace

Sessions::Sessions(const AccessConfig& cfg, size_t worker_count)
    : redis_mode_(cfg.store == AccessConfig::Store::Redis), memory_(memory_rules(cfg, redis_mode_)) {
  if (!redis_mode_) return;
  redis_opts_.host = cfg.redis.host;
  redis_opts_.port = cfg.redis.port;
  redis_opts_.username = cfg.redis_username;
  redis_opts_.password = cfg.redis_password;
  redis_opts_.health = std::make_shared<auth::RedisHealth>();
  redis_opts_.key_prefix = cfg.redis_key_prefix;
  redis_opts_.rules = rules_of(cfg);
  redis_opts_.renew_interval_ms = cfg.redis_renew_interval_ms;
  redis_opts_.command_timeout_ms = cfg.redis_command_timeout_ms;
  redis_opts_.when_down = cfg.when_down;
  redis_opts_.renewals = std::make_shared<auth::RenewalCache>();
  std::string addr = cfg.redis.str();
  redis_opts_.log = [addr](std::string_view msg) {
    obs::log(obs::Level::Warn, "session store", {{"redis", addr}, {"detail", std::string(msg)}});
  };
  redis_.resize(worker_count);
}

Sessions::~Sessions() {
  for (auto& r : redis_) (void)r.release();
}

auth::SessionStore& Sessions::store_for(net::Worker& w) {
  if (!redis_mode_) return memory_;
  auto& slot = redis_.at(size_t(w.index()));
  if (!slot) slot = std::make_unique<auth::RedisSessionStore>(w.loop(), redis_opts_);
  return *slot;
}

void Sessions::connect_early(std::vector<net::Worker*> workers) {
  if (!redis_mode_) return;
  for (net::Worker* w : workers) w->post([this, w]() { store_for(*w); });
}

void Sessions::served(const auth::SessionKey& key, int64_t now_ms) {
  if (redis_mode_) memory_.admit_sync(key, 0, false, now_ms);
}

void Sessions::kicked(const auth::SessionKey& key) {
  if (redis_mode_) memory_.kick(key, [](bool) {});
}

size_t Sessions::active(int64_t now_ms) {
  memory_.sweep_all(now_ms);
  last_sweep_ms_.store(now_ms, std::memory_order_relaxed);
  return memory_.live_sessions();
}

size_t Sessions::active_now(int64_t now_ms) {
  maybe_sweep(now_ms);
  return memory_.live_sessions();
}

void Sessions::maybe_sweep(int64_t now_ms) {
  int64_t last = last_sweep_ms_.load(std::memory_order_relaxed);
  if (now_ms - last < 1000) return;
  if (!last_sweep_ms_.compare_exchange_strong(last, now_ms, std::memory_order_relaxed)) return;
  memory_.sweep_all(now_ms);
}

}  // namespace cdn::edge
