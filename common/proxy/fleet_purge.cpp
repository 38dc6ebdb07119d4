#include "common/proxy/fleet_purge.h"

#include <hiredis/hiredis.h>
#include <uv.h>

#include <algorithm>
#include <map>
#include <vector>

#include "common/cache/purge_marks.h"
#include "common/cache/thread_pool.h"
#include "common/net/redis_connection.h"
#include "common/net/worker.h"
#include "common/obs/log.h"
#include "common/obs/metrics.h"
#include "common/proxy/service_purge.h"
#include "common/util/clock.h"
#include "common/util/strings.h"

namespace cdn::proxy {

namespace {

// KEYS: counter, stream. ARGV: max_len, spec (query form), node, at_ms, channel.
// Numbering, the stream entry and the message are one step, so numbers reach the stream and the
// channel in the same order.
constexpr const char* kSubmitScript = R"lua(
local n = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'n', n, 'at', ARGV[4], 'node', ARGV[3], 'spec', ARGV[2])
redis.call('PUBLISH', ARGV[5], n .. ' ' .. ARGV[4] .. ' ' .. ARGV[2])
return n
)lua";

constexpr int64_t kAppliedRecordTtlS = 86'400;
constexpr uint64_t kTickMs = 5;

struct Entry {
  uint64_t n = 0;
  int64_t at_ms = 0;
  std::string spec;
};

std::string_view str(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
             ? std::string_view(r->str, r->len)
             : std::string_view();
}

// "n at_ms spec"
std::optional<Entry> parse_message(std::string_view m) {
  auto sp1 = m.find(' ');
  if (sp1 == std::string_view::npos) return std::nullopt;
  auto sp2 = m.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return std::nullopt;
  auto n = parse_int(m.substr(0, sp1));
  auto at = parse_int(m.substr(sp1 + 1, sp2 - sp1 - 1));
  if (!n || !at || *n <= 0) return std::nullopt;
  return Entry{uint64_t(*n), *at, std::string(m.substr(sp2 + 1))};
}

// An XRANGE entry: [id, [field, value, ...]].
std::optional<Entry> parse_stream_entry(const redisReply* e) {
  if (!e || e->type != REDIS_REPLY_ARRAY || e->elements != 2) return std::nullopt;
  const redisReply* f = e->element[1];
  if (!f || f->type != REDIS_REPLY_ARRAY) return std::nullopt;
  Entry out;
  for (size_t i = 0; i + 1 < f->elements; i += 2) {
    auto name = str(f->element[i]);
    auto value = str(f->element[i + 1]);
    if (name == "n")
      out.n = uint64_t(parse_int(value).value_or(0));
    else if (name == "at")
      out.at_ms = parse_int(value).value_or(0);
    else if (name == "spec")
      out.spec = std::string(value);
  }
  if (out.n == 0) return std::nullopt;
  return out;
}

std::map<std::string, std::string> hash_of(const redisReply* r) {
  std::map<std::string, std::string> out;
  if (!r || r->type != REDIS_REPLY_ARRAY) return out;
  for (size_t i = 0; i + 1 < r->elements; i += 2)
    out.emplace(std::string(str(r->element[i])), std::string(str(r->element[i + 1])));
  return out;
}

