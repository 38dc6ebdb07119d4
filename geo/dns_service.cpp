#include "geo/dns_service.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "common/net/address.h"
#include "common/obs/log.h"

namespace cdn::geo {

Result<std::unique_ptr<DnsService>> DnsService::start(const GeoConfig& cfg,
                                                      const CurrentGeo& current, size_t workers) {
  std::unique_ptr<DnsService> s(new DnsService());
  std::vector<net::SockAddr> addrs;
  for (const auto& hp : cfg.dns_listen) {
    auto a = net::resolve_numeric(hp.host, hp.port);
    if (!a) return Error{"dns_listen " + hp.str() + ": " + a.error().message};
    addrs.push_back(a.value());
    s->servers_.push_back(std::make_unique<DnsServer>(
        [&current] {
          std::shared_ptr<const GeoState> state = current.get();
          return DnsZone{state->zone, state->core};
        },
        DnsServerOptions{}));
  }
  if (addrs.empty()) return s;
  std::atomic<size_t> started{0};
  std::mutex mu;
  std::string failure;
  for (size_t i = 0; i < workers; ++i) {
    auto& w = s->workers_.emplace_back(std::make_unique<net::Worker>(int(i)));
    w->start([&, self = s.get()](net::Worker& wk) {
      for (size_t k = 0; k < addrs.size(); ++k) {
        if (auto r = self->servers_[k]->listen(wk, addrs[k]); !r) {
          std::lock_guard lk(mu);
          failure = "dns_listen " + cfg.dns_listen[k].str() + ": " + r.error().message;
        }
      }
      started++;
    });
  }
  s->running_ = true;
  while (started.load() < workers) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (!failure.empty()) {
    s->stop();
    return Error{failure};
  }
  for (auto& hp : cfg.dns_listen)
    obs::log(obs::Level::Info, "dns listening", {{"address", hp.str()}});
  return s;
}

DnsService::~DnsService() {
  stop();
}

void DnsService::stop() {
  if (!running_) return;
  running_ = false;
  for (auto& w : workers_) {
    net::Worker* wp = w.get();
    w->post([this, wp] {
      for (auto& server : servers_) server->close(*wp);
    });
  }
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
}

}  // namespace cdn::geo
