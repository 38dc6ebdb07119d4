#include "common/runtime/program.h"

#include <unistd.h>
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <future>
#include <latch>
#include <thread>

#include "common/net/address.h"
#include "common/obs/log.h"
#include "common/obs/metrics.h"
#include "common/runtime/tls_metrics.h"
#include "common/util/clock.h"

namespace cdn::runtime {

namespace {

void usage(const std::string& name) {
  fprintf(stderr,
          "usage: %s --config FILE [--check-config]\n"
          "  --config FILE     YAML configuration (see README: Configuration)\n"
          "  --check-config    validate the configuration and exit (0 = valid)\n",
          name.c_str());
}

// The admin listener (loopback or a management network) gets a fixed share per client so one
// runaway poller cannot take every admin slot, and no request rate limit: its clients are
// monitoring, cdn-geo's health polls and operators, which poll often by design.
constexpr size_t kAdminMaxConnections = 256;
constexpr uint32_t kAdminMaxConnectionsPerClient = 64;

http::ClientPrefixes client_prefixes(const config::LimitsConfig& l) {
  return {uint8_t(l.client_ipv4_prefix), uint8_t(l.client_ipv6_prefix)};
}

http::ClientLimitsOptions viewer_client_limits(const config::ServerConfig& cfg) {
  http::ClientLimitsOptions o;
  o.max_connections_per_client = config::max_connections_per_client(cfg.limits, cfg.tier);
  o.requests_per_second = cfg.limits.requests_per_second_per_client;
  o.request_burst = cfg.limits.request_burst_per_client;
  o.prefixes = client_prefixes(cfg.limits);
  return o;
}

http::ClientLimitsOptions admin_client_limits(const config::ServerConfig& cfg) {
  http::ClientLimitsOptions o;
  o.max_connections_per_client = kAdminMaxConnectionsPerClient;
  o.prefixes = client_prefixes(cfg.limits);
  return o;
}

}  // namespace

std::string Program::via_name() const {
  return (cfg_.node_name.empty() ? std::string("localhost") : cfg_.node_name) + " (" + name_ + ")";
}

int Program::main(int argc, char** argv, Hooks hooks) {
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      config_path_ = argv[++i];
    } else if (a == "--check-config") {
      check_only = true;
    } else if (a == "--help" || a == "-h") {
      usage(name_);
      return 0;
    } else {
      fprintf(stderr, "%s: unknown argument '%s'\n", name_.c_str(), a.c_str());
      usage(name_);
      return 2;
    }
  }
  if (config_path_.empty()) {
    usage(name_);
    return 2;
  }
  extra_sections_ = hooks.extra_sections;
  service_sections_ = hooks.service_sections;
  auto cfg = config::load_server_config(config_path_, hooks.extra_sections, hooks.service_sections);
  if (!cfg) {
    fprintf(stderr, "%s\n", cfg.error().message.c_str());
    return 2;
  }
  cfg_ = std::move(cfg.value());
  if (cfg_.tier != tier_) {
    fprintf(stderr, "%s: tier is %s, but this program is the %s\n", config_path_.c_str(),
            std::string(config::to_string(cfg_.tier)).c_str(), std::string(config::to_string(tier_)).c_str());
    return 2;
  }
  if (check_only) {
    printf("%s: configuration ok\n", config_path_.c_str());
    return 0;
  }
  return run(hooks);
}

Result<void> Program::build_tls(const config::ServerConfig& cfg) {
  if (!cfg.tls) return {};
  net::TlsOptions o;
  for (auto& c : cfg.tls->certificates) o.certificates.push_back({c.cert, c.key});
  o.session_tickets = cfg.tls->session_tickets;
  o.tickets_per_handshake = int(cfg.tls->tickets_per_handshake);
  o.session_cache_size = long(cfg.tls->session_cache_size);
  o.ciphersuites = cfg.tls->ciphersuites;
  o.ciphers = cfg.tls->ciphers;
  o.client_ca = cfg.tls->client_ca;
  // ALPN is the listener's, fixed at the start.
  o.http2 = config::http2_enabled(cfg_.http2, tier_);
  auto ctx = net::TlsContext::create(o);
  if (!ctx) return ctx.error();
  tls_.set(std::move(ctx.value()));
  return {};
}

