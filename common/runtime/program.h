#pragma once
// What every server program shares: command line, validated config, worker loops, TLS with
// reload, the admin API, access log and request metrics, SIGHUP reload and SIGTERM drain.
// A tier program only supplies its request handler and its admin routes.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config/server_config.h"
#include "common/http/server.h"
#include "common/net/tls_context.h"
#include "common/net/worker.h"
#include "common/obs/access_log.h"
#include "common/obs/metrics.h"
#include "common/runtime/admin_api.h"
#include "common/runtime/drain.h"
#include "common/runtime/health_report.h"

namespace cdn::runtime {

class Program {
 public:
  struct Hooks {
    // Reads extra top-level config sections (e.g. the origin's live channels).
    config::ExtraSections extra_sections;
    // Reads a tier's own keys of each delivery service (e.g. the edge's "access:").
    config::ServiceSections service_sections;
    // Builds the tier's handler once config and workers exist. Errors abort the start.
    std::function<Result<http::RequestHandler*>(Program&)> setup;
    // Extra work on SIGHUP (beyond TLS certificates and the access log).
    std::function<void(Program&)> on_reload;
    // The tier re-reads the whole config on SIGHUP and reloads the certificates from it itself
    // (reload_tls), so the program does not reload them from the config it started with.
    bool reloads_whole_config = false;
    // Last call before the process exits (flush stores).
    std::function<void(Program&)> on_shutdown;
  };

  Program(std::string name, config::Tier tier) : name_(std::move(name)), tier_(tier) {}
  int main(int argc, char** argv, Hooks hooks);

  const config::ServerConfig& config() const { return cfg_; }
  const std::string& config_path() const { return config_path_; }
  const std::string& name() const { return name_; }
  std::string via_name() const;
  size_t worker_count() const { return workers_.size(); }
  net::Worker& worker(size_t i) { return *workers_[i]; }
  // The admin listener's own loop and thread, so slow admin work (a prefix purge, the metrics of
  // a big registry, waiting for shields) never stalls a viewer. Its index is worker_count().
  net::Worker& admin_worker() { return *admin_worker_; }
  // Loops that may touch per-loop state (e.g. one Redis session store per loop): the viewer
  // workers and the admin loop.
  size_t loop_count() const { return workers_.size() + 1; }
  AdminApi& admin() { return *admin_; }
  http::HttpServer* server() { return server_.get(); }
  // True once the listeners stop accepting (drain phase 2): what a tier cuts short then (e.g. the
  // origin answers open live pushes 503). /healthz says draining from phase 1 on (drain_phase()).
  bool draining() const { return server_ && server_->draining(); }
  DrainPhase drain_phase() const { return drain_ ? drain_->phase() : DrainPhase::Serving; }
  // Egress rate measured over the last second, for /healthz and cdn-geo.
  double egress_bytes_per_s() const { return egress_rate_.load(); }
  // A tier's own cumulative number in /healthz (e.g. cache lookups, stream sessions); call from
  // Hooks::setup. `read` runs on the admin loop while the program runs.
  void add_health_field(std::string name, std::function<uint64_t()> read) {
    health_fields_.emplace_back(std::move(name), std::move(read));
  }
  // A whole-config reload: the viewer listeners' certificates (SNI map) from `cfg`, which the
  // tier has validated; an error keeps the current ones. Thread-safe.
  Result<void> reload_tls(const config::ServerConfig& cfg) { return build_tls(cfg); }
  // The hooks the config was read with, to read it again the same way (reload).
  const config::ExtraSections& extra_sections() const { return extra_sections_; }
  const config::ServiceSections& service_sections() const { return service_sections_; }

 private:
  int run(Hooks& hooks);
  Result<void> build_tls(const config::ServerConfig& cfg);
  Result<void> build_admin_tls();
  void install_admin_routes();
  void on_request_complete(const http::Exchange& ex);
  // SIGTERM, SIGINT, POST /admin/drain: announce the drain (phase 1); with skip_grace (a second
  // signal) or no grace, stop accepting at once (phase 2).
  void start_drain(bool skip_grace);
  void begin_stopping();
  // Starts the admin loop and binds the admin listener there; false (and a message) on failure.
  bool start_admin_loop(const net::SockAddr& addr, std::string& error);
  void stop_admin_loop();

  std::string name_;
  config::Tier tier_;
  std::string config_path_;
  config::ServerConfig cfg_;
  std::vector<std::unique_ptr<net::Worker>> workers_;
  std::unique_ptr<net::Worker> admin_worker_;
  net::TlsContextHolder tls_;
  net::TlsContextHolder admin_tls_;  // empty unless admin.tls
  std::unique_ptr<AdminApi> admin_;
  std::unique_ptr<http::HttpServer> server_, admin_server_;
  std::unique_ptr<obs::AccessLog> access_log_;
  obs::CollectorHandle collector_;  // reads server_; declared after it, so it goes first
  std::atomic<double> egress_rate_{0};
  std::unique_ptr<DrainSchedule> drain_;
  std::vector<HealthField> health_fields_;
  config::ExtraSections extra_sections_;
  config::ServiceSections service_sections_;
};

}  // namespace cdn::runtime