obs::Histogram& apply_seconds() {
  static auto& h = obs::metrics().histogram(
      "cdn_purge_apply_seconds",
      "Delay from a fleet purge's acceptance to its application on this node",
      {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  return h;
}

void count(const char* name, const char* help, const obs::Labels& labels = {}) {
  obs::metrics().counter(name, help, labels).inc();
}

}  // namespace

struct FleetPurge::Impl {
  FleetPurge* self;
  const FleetPurgeDeps& d;
  const FleetPurgeConfig& cfg;
  std::unique_ptr<net::RedisConnection> cmd, sub;
  bool ready = false;      // the last applied number is known
  uint64_t scheduled = 0;  // highest number handed to the job thread
  bool catching_up = false, catch_up_again = false;
  // Send time of the last heartbeat Redis took: other nodes stop waiting for this one
  // node_timeout after it, so from half that on this node assumes it may be missing purges.
  int64_t last_heartbeat_ok_ms = 0;
  int64_t next_heartbeat_ms = 0;
  bool failsafe = false;
  uv_timer_t* tick = nullptr;

  struct Held {
    uint64_t seq;
    net::Worker* worker;
    std::function<void()> resume;
    int64_t deadline_ms;
  };
  std::vector<Held> held;

  struct Waiter {
    std::shared_ptr<http::Exchange> ex;
    uint64_t n;
    int64_t deadline_ms;
    bool polling = false;
  };
  std::vector<std::shared_ptr<Waiter>> waiters;

  Impl(FleetPurge* s) : self(s), d(s->d_), cfg(s->d_.cfg) {}

  std::string key(std::string_view what) const { return cfg.key_prefix + std::string(what); }
  std::string applied_key(uint64_t n) const { return key("applied:" + std::to_string(n)); }

  void start() {
    net::RedisConnectionOptions o;
    o.host = cfg.address.host;
    o.port = cfg.address.port;
    o.command_timeout_ms = cfg.command_timeout_ms;
    o.username = cfg.username;
    o.password = cfg.password;
    o.client_name = "cdn-purge-cmd-" + d.node;
    cmd = std::make_unique<net::RedisConnection>(
        d.admin->loop(), o, [this] { on_cmd_up(); },
        [](std::string_view why) {
          obs::log(obs::Level::Warn, "fleet purge: redis commands unavailable",
                   {{"why", std::string(why)}});
        });
    o.client_name = "cdn-purge-sub-" + d.node;
    sub = std::make_unique<net::RedisConnection>(
        d.admin->loop(), o, [this] { on_sub_up(); },
        [](std::string_view why) {
          obs::log(obs::Level::Warn, "fleet purge: feed lost", {{"why", std::string(why)}});
        });
    last_heartbeat_ok_ms = unix_now_ms();
    tick = new uv_timer_t;
    uv_timer_init(d.admin->loop(), tick);
    tick->data = this;
    uv_timer_start(
        tick, [](uv_timer_t* t) { static_cast<Impl*>(t->data)->on_tick(); }, kTickMs, kTickMs);
  }

  // ---- following the feed ------------------------------------------------------------------

  void on_cmd_up() {
    heartbeat();
    if (ready) {
      catch_up();
      return;
    }
    cmd->send({"HGET", key("seen"), d.node}, [this](redisReply* r) {
      auto seen = parse_int(str(r));
      if (seen) return became_ready(uint64_t(*seen));
      // A node new to the fleet: nothing it holds can predate a purge it should have seen.
      cmd->send({"GET", key("seq")}, [this](redisReply* c) {
        if (!c) return;  // connection lost: asked again on the next connect
        became_ready(uint64_t(parse_int(str(c)).value_or(0)));
      });
    });
  }

  void became_ready(uint64_t seen) {
    if (ready) return;
    ready = true;
    scheduled = seen;
    self->applied_.store(seen);
    catch_up();
  }

  void on_sub_up() {
    sub->subscribe(cfg.channel, [this](redisReply* r) { on_message(r); });
  }

  void on_message(redisReply* r) {
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
    auto kind = str(r->element[0]);
    if (kind == "subscribe") {
      // Subscribed: whatever was published while not, is in the stream.
      if (ready) catch_up();
      return;
    }
    if (kind != "message" || !ready) return;
    auto e = parse_message(str(r->element[2]));
    if (!e || e->n <= scheduled) return;
    if (e->n == scheduled + 1 && !catching_up) {
      schedule(std::move(*e), false);
      return;
    }
    catch_up();  // a gap: take the purges in order from the stream
  }

  void catch_up() {
    if (!ready) return;
    if (catching_up) {
      catch_up_again = true;
      return;
    }
    catching_up = true;
    bool sent = cmd->send({"GET", key("seq")}, [this](redisReply* c) {
      if (!c) return caught_up(0);
      uint64_t counter = uint64_t(parse_int(str(c)).value_or(0));
      bool asked = cmd->send({"XRANGE", cfg.stream, "-", "+"}, [this, counter](redisReply* r) {
        if (!r || r->type != REDIS_REPLY_ARRAY) return caught_up(0);
        std::vector<Entry> entries;
        for (size_t i = 0; i < r->elements; ++i)
          if (auto e = parse_stream_entry(r->element[i]); e && e->n > scheduled)
            entries.push_back(std::move(*e));
        std::sort(entries.begin(), entries.end(),
                  [](const Entry& a, const Entry& b) { return a.n < b.n; });
        if (counter > scheduled && (entries.empty() || entries.front().n > scheduled + 1)) {
          // Purges this node never applied are gone from the stream: everything it cached before
          // the oldest purge still there (or now, when none is) may be one of their targets.
          int64_t cutoff = entries.empty() ? unix_now_ms() : entries.front().at_ms;
          cache::set_stale_before_ms(cutoff);
          count("cdn_purge_missed_total",
                "Reconnects that found missed purges trimmed from the stream");
          obs::log(obs::Level::Warn,
                   "fleet purge: missed purges no longer in the stream; older objects revalidate",
                   {{"applied", std::to_string(scheduled)}, {"cutoff_ms", std::to_string(cutoff)}});
          uint64_t skip_to = entries.empty() ? counter : entries.front().n - 1;
          scheduled = skip_to;
          uint64_t cur = self->applied_.load();
          if (skip_to > cur) self->applied_.store(skip_to);
        }
        for (auto& e : entries) schedule(std::move(e), true);
        caught_up(counter);
      });
      if (!asked) caught_up(0);
    });
    if (!sent) caught_up(0);
  }

  void caught_up(uint64_t counter) {
    catching_up = false;
    // A refill naming a purge beyond the fleet's counter names one that does not exist.
    if (counter) release_held([counter](const Held& h) { return h.seq > counter; });
    if (catch_up_again) {
      catch_up_again = false;
      catch_up();
    }
  }

  void schedule(Entry e, bool replay) {
    scheduled = e.n;
    std::optional<LocalPurge> local;
    if (auto spec = purge_spec_from_query(e.spec))
      if (auto l = d.services->local_of(*spec)) local = std::move(l.value());
    if (!local)
      obs::log(obs::Level::Warn, "fleet purge: unreadable purge skipped", {{"spec", e.spec}});
    net::Worker* admin = d.admin;
    const ServicePurge* services = d.services;
    auto* impl = this;
    d.jobs->submit([impl, admin, services, local, e = std::move(e), replay]() {
      if (local) services->purge(*local);
      admin->post([impl, e, replay]() { impl->applied(e, replay); });
    });
  }

  void applied(const Entry& e, bool replay) {
    int64_t now = unix_now_ms();
    if (e.n > self->applied_.load()) self->applied_.store(e.n);
    apply_seconds().observe(double(std::max<int64_t>(0, now - e.at_ms)) / 1000.0);
    if (replay)
      count("cdn_purge_replays_total",
            "Fleet purges applied from the stream after a gap or reconnect");
    std::string n = std::to_string(e.n);
    cmd->send({"HSET", applied_key(e.n), d.node, std::to_string(now)}, [](redisReply*) {});
    cmd->send({"EXPIRE", applied_key(e.n), std::to_string(kAppliedRecordTtlS)}, [](redisReply*) {});
    cmd->send({"HSET", key("seen"), d.node, n}, [](redisReply*) {});
    uint64_t done = self->applied_.load();
    release_held([done](const Held& h) { return h.seq <= done; });
  }

  // ---- refills that wait for a purge -------------------------------------------------------

  void add_held(Held h) {
    if (h.seq <= self->applied_.load()) {
      h.worker->post(std::move(h.resume));
      return;
    }
    held.push_back(std::move(h));
    catch_up();
  }

  template <typename Pred>
  void release_held(Pred pred) {
    auto it =
        std::stable_partition(held.begin(), held.end(), [&](const Held& h) { return !pred(h); });
    for (auto i = it; i != held.end(); ++i) i->worker->post(std::move(i->resume));
    held.erase(it, held.end());
  }

  // ---- timers --------------------------------------------------------------------------------

  void heartbeat() {
    int64_t now = unix_now_ms();
    next_heartbeat_ms = now + cfg.heartbeat_ms;
    cmd->send({"HSET", key("nodes"), d.node, std::to_string(now)}, [this, now](redisReply* r) {
      if (r && r->type == REDIS_REPLY_INTEGER)
        last_heartbeat_ok_ms = std::max(last_heartbeat_ok_ms, now);
    });
  }

  void on_tick() {
    int64_t now = unix_now_ms();
    if (cmd->connected() && now >= next_heartbeat_ms) heartbeat();
    if (now - last_heartbeat_ok_ms > cfg.node_timeout_ms / 2) {
      // The fleet may be purging without this node: what it serves is revalidated first.
      if (!failsafe)
        obs::log(obs::Level::Warn,
                 "fleet purge: out of touch with redis; revalidating every object");
      failsafe = true;
      cache::set_stale_before_ms(now);
    } else {
      failsafe = false;
    }
    self->out_of_touch_.store(failsafe, std::memory_order_relaxed);
    size_t before = held.size();
    release_held([now](const Held& h) { return h.deadline_ms <= now; });
    for (size_t i = held.size(); i < before; ++i)
      count("cdn_purge_barrier_timeouts_total",
            "Refills that waited barrier_timeout for a purge and went on");
    // A copy: a poll that cannot reach Redis answers (and leaves `waiters`) at once.
    for (auto& w : std::vector<std::shared_ptr<Waiter>>(waiters)) poll(w);
  }

  // ---- the admin answers ---------------------------------------------------------------------

  void submit(const std::shared_ptr<http::Exchange>& ex, const PurgeSpec& spec) {
    PurgeSpec s = spec;
    s.id.clear();
    int64_t at = unix_now_ms();
    bool sent = cmd->send(
        {"EVAL", kSubmitScript, "2", key("seq"), cfg.stream, std::to_string(cfg.stream_max_len),
         to_query(s), d.node, std::to_string(at), cfg.channel},
        [this, ex, spec](redisReply* r) {
          if (!r || r->type != REDIS_REPLY_INTEGER) {
            if (r && r->type == REDIS_REPLY_ERROR)
              obs::log(obs::Level::Error, "fleet purge: submit script failed", {{"error", r->str}});
            return unavailable(ex);
          }
          count_purge(spec, "fleet");
          auto w = std::make_shared<Waiter>(
              Waiter{ex, uint64_t(r->integer), unix_now_ms() + cfg.wait_ms});
          waiters.push_back(w);
          poll(w);
        });
    if (!sent) unavailable(ex);
  }

  void unavailable(const std::shared_ptr<http::Exchange>& ex) {
    count("cdn_purge_rejections_total", "Purge requests refused, by reason",
          {{"reason", "purge-redis-unavailable"}});
    ex->respond_error(503, "purge-redis-unavailable");
  }

  // Reads who applied purge n and who is alive; calls done(applied, pending) or with ok=false.
  void applied_and_pending(uint64_t n,
                           std::function<void(bool ok, std::map<std::string, std::string> applied,
                                              std::vector<std::string> pending)>
                               done) {
    bool sent = cmd->send({"HGETALL", applied_key(n)}, [this, done](redisReply* a) {
      if (!a) return done(false, {}, {});
      auto applied = hash_of(a);
      bool asked =
          cmd->send({"HGETALL", key("nodes")}, [this, done, applied](redisReply* r) mutable {
            if (!r) return done(false, {}, {});
            int64_t live_after = unix_now_ms() - cfg.node_timeout_ms;
            std::vector<std::string> pending;
            for (auto& [node, ms] : hash_of(r))
              if (parse_int(ms).value_or(0) >= live_after && !applied.count(node))
                pending.push_back(node);
            done(true, std::move(applied), std::move(pending));
          });
      if (!asked) done(false, {}, {});
    });
    if (!sent) done(false, {}, {});
  }

  static std::string body_of(uint64_t n, const std::map<std::string, std::string>& applied,
                             const std::vector<std::string>& pending) {
    std::string b = "{\"id\":\"" + std::to_string(n) + "\",\"applied\":[";
    bool first = true;
    for (auto& [node, ms] : applied) {
      if (!first) b += ',';
      first = false;
      b += "{\"node\":\"" + obs::json_escape(node) +
           "\",\"at_ms\":" + std::to_string(parse_int(ms).value_or(0)) + "}";
    }
    b += "],\"pending\":[";
    for (size_t i = 0; i < pending.size(); ++i)
      b += (i ? ",\"" : "\"") + obs::json_escape(pending[i]) + "\"";
    return b + "]}\n";
  }

  void poll(const std::shared_ptr<Waiter>& w) {
    if (w->polling) return;
    w->polling = true;
    applied_and_pending(w->n, [this, w](bool ok, std::map<std::string, std::string> applied,
                                        std::vector<std::string> pending) {
      w->polling = false;
      bool late = unix_now_ms() >= w->deadline_ms;
      // Done when every live node applied it; this node counts as live even before its first
      // heartbeat lands.
      bool done = ok && pending.empty() && applied.count(d.node);
      if (!done && !late) return;
      std::erase(waiters, w);
      http::Headers h{{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}};
      if (!done) h.add("X-Error-Reason", "purge-not-applied-everywhere");
      w->ex->respond(done ? 200 : 504, std::move(h), body_of(w->n, applied, pending));
    });
  }

  void report(const std::shared_ptr<http::Exchange>& ex, std::string_view id) {
    auto n = parse_int(id);
    if (!n || *n <= 0) return ex->respond_error(400, "bad-purge-id");
    applied_and_pending(uint64_t(*n), [ex, n](bool ok, std::map<std::string, std::string> applied,
                                              std::vector<std::string> pending) {
      if (!ok) return ex->respond_error(503, "purge-redis-unavailable");
      if (applied.empty()) return ex->respond_error(404, "no-such-purge");
      http::Headers h{{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}};
      ex->respond(200, std::move(h), body_of(uint64_t(*n), applied, pending));
    });
  }
};

FleetPurge::FleetPurge(FleetPurgeDeps deps)
    : d_(std::move(deps)), impl_(std::make_unique<Impl>(this)) {}

FleetPurge::~FleetPurge() {
  // The admin loop has stopped by now: its handles (the timer, hiredis's poll) cannot be closed on
  // it any more, and hiredis must not touch them from this thread. The connections stay for the
  // process exit, like the session stores', reachable from here so a leak checker does not count
  // them.
  static auto* kept = new std::vector<Impl*>;
  kept->push_back(impl_.release());
}

void FleetPurge::start() {
  impl_->start();
}

bool FleetPurge::submit(const std::shared_ptr<http::Exchange>& ex, const PurgeSpec& spec) {
  impl_->submit(ex, spec);
  return true;
}

void FleetPurge::report(const std::shared_ptr<http::Exchange>& ex, std::string_view id) {
  impl_->report(ex, id);
}

bool FleetPurge::hold(uint64_t seq, net::Worker* w, std::function<void()> resume) {
  if (seq <= applied_.load()) return false;
  int64_t deadline = unix_now_ms() + d_.cfg.barrier_timeout_ms;
  Impl* impl = impl_.get();
  return d_.admin->post([impl, seq, w, resume = std::move(resume), deadline]() mutable {
    impl->add_held({seq, w, std::move(resume), deadline});
  });
}

}  // namespace cdn::proxy