Result<void> Program::build_admin_tls() {
  if (!cfg_.admin.tls) return {};
  net::TlsOptions o;
  o.certificates.push_back({cfg_.admin.tls->cert, cfg_.admin.tls->key});
  o.client_ca = cfg_.admin.tls->client_ca;
  auto ctx = net::TlsContext::create(o);
  if (!ctx) return ctx.error();
  admin_tls_.set(std::move(ctx.value()));
  return {};
}

void Program::on_request_complete(const http::Exchange& ex) {
  static obs::Histogram& dur = obs::metrics().histogram(
      "cdn_request_duration_seconds", "Time from request head to last byte sent",
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  double ms = double((ex.worker() ? ex.worker()->now_ms() : mono_ms()) - ex.start_ms());
  dur.observe(ms / 1000.0);
  if (!access_log_ || !access_log_->enabled()) return;
  const auto& r = ex.request();
  obs::AccessRecord rec;
  rec.ts_ms = unix_now_ms() - int64_t(ms);
  rec.client = ex.client_ip();
  rec.method = r.method;
  rec.host = r.host;
  rec.path = r.path;
  rec.protocol = std::string(ex.protocol()) + (ex.tls() ? "+TLS" : "");
  rec.cache = ex.log.cache;
  rec.upstream = ex.log.upstream;
  rec.reason = ex.log.reason;
  rec.tier = std::string(config::to_string(tier_));
  rec.service = std::string(ex.log.service);
  rec.status = ex.status();
  rec.bytes_sent = ex.body_bytes_sent();
  rec.duration_ms = ms;
  rec.user_agent = std::string(r.headers.get_or("user-agent"));
  access_log_->write(obs::to_json(rec));
}

void Program::install_admin_routes() {
  admin_->add_public_read("/healthz", [this](const std::shared_ptr<http::Exchange>& ex) {
    static obs::Counter& bytes = obs::metrics().counter("cdn_bytes_sent_total", "Body bytes sent to clients");
    HealthReport r;
    r.tier = std::string(config::to_string(tier_));
    r.node = cfg_.node_name;
    r.draining = drain_->announced();
    r.drain_phase = int(drain_->phase());
    r.active_connections = server_->active_connections();
    r.egress_bytes_per_s = egress_rate_.load();
    r.egress_bytes_total = bytes.value();
    r.max_connections = cfg_.limits.max_connections;
    r.workers = workers_.size();
    r.requests = request_totals();
    for (auto& [name, read] : health_fields_) r.extra.emplace_back(name, read());
    ex->respond(r.draining ? 503 : 200, {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}},
                to_json(r));
  });
  admin_->add_public_read("/metrics", [](const std::shared_ptr<http::Exchange>& ex) {
    ex->respond(200, {{"Content-Type", "text/plain; version=0.0.4"}, {"Cache-Control", "no-store"}},
                obs::metrics().render());
  });
  admin_->add_write("/admin/drain", [this](const std::shared_ptr<http::Exchange>& ex) {
    ex->respond(202, {{"Content-Type", "application/json"}}, "{\"draining\":true}\n");
    // Repeated POSTs (a retrying playbook) do not cut the grace short; only a second signal does.
    start_drain(false);
  });
}

void Program::start_drain(bool skip_grace) {
  if (drain_->announce(mono_ms())) {
    obs::log(obs::Level::Info, "draining",
             {{"grace_ms", std::to_string(drain_->grace_ms())}, {"timeout_ms", std::to_string(drain_->drain_ms())}});
  }
  if (skip_grace || drain_->grace_over(mono_ms())) begin_stopping();
}

