#pragma once
// Listeners on every worker loop (SO_REUSEPORT) feeding ServerConnections; tracks connections
// per worker for /healthz and for the SIGTERM drain.
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "common/http/client_limits.h"
#include "common/http/server_connection.h"
#include "common/net/address.h"
#include "common/net/listener.h"
#include "common/net/tls_context.h"
#include "common/util/result.h"

namespace cdn::http {

struct ListenSpec {
  net::SockAddr addr;
  bool tls = false;
};

class HttpServer {
 public:
  HttpServer(ServerOptions opts, RequestHandler* handler, ConnectionHooks hooks,
             net::TlsContextHolder* tls, size_t max_connections,
             ClientLimitsOptions client_limits = {});
  // Call on the worker's loop thread, once per listen address.
  Result<void> listen(net::Worker& w, const ListenSpec& spec);
  // Call on the worker's loop thread: stop accepting, close idle connections, finish busy ones.
  void drain(net::Worker& w);
  // Close everything on this worker now.
  void close_all(net::Worker& w);
  size_t active_connections() const { return active_.load(std::memory_order_relaxed); }
  bool draining() const { return draining_.load(); }
  void set_draining() { draining_ = true; }
  const ServerOptions& options() const { return opts_; }

 private:
  struct PerWorker {
    std::vector<std::unique_ptr<net::Listener>> listeners;
    std::unique_ptr<ConnectionContext> ctx;  // this worker's open connections
  };
  PerWorker& slot(net::Worker& w);
  void accept(net::Worker& w, uv_tcp_t* tcp, bool tls);
  // Refuses a connection over its client's share before any TLS or HTTP work is spent on it.
  void refuse_client(uv_tcp_t* tcp, bool tls);
  std::string_view admit_request(const std::string& client_ip);

  ServerOptions opts_;
  RequestHandler* handler_;
  ConnectionHooks hooks_;
  net::TlsContextHolder* tls_;
  size_t max_connections_;
  std::atomic<size_t> active_{0};
  std::atomic<bool> draining_{false};
  ClientPrefixes client_prefixes_;
  std::unique_ptr<ClientConnectionCounter> client_connections_;  // null = no per-client limit
  std::unique_ptr<ClientRateLimiter> client_rates_;              // null = no per-client rate
  std::mutex slots_mu_;
  std::vector<std::unique_ptr<PerWorker>> slots_;
};

}  // namespace cdn::http
