#include "geo/health_poller.h"

#include "common/auth/json.h"
#include "common/obs/log.h"
#include "common/obs/metrics.h"
#include "common/util/clock.h"

namespace cdn::geo {

namespace {
constexpr size_t kMaxHealthzBytes = 16 * 1024;
// The page's current hit ratio and request rates: long enough to smooth one poll's noise, short
// enough to show a change within a few of its refreshes.
constexpr int64_t kRecentMs = 30'000;
}  // namespace

PollResult parse_healthz(int status, const std::string& body) {
  PollResult r;
  auto v = auth::json::parse(body, {kMaxHealthzBytes, 8});
  if (!v || !v->as_object()) {
    r.error = "healthz " + std::to_string(status) + ": not JSON";
    return r;
  }
  const auto* draining = v->find("draining");
  r.draining = draining && draining->as_bool() && *draining->as_bool();
  if (status != 200 && !(status == 503 && r.draining)) {
    r.error = "healthz status " + std::to_string(status);
    return r;
  }
  if (const auto* c = v->find("active_connections"); c && c->as_number())
    r.connections = uint64_t(std::max(0.0, c->as_number()->d));
  if (const auto* e = v->find("egress_bytes_per_s"); e && e->as_number())
    r.egress_bytes_per_s = std::max(0.0, e->as_number()->d);
  // Cumulative counters (newer edges): the history takes their deltas. Absent ones stay -1.
  auto count = [&](const char* key, int64_t& out) {
    if (const auto* c = v->find(key); c && c->as_number() && c->as_number()->d >= 0)
      out = int64_t(c->as_number()->d);
  };
  count("requests_total", r.counters.requests);
  count("responses_5xx_total", r.counters.errors_5xx);
  count("cache_lookups_total", r.counters.cache_lookups);
  count("cache_hits_total", r.counters.cache_hits);
  count("stream_sessions", r.stream_sessions);
  count("live_channels", r.live_channels);
  r.ok = true;
  return r;
}

// One poll in flight for one edge or origin: collects the answer (bounded) and reports it once.
struct HealthPoller::Probe : http::UpstreamCallbacks {
  HealthPoller* owner = nullptr;
  size_t target = 0;
  bool busy = false;
  int status = 0;
  std::string body;
  bool too_big = false;

