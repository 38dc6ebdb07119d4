#pragma once
// cdn-geo's DNS listeners: geo/dns's DnsServer (UDP + TCP) on loops of their own, one per program
// worker, answering from the zone built from the config and the steering core. Everything is bound
// before the program reports ready, so a bad `dns_listen` address stops the start.
//
// SIGHUP moves the listeners in two steps, so a refused reload changes nothing and no query is
// dropped: prepare() binds every newly listed address on every worker while the old sockets keep
// answering; then commit() (the new config is in use) closes the addresses no longer listed and
// applies `geo.dns`, or abandon() (the reload failed) closes what prepare() bound.
#include <memory>
#include <vector>

#include "common/config/parse_units.h"
#include "common/net/worker.h"
#include "common/util/result.h"
#include "geo/current_geo.h"
#include "geo/dns/dns_server.h"

namespace cdn::geo {

class DnsService {
 public:
  // Listens on cfg.dns_listen; every query reads the zone and steering of `current` at that time.
  static Result<std::unique_ptr<DnsService>> start(const GeoConfig& cfg, const CurrentGeo& current,
                                                   size_t workers);
  ~DnsService();
  // Not on one of this service's workers (they are waited for).
  Result<void> prepare(const GeoConfig& next);
  void commit(const GeoConfig& next);
  void abandon();
  void stop();

 private:
  struct Listening {
    config::HostPort address;
    std::unique_ptr<DnsServer> server;
  };

  explicit DnsService(const CurrentGeo& current) : current_(current) {}
  // A server for `address` listening on every worker, or why not (then nothing stays bound).
  Result<std::unique_ptr<DnsServer>> bind_everywhere(const config::HostPort& address,
                                                     const DnsServerOptions& options);
  // Closes `server`'s listeners on every worker; it can be destroyed after.
  void close_everywhere(DnsServer& server);
  // Runs fn on every worker's loop and waits until all have run it.
  void on_every_worker(const std::function<void(net::Worker&)>& fn);
  bool listening_on(const config::HostPort& address) const;

  const CurrentGeo& current_;
  std::vector<Listening> listening_;
  std::vector<Listening> prepared_;  // bound by prepare(), not yet committed
  std::vector<std::unique_ptr<net::Worker>> workers_;
  bool running_ = false;
};

}  // namespace cdn::geo
