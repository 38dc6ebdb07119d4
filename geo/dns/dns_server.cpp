#include "geo/dns/dns_server.h"

#include <netinet/in.h>

#include <unordered_map>

#include "common/net/listener.h"
#include "geo/dns/dns_metrics.h"
#include "geo/dns/tcp_session.h"
#include "geo/dns/udp_endpoint.h"

namespace cdn::geo {
namespace dns {
namespace {

uint16_t port_of(const net::SockAddr& a) {
  if (a.storage.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_port);
}

void set_port(net::SockAddr& a, uint16_t port) {
  if (a.storage.ss_family == AF_INET)
    reinterpret_cast<sockaddr_in*>(&a.storage)->sin_port = htons(port);
  if (a.storage.ss_family == AF_INET6)
    reinterpret_cast<sockaddr_in6*>(&a.storage)->sin6_port = htons(port);
}

}  // namespace

// One worker's share of the server: its UDP socket, TCP listener and TCP connections. Lives and
// is used on that worker's loop thread only.
class WorkerListeners {
 public:
  WorkerListeners(DnsServer& server, net::Worker& worker) : server_(server), worker_(worker) {}
  ~WorkerListeners() { close(); }

  Result<void> open(const net::SockAddr& addr) {
    Answerer answer = [this](const uint8_t* q, size_t len, const sockaddr_storage& from, bool tcp,
                             std::string& out) {
      DnsZone z = server_.source_();
      if (!z.zone || !z.steering) {
        out.clear();
        return;
      }
      answer_query_into(*z.zone, *z.steering, q, len, from, tcp,
                        server_.udp_max_payload_.load(std::memory_order_relaxed), out);
    };
    answer_ = answer;
    // Port 0: TCP takes the port the kernel gave UDP, which TCP may already use; try a few.
    const int attempts = port_of(addr) == 0 ? 20 : 1;
    for (int i = 1;; ++i) {
      auto udp = UdpEndpoint::open(worker_.loop(), addr, answer);
      if (!udp) return udp.error();
      net::SockAddr tcp_addr = addr;
      set_port(tcp_addr, (*udp)->bound_port());
      auto tcp = net::Listener::open(worker_.loop(), tcp_addr, [this](uv_tcp_t* c) { accept(c); });
      if (!tcp) {
        (*udp)->close();
        if (i < attempts) continue;
        return tcp.error();
      }
      udp_ = std::move(udp.value());
      tcp_ = std::move(tcp.value());
      return {};
    }
  }

  uint16_t port() const { return udp_ ? udp_->bound_port() : 0; }

  void close() {
    if (udp_) udp_->close();
    if (tcp_) tcp_->close();
    auto sessions = std::move(sessions_);
    server_.tcp_connections_ -= sessions.size();
    sessions.clear();  // destructors close the sockets
  }

 private:
  void accept(uv_tcp_t* c) {
    if (server_.tcp_connections_.fetch_add(1) >= server_.max_tcp_connections_.load()) {
      server_.tcp_connections_--;
      count_tcp_refused();
      uv_close(reinterpret_cast<uv_handle_t*>(c),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
      return;
    }
    auto s = std::make_unique<TcpSession>(worker_.loop(), c, answer_, server_.tcp_idle_ms_.load(),
                                          [this](TcpSession* done) {
                                            if (sessions_.erase(done) > 0)
                                              server_.tcp_connections_--;
                                          });
    TcpSession* raw = s.get();
    sessions_.emplace(raw, std::move(s));
    raw->start();
  }

  DnsServer& server_;
  net::Worker& worker_;
  Answerer answer_;
  std::unique_ptr<UdpEndpoint> udp_;
  std::unique_ptr<net::Listener> tcp_;
  std::unordered_map<TcpSession*, std::unique_ptr<TcpSession>> sessions_;
};

}  // namespace dns

DnsServer::DnsServer(DnsZoneSource source, DnsServerOptions options)
    : source_(std::move(source)),
      max_tcp_connections_(options.max_tcp_connections),
      tcp_idle_ms_(options.tcp_idle_ms),
      udp_max_payload_(options.udp_max_payload) {
  dns::register_dns_metrics();
}

void DnsServer::set_options(const DnsServerOptions& o) {
  max_tcp_connections_ = o.max_tcp_connections;
  tcp_idle_ms_ = o.tcp_idle_ms;
  udp_max_payload_ = o.udp_max_payload;
}

DnsServerOptions DnsServer::options() const {
  return {max_tcp_connections_.load(), tcp_idle_ms_.load(), udp_max_payload_.load()};
}

DnsServer::~DnsServer() = default;

Result<void> DnsServer::listen(net::Worker& worker, const net::SockAddr& addr) {
  std::lock_guard bind_lock(bind_mu_);
  net::SockAddr a = addr;
  if (dns::port_of(a) == 0 && port_.load() != 0) dns::set_port(a, port_.load());
  auto w = std::make_unique<dns::WorkerListeners>(*this, worker);
  if (auto r = w->open(a); !r) return r;
  port_ = w->port();
  std::lock_guard lock(mu_);
  size_t i = static_cast<size_t>(worker.index());
  if (workers_.size() <= i) workers_.resize(i + 1);
  workers_[i] = std::move(w);
  return {};
}

void DnsServer::close(net::Worker& worker) {
  std::shared_ptr<dns::WorkerListeners> w;
  {
    std::lock_guard lock(mu_);
    size_t i = static_cast<size_t>(worker.index());
    if (i < workers_.size()) w = std::move(workers_[i]);
  }
  if (!w || worker.on_this_thread()) return;  // destroyed here, on the loop thread
  // From another thread: the handles belong to the loop, so they are closed there. A worker
  // that no longer runs its loop closes them itself (Worker's destructor).
  worker.post([w] {});
}

}  // namespace cdn::geo