  void on_upstream_head(int s, http::Headers&&) override { status = s; }
  void on_upstream_body(const Bytes& chunk) override {
    if (body.size() + chunk->size() > kMaxHealthzBytes)
      too_big = true;
    else
      body += *chunk;
  }
  void on_upstream_end(bool complete, http::UpstreamError err) override {
    busy = false;
    if (!owner) return;  // stopping
    PollResult r;
    if (!complete) {
      r.error = std::string("healthz: ") + http::to_string(err);
      // Which side refused what: an operator fixes a certificate, not "the edge".
      if (err == http::UpstreamError::Tls)
        r.error += std::string(" (") +
                   std::string(net::to_string(owner->pools_[target]->last_tls_failure())) + ")";
      owner->count_failure(target, http::to_string(err));
    } else if (too_big) {
      r.error = "healthz: body over 16 KiB";
      owner->count_failure(target, "too-big");
    } else {
      r = parse_healthz(status, body);
      if (!r.ok) owner->count_failure(target, "bad-healthz");
    }
    owner->finished(target, r);
  }
};

Result<std::shared_ptr<net::TlsClientContextHolder>> admin_client_tls(const GeoConfig& cfg) {
  bool any = false;
  for (const auto& e : cfg.edges) any = any || e.admin_tls;
  for (const auto& o : cfg.origins) any = any || o.admin_tls;
  if (!any) return std::shared_ptr<net::TlsClientContextHolder>();
  auto ctx = config::client_tls_context(cfg.admin_client);
  if (!ctx) return make_error("geo.admin_client: " + ctx.error().message);
  return ctx;
}

HealthPoller::HealthPoller(SteeringCore& core, FleetHistory& history, FleetHistory& origin_history,
                           std::shared_ptr<net::TlsClientContextHolder> tls)
    : core_(core),
      cfg_(core.config()),
      history_(history),
      origin_history_(origin_history),
      tls_(std::move(tls)),
      status_(core.health()->edges),
      origin_status_(core.health()->origins) {
  status_.resize(cfg_.edges.size());
  origin_status_.resize(cfg_.origins.size());
}

const config::HostPort& HealthPoller::admin_of(size_t target) const {
  return target < cfg_.edges.size() ? cfg_.edges[target].admin
                                    : cfg_.origins[target - cfg_.edges.size()].admin;
}

bool HealthPoller::admin_tls_of(size_t target) const {
  return target < cfg_.edges.size() ? cfg_.edges[target].admin_tls
                                    : cfg_.origins[target - cfg_.edges.size()].admin_tls;
}

const std::string& HealthPoller::name_of(size_t target) const {
  return target < cfg_.edges.size() ? cfg_.edges[target].name
                                    : cfg_.origins[target - cfg_.edges.size()].name;
}

void HealthPoller::count_failure(size_t target, const std::string& reason) {
  obs::metrics()
      .counter("cdn_geo_poll_failures_total",
               "Polls of an edge's or origin's /healthz that failed, by target and reason",
               {{"target", name_of(target)}, {"reason", reason}})
      .inc();
}

HealthPoller::~HealthPoller() {
  stop();
}

void HealthPoller::start() {
  started_ = true;
  worker_.start([this](net::Worker& w) {
    http::UpstreamTimeouts t{cfg_.health.timeout_ms, cfg_.health.timeout_ms,
                             cfg_.health.timeout_ms};
    for (size_t i = 0; i < cfg_.edges.size() + cfg_.origins.size(); ++i) {
      const config::HostPort& admin = admin_of(i);
      auto addr = net::resolve_numeric(admin.host, admin.port);  // checked literal at config time
      // An IP literal (checked at config time) is the name the admin certificate must carry.
      http::UpstreamTls tls;
      if (admin_tls_of(i)) tls = {tls_, admin.host};
      pools_.push_back(std::make_unique<http::UpstreamPool>(
          &w, addr ? addr.value() : net::SockAddr{}, t, 1, std::move(tls)));
      auto p = std::make_unique<Probe>();
      p->owner = this;
      p->target = i;
      probes_.push_back(std::move(p));
    }
    uv_timer_init(w.loop(), timer_.get());
    timer_.mark_initialized();
    timer_->data = this;
    uv_timer_start(
        timer_.get(), [](uv_timer_t* t) { static_cast<HealthPoller*>(t->data)->tick(); }, 0,
        uint64_t(cfg_.health.interval_ms));
  });
}

void HealthPoller::stop() {
  if (!started_) return;
  started_ = false;
  worker_.post([this]() {
    timer_.close();
    for (size_t i = 0; i < probes_.size(); ++i) probes_[i]->owner = nullptr;
    pools_.clear();
  });
  worker_.stop();
  worker_.join();
}

void HealthPoller::tick() {
  for (size_t i = 0; i < pools_.size(); ++i) {
    Probe& p = *probes_[i];
    if (p.busy) continue;  // the previous poll is still within its timeout
    p.busy = true;
    p.status = 0;
    p.body.clear();
    p.too_big = false;
    std::string head =
        "GET /healthz HTTP/1.1\r\nHost: " + admin_of(i).str() + "\r\nUser-Agent: cdn-geo\r\n\r\n";
    pools_[i]->send(std::move(head), false, &p);
  }
  if (also_) also_();
}

void HealthPoller::finished(size_t target, const PollResult& r) {
  const int64_t now = unix_now_ms();
  if (target < cfg_.edges.size())
    edge_finished(target, r, now);
  else
    origin_finished(target - cfg_.edges.size(), r, now);
  auto snap = std::make_shared<HealthSnapshot>();
  snap->edges = status_;
  snap->origins = origin_status_;
  core_.publish(std::move(snap));
}

void HealthPoller::edge_finished(size_t edge, const PollResult& r, int64_t now) {
  const EdgeConfig& e = cfg_.edges[edge];
  EdgeStatus& s = status_[edge];
  auto old_health = s.health;
  bool old_available = s.available;
  const bool changed = apply_poll(s, r, e, cfg_.health, now);
  history_.record(e.name, now, s, r);
  s.rates = history_.recent(e.name, now, kRecentMs);
  if (changed) {
    std::string to = to_string(s.health);
    obs::metrics()
        .counter("cdn_geo_health_transitions_total", "Edge health changes seen by the poller",
                 {{"edge", e.name}, {"to", to}})
        .inc();
    obs::log(old_health == EdgeStatus::Health::Unknown ? obs::Level::Info : obs::Level::Warn,
             "edge health", {{"edge", e.name}, {"health", to}, {"reason", s.reason}});
  } else if (old_available != s.available) {
    obs::log(
        obs::Level::Info, "edge availability",
        {{"edge", e.name}, {"available", s.available ? "true" : "false"}, {"reason", s.reason}});
  }
}

void HealthPoller::origin_finished(size_t origin, const PollResult& r, int64_t now) {
  const OriginConfig& o = cfg_.origins[origin];
  EdgeStatus& s = origin_status_[origin];
  auto old_health = s.health;
  const bool changed = apply_origin_poll(s, r, cfg_.health, now);
  origin_history_.record(o.name, now, s, r);
  s.rates = origin_history_.recent(o.name, now, kRecentMs);
  if (!changed) return;
  std::string to = to_string(s.health);
  obs::metrics()
      .counter("cdn_geo_origin_health_transitions_total",
               "Origin health changes seen by the poller (origins are watched, never steered to)",
               {{"origin", o.name}, {"to", to}})
      .inc();
  obs::log(old_health == EdgeStatus::Health::Unknown ? obs::Level::Info : obs::Level::Warn,
           "origin health", {{"origin", o.name}, {"health", to}, {"reason", s.reason}});
}

}  // namespace cdn::geo