void Program::begin_stopping() {
  if (!drain_->begin_stopping(mono_ms())) return;
  obs::log(obs::Level::Info, "drain: stopped accepting",
           {{"active_connections", std::to_string(server_->active_connections())}});
  server_->set_draining();
  for (auto& w : workers_) {
    net::Worker* wp = w.get();
    w->post([this, wp]() { server_->drain(*wp); });
  }
}

bool Program::start_admin_loop(const net::SockAddr& addr, std::string& error) {
  // The result is handed over through a promise: the loop thread binds, the caller waits for it.
  std::promise<std::string> bound;
  auto result = bound.get_future();
  admin_worker_->start([this, &addr, &bound](net::Worker& w) {
    auto r = admin_server_->listen(w, {addr, cfg_.admin.tls.has_value()});
    bound.set_value(r ? std::string() : "admin: " + r.error().message);
  });
  error = result.get();
  return error.empty();
}

void Program::stop_admin_loop() {
  if (!admin_worker_) return;
  net::Worker* w = admin_worker_.get();
  w->post([this, w]() { admin_server_->close_all(*w); });
  w->stop();
  w->join();
}

int Program::run(Hooks& hooks) {
  // A peer that closes mid-write must cost us an EPIPE on that socket, not the process.
  signal(SIGPIPE, SIG_IGN);
  obs::set_log_level(obs::Level(int(cfg_.log_level)));
  auto al = obs::AccessLog::open(cfg_.access_log);
  if (!al) {
    fprintf(stderr, "%s: access_log: %s\n", config_path_.c_str(), al.error().message.c_str());
    return 1;
  }
  access_log_ = std::move(al.value());
  if (auto r = build_tls(cfg_); !r) {
    fprintf(stderr, "%s: tls: %s\n", config_path_.c_str(), r.error().message.c_str());
    return 1;
  }
  if (auto r = build_admin_tls(); !r) {
    fprintf(stderr, "%s: admin.tls: %s\n", config_path_.c_str(), r.error().message.c_str());
    return 1;
  }
  size_t n = cfg_.workers ? cfg_.workers : std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 0; i < n; ++i) workers_.push_back(std::make_unique<net::Worker>(int(i)));
  admin_worker_ = std::make_unique<net::Worker>(int(n));
  drain_ = std::make_unique<DrainSchedule>(cfg_.timeouts.drain_grace_ms, cfg_.timeouts.drain_ms);

  admin_ = std::make_unique<AdminApi>(cfg_.admin.token);
  auto handler = hooks.setup(*this);
  if (!handler) {
    fprintf(stderr, "%s: %s\n", name_.c_str(), handler.error().message.c_str());
    return 1;
  }

  http::ServerOptions so;
  so.limits.max_url_bytes = cfg_.limits.max_url_bytes;
  so.limits.max_header_bytes = cfg_.limits.max_header_bytes;
  so.limits.max_field_bytes = cfg_.limits.max_field_bytes;
  so.limits.escaped_slashes =
      cfg_.limits.keep_escaped_slashes ? http::EscapedSlashes::Keep : http::EscapedSlashes::Refuse;
  so.limits.max_headers = cfg_.limits.max_headers;
  so.header_read_ms = cfg_.timeouts.header_read_ms;
  so.keepalive_idle_ms = cfg_.timeouts.keepalive_idle_ms;
  so.send_stall_ms = cfg_.timeouts.send_stall_ms;
  so.max_body_bytes = cfg_.limits.max_body_bytes;
  so.send_buffer_bytes = cfg_.limits.send_buffer_bytes;
  so.server_name = via_name();
  const config::Http2Config& h2 = cfg_.http2;
  so.h2.h2c = h2.h2c && config::http2_enabled(h2, tier_);
  so.h2.max_concurrent_streams = h2.max_concurrent_streams;
  so.h2.header_table_bytes = h2.header_table_bytes;
  so.h2.max_header_list_bytes = h2.max_header_list_bytes;
  so.h2.max_continuations = h2.max_continuations;
  so.h2.max_resets = h2.max_resets;
  so.h2.max_control_frames = h2.max_control_frames;
  so.h2.max_empty_data = h2.max_empty_data;
  so.h2.flood_interval_ms = h2.flood_interval_ms;
  so.h2.stream_window_bytes = h2.stream_window_bytes;
  http::ConnectionHooks ch;
  ch.on_refused = [](int status, const std::string& reason) {
    obs::metrics()
        .counter("cdn_http_refused_total", "Requests or connections refused before any handler, by reason",
                 {{"status", std::to_string(status)}, {"reason", reason}})
        .inc();
  };
  ch.on_h2_refused = [](const std::string& reason, const std::string& client, bool connection) {
    obs::metrics()
        .counter("cdn_http2_refused_total", "HTTP/2 streams or connections refused by a limit, by reason",
                 {{"reason", reason}})
        .inc();
    if (connection) obs::log(obs::Level::Warn, "http2 connection ended", {{"client", client}, {"reason", reason}});
  };
  ch.on_answered = [](const http::Exchange& ex) {
    requests_counter(ex.status(), ex.protocol(), ex.log.service_label).inc();
  };
  ch.on_complete = [this](const http::Exchange& ex) { on_request_complete(ex); };
  ch.on_body_sent = [](uint64_t n) {
    // Counted as the socket takes them, so the egress rate is what left, not what was queued.
    static obs::Counter& bytes = obs::metrics().counter("cdn_bytes_sent_total", "Body bytes sent to clients");
    bytes.inc(n);
  };
  server_ = std::make_unique<http::HttpServer>(
      so, handler.value(), ch, &tls_, cfg_.limits.max_connections, viewer_client_limits(cfg_));
  http::ConnectionHooks admin_hooks;
  admin_hooks.on_refused = ch.on_refused;
  admin_server_ = std::make_unique<http::HttpServer>(
      so, admin_.get(), admin_hooks, &admin_tls_, kAdminMaxConnections, admin_client_limits(cfg_));
  install_admin_routes();
  collector_ = obs::metrics().add_collector([this](obs::Registry& r) {
    r.gauge("cdn_connections_active", "Open client connections").set(int64_t(server_->active_connections()));
    r.gauge("cdn_draining", "1 while draining (either drain phase)").set(drain_->announced() ? 1 : 0);
    r.gauge("cdn_drain_phase", "0 serving, 1 draining but still accepting (timeouts.drain_grace), 2 not accepting")
        .set(int64_t(drain_->phase()));
    export_tls_failures(r);
  });

  // Bind everything before reporting ready; any bind failure stops the start.
  std::vector<http::ListenSpec> specs;
  for (auto& l : cfg_.listen) {
    auto a = net::resolve_numeric(l.address.host, l.address.port);
    if (!a) {
      fprintf(stderr, "%s: listen %s: %s\n", config_path_.c_str(), l.address.str().c_str(), a.error().message.c_str());
      return 1;
    }
    specs.push_back({a.value(), l.tls});
  }
  auto admin_addr = net::resolve_numeric(cfg_.admin.listen.host, cfg_.admin.listen.port);
  if (!admin_addr) {
    fprintf(stderr, "%s: admin.listen: %s\n", config_path_.c_str(), admin_addr.error().message.c_str());
    return 1;
  }
  std::latch started(ptrdiff_t(workers_.size()));
  std::atomic<bool> failed{false};
  std::string fail_msg;
  std::mutex fail_mu;
  for (auto& w : workers_) {
    w->start([&, this](net::Worker& wk) {
      for (auto& s : specs) {
        if (auto r = server_->listen(wk, s); !r) {
          std::lock_guard lk(fail_mu);
          failed = true;
          fail_msg = r.error().message;
        }
      }
      started.count_down();
    });
  }
  started.wait();
  if (!failed && !start_admin_loop(admin_addr.value(), fail_msg)) failed = true;
  if (failed) {
    stop_admin_loop();
    fprintf(stderr, "%s: %s\n", name_.c_str(), fail_msg.c_str());
    for (auto& w : workers_) w->stop();
    for (auto& w : workers_) w->join();
    return 1;
  }
  obs::log(obs::Level::Info, "started",
           {{"program", name_}, {"workers", std::to_string(workers_.size())}, {"admin", cfg_.admin.listen.str()}});

  // The main thread only watches signals and the drain, on a loop of its own.
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct State {
    Program* self;
    Hooks* hooks;
    uint64_t last_bytes = 0;
    int64_t last_ms = 0;
  } st{this, &hooks};
  uv_signal_t sigterm, sigint, sighup;
  uv_timer_t tick;
  for (auto* s : {&sigterm, &sigint, &sighup}) {
    uv_signal_init(&loop, s);
    s->data = &st;
  }
  auto on_stop = [](uv_signal_t* s, int) {
    Program* p = static_cast<State*>(s->data)->self;
    // The operator's second signal: skip what is left of the grace.
    p->start_drain(p->drain_->announced());
  };
  uv_signal_start(&sigterm, on_stop, SIGTERM);
  uv_signal_start(&sigint, on_stop, SIGINT);
  uv_signal_start(
      &sighup,
      [](uv_signal_t* s, int) {
        auto* st = static_cast<State*>(s->data);
        obs::log(obs::Level::Info, "reloading");
        if (st->hooks->reloads_whole_config) {
          // the tier's on_reload does it from the config it reads again
        } else if (auto r = st->self->build_tls(st->self->cfg_); !r) {
          obs::log(obs::Level::Error, "tls reload failed, keeping the old certificates", {{"error", r.error().message}});
        }
        if (auto r = st->self->build_admin_tls(); !r)
          obs::log(obs::Level::Error, "admin tls reload failed, keeping the old certificates", {{"error", r.error().message}});
        st->self->access_log_->reopen();
        if (st->hooks->on_reload) st->hooks->on_reload(*st->self);
      },
      SIGHUP);
  uv_timer_init(&loop, &tick);
  tick.data = &st;
  uv_timer_start(
      &tick,
      [](uv_timer_t* t) {
        auto* st = static_cast<State*>(t->data);
        Program* p = st->self;
        if (p->drain_->grace_over(mono_ms())) p->begin_stopping();
        uint64_t bytes = obs::metrics().counter("cdn_bytes_sent_total", "Body bytes sent to clients").value();
        int64_t now = mono_ms();
        if (st->last_ms) p->egress_rate_ = double(bytes - st->last_bytes) * 1000.0 / double(std::max<int64_t>(now - st->last_ms, 1));
        st->last_bytes = bytes;
        st->last_ms = now;
        if (p->drain_->stopping() &&
            (p->server_->active_connections() == 0 || p->drain_->stop_deadline_passed(mono_ms()))) {
          uv_stop(t->loop);
        }
      },
      250, 250);
  uv_run(&loop, UV_RUN_DEFAULT);
  obs::log(obs::Level::Info, "stopping", {{"active_connections", std::to_string(server_->active_connections())}});
  stop_admin_loop();
  // Every worker closes its connections before any worker stops, so the aborts they post to each
  // other still run; then each loop returns after the close callbacks of its last iteration.
  std::latch closed(ptrdiff_t(workers_.size()));
  for (auto& w : workers_) {
    net::Worker* wp = w.get();
    bool posted = w->post([this, wp, &closed]() {
      server_->close_all(*wp);
      closed.count_down();
    });
    if (!posted) closed.count_down();
  }
  closed.wait();
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  if (hooks.on_shutdown) hooks.on_shutdown(*this);
  for (auto* s : {&sigterm, &sigint, &sighup}) uv_close(reinterpret_cast<uv_handle_t*>(s), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  access_log_.reset();
  return 0;
}

}  // namespace cdn::runtime
