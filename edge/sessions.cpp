#include "edge/sessions.h"

#include "common/net/worker.h"
#include "common/obs/log.h"
#include "common/util/clock.h"

namespace cdn::edge {

namespace {

constexpr const char* kGauge = "cdn_stream_sessions_active";
constexpr const char* kGaugeHelp = "Stream sessions holding a lease (on this edge)";

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
    : redis_mode_(cfg.store == AccessConfig::Store::Redis),
      memory_(memory_rules(cfg, redis_mode_)) {
  collector_ = obs::metrics().add_collector([this](obs::Registry& r) { collect(r); });
  if (!redis_mode_) return;
  redis_health_ = std::make_shared<auth::RedisHealth>();
  redis_renewals_ = std::make_shared<auth::RenewalCache>();
  redis_opts_ = redis_options(cfg);
  redis_.resize(worker_count);
}

Sessions::~Sessions() {
  collector_.reset();
  for (auto& r : redis_) (void)r.store.release();
}

auth::RedisStoreOptions Sessions::redis_options(const AccessConfig& cfg) const {
  auth::RedisStoreOptions o;
  o.host = cfg.redis.host;
  o.port = cfg.redis.port;
  o.username = cfg.redis_username;
  o.password = cfg.redis_password;
  o.health = redis_health_;
  o.key_prefix = cfg.redis_key_prefix;
  o.rules = rules_of(cfg);
  o.renew_interval_ms = cfg.redis_renew_interval_ms;
  o.command_timeout_ms = cfg.redis_command_timeout_ms;
  o.when_down = cfg.when_down;
  o.renewals = redis_renewals_;
  std::string addr = cfg.redis.str();
  o.log = [addr](std::string_view msg) {
    obs::log(obs::Level::Warn, "session store", {{"redis", addr}, {"detail", std::string(msg)}});
  };
  return o;
}

auth::SessionStore& Sessions::store_for(net::Worker& w) {
  if (!redis_mode_) return memory_;
  RedisSlot& slot = redis_.at(size_t(w.index()));
  if (!slot.store) {
    std::lock_guard lock(mu_);
    slot.store = std::make_unique<auth::RedisSessionStore>(w.loop(), redis_opts_);
    slot.generation = generation_;
  }
  return *slot.store;
}

void Sessions::connect_early(std::vector<net::Worker*> workers) {
  {
    std::lock_guard lock(mu_);
    workers_ = workers;
  }
  if (!redis_mode_) return;
  for (net::Worker* w : workers) w->post([this, w]() { store_for(*w); });
}

std::vector<std::string> Sessions::reconfigure(const AccessConfig& cfg) {
  if ((cfg.store == AccessConfig::Store::Redis) != redis_mode_) return {"access.sessions.store"};
  memory_.set_rules(memory_rules(cfg, redis_mode_));
  if (!redis_mode_) return {};
  std::lock_guard lock(mu_);
  redis_opts_ = redis_options(cfg);
  const uint64_t generation = ++generation_;
  for (net::Worker* w : workers_) {
    w->post([this, w, generation, opts = redis_opts_]() {
      RedisSlot& slot = redis_.at(size_t(w->index()));
      if (!slot.store || slot.generation >= generation) return;  // made with these already
      if (!slot.store->update(opts))
        slot.store = std::make_unique<auth::RedisSessionStore>(w->loop(), opts);
      slot.generation = generation;
    });
  }
  return {};
}

void Sessions::served(const auth::SessionKey& key, int64_t now_ms) {
  if (redis_mode_) memory_.admit_sync(key, 0, false, now_ms);
}

void Sessions::kicked(const auth::SessionKey& key) {
  if (redis_mode_) memory_.kick(key, [](bool) {});
}

void Sessions::label_service(std::string_view name, std::string label) {
  std::lock_guard lock(mu_);
  labels_.insert_or_assign(std::string(name), std::move(label));
}

void Sessions::collect(obs::Registry& r) {
  const int64_t now_ms = unix_now_ms();
  memory_.sweep_all(now_ms);
  last_sweep_ms_.store(now_ms, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  // Every label seen since the start is set, to 0 when its viewers left (or its service went).
  std::map<std::string, int64_t> by_label;
  for (const auto& [name, label] : labels_) by_label[label] = 0;
  int64_t unlabelled = 0;
  memory_.visit_live([&](const std::string& sub, size_t live) {
    size_t slash = sub.find('/');
    auto it = slash == std::string::npos ? labels_.end()
                                         : labels_.find(std::string_view(sub).substr(0, slash));
    (it == labels_.end() ? unlabelled : by_label[it->second]) += int64_t(live);
  });
  for (const auto& [label, n] : by_label) r.gauge(kGauge, kGaugeHelp, {{"service", label}}).set(n);
  unlabelled_shown_ = unlabelled_shown_ || labels_.empty() || unlabelled > 0;
  if (unlabelled_shown_) r.gauge(kGauge, kGaugeHelp).set(unlabelled);
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
