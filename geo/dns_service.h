#pragma once
// cdn-geo's DNS listeners: geo/dns's DnsServer (UDP + TCP) on loops of their own, one per program
// worker, answering from the zone built from the config and the steering core. Everything is bound
// before the program reports ready, so a bad `dns_listen` address stops the start.
#include <memory>
#include <vector>

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
  void stop();

 private:
  DnsService() = default;
  std::vector<std::unique_ptr<DnsServer>> servers_;  // one per dns_listen address
  std::vector<std::unique_ptr<net::Worker>> workers_;
  bool running_ = false;
};

}  // namespace cdn::geo
