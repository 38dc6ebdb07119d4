#include "geo/dns_service.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "common/net/address.h"
#include "common/obs/log.h"

namespace cdn::geo {

Result<std::unique_ptr<DnsService>> DnsService::start(const GeoConfig& cfg,
                                                      const CurrentGeo& current, size_t workers) {
  std::unique_ptr<DnsService> s(new DnsService(current));
  for (size_t i = 0; i < workers; ++i)
    s->workers_.emplace_back(std::make_unique<net::Worker>(int(i)))->start([](net::Worker&) {});
  s->running_ = true;
  for (const auto& hp : cfg.dns_listen) {
    auto server = s->bind_everywhere(hp, cfg.dns);
    if (!server) {
      s->stop();
      return server.error();
    }
    s->listening_.push_back({hp, std::move(server.value())});
    obs::log(obs::Level::Info, "dns listening", {{"address", hp.str()}});
  }
  return s;
}

DnsService::~DnsService() {
  stop();
}

void DnsService::on_every_worker(const std::function<void(net::Worker&)>& fn) {
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;
  for (auto& w : workers_) {
    net::Worker* wp = w.get();
    bool posted = w->post([&, wp] {
      fn(*wp);
      std::lock_guard lk(mu);
      ++done;
      cv.notify_one();
    });
    if (!posted) {  // a stopped worker has nothing left to do
      std::lock_guard lk(mu);
      ++done;
    }
  }
  std::unique_lock lk(mu);
  cv.wait(lk, [&] { return done == workers_.size(); });
}

Result<std::unique_ptr<DnsServer>> DnsService::bind_everywhere(const config::HostPort& address,
                                                               const DnsServerOptions& options) {
  auto a = net::resolve_numeric(address.host, address.port);
  if (!a) return Error{"dns_listen " + address.str() + ": " + a.error().message};
  auto server = std::make_unique<DnsServer>(
      [&current = current_] {
        std::shared_ptr<const GeoState> state = current.get();
        return DnsZone{state->zone, state->core};
      },
      options);
  std::mutex mu;
  std::string failure;
  on_every_worker([&](net::Worker& w) {
    if (auto r = server->listen(w, a.value()); !r) {
      std::lock_guard lk(mu);
      failure = "dns_listen " + address.str() + ": " + r.error().message;
    }
  });
  if (!failure.empty()) {
    close_everywhere(*server);
    return Error{failure};
  }
  return server;
}

void DnsService::close_everywhere(DnsServer& server) {
  on_every_worker([&server](net::Worker& w) { server.close(w); });
}

bool DnsService::listening_on(const config::HostPort& address) const {
  return std::any_of(listening_.begin(), listening_.end(),
                     [&](const Listening& l) { return l.address == address; });
}

Result<void> DnsService::prepare(const GeoConfig& next) {
  abandon();  // a previous prepare() that was neither committed nor abandoned
  for (const auto& hp : next.dns_listen) {
    if (listening_on(hp)) continue;
    auto server = bind_everywhere(hp, next.dns);
    if (!server) {
      abandon();
      return server.error();
    }
    prepared_.push_back({hp, std::move(server.value())});
  }
  return {};
}

void DnsService::commit(const GeoConfig& next) {
  for (auto& p : prepared_) {
    obs::log(obs::Level::Info, "dns listening", {{"address", p.address.str()}});
    listening_.push_back(std::move(p));
  }
  prepared_.clear();
  auto listed = [&](const config::HostPort& a) {
    return std::find(next.dns_listen.begin(), next.dns_listen.end(), a) != next.dns_listen.end();
  };
  for (auto it = listening_.begin(); it != listening_.end();) {
    if (listed(it->address)) {
      it->server->set_options(next.dns);
      ++it;
      continue;
    }
    obs::log(obs::Level::Info, "dns stopped listening", {{"address", it->address.str()}});
    close_everywhere(*it->server);
    it = listening_.erase(it);
  }
}

void DnsService::abandon() {
  for (auto& p : prepared_) close_everywhere(*p.server);
  prepared_.clear();
}

void DnsService::stop() {
  if (!running_) return;
  running_ = false;
  abandon();
  for (auto& l : listening_) close_everywhere(*l.server);
  listening_.clear();
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
}

}  // namespace cdn::geo
