#pragma once
// The servers a tier pulls from, their passive health, and the order to try them for a key:
// rendezvous hashing (edge → shields: each key has one home shield, so shields do not duplicate
// each other's cache) or primary/backup failover (shield → origins).
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/config/server_config.h"
#include "common/http/upstream_client.h"
#include "common/net/address.h"
#include "common/net/worker.h"

namespace cdn::proxy {

enum class SelectPolicy { Rendezvous, Failover };

struct UpstreamServerSpec {
  net::SockAddr addr;
  std::string name;  // host:port, for metrics and logs
  bool backup = false;
  http::UpstreamTls tls;  // no context = plain HTTP
};

// The servers of an `upstream:` section, resolved, with one TLS client context shared by its
// TLS servers (the CA and client certificate are loaded here, once, off the event loops).
Result<std::vector<UpstreamServerSpec>> upstream_servers(const config::UpstreamConfig& cfg);

class UpstreamSet {
 public:
  UpstreamSet(SelectPolicy policy, std::vector<UpstreamServerSpec> servers, uint32_t max_fails,
              int64_t fail_timeout_ms, http::UpstreamTimeouts timeouts, size_t workers);

  // Servers to try for this key, best first; servers marked down go last (still tried when every
  // server is down: a guess beats a certain failure).
  void order(std::string_view key_text, std::vector<size_t>& out) const;
  void report(size_t i, bool ok);
  bool is_up(size_t i) const;
  http::UpstreamPool& pool(net::Worker& w, size_t i);
  // Closes worker `w`'s pools (their connections are that loop's handles); on w's thread. A
  // replaced delivery service's set does this on every worker before it is destroyed.
  void drop_pools(net::Worker& w);
  // SIGHUP: re-reads the CA and client certificate files; new connections use them, open ones
  // finish under the old context. On an error the old context stays.
  Result<void> reload_tls(const config::UpstreamTlsConfig& cfg);
  const std::string& name(size_t i) const { return servers_[i]->spec.name; }
  size_t size() const { return servers_.size(); }

 private:
  struct Server {
    UpstreamServerSpec spec;
    uint64_t seed;
    std::atomic<uint32_t> fails{0};
    std::atomic<int64_t> down_until_ms{0};
  };
  SelectPolicy policy_;
  std::vector<std::unique_ptr<Server>> servers_;
  uint32_t max_fails_;
  int64_t fail_timeout_ms_;
  http::UpstreamTimeouts timeouts_;
  std::mutex pools_mu_;
  std::vector<std::vector<std::unique_ptr<http::UpstreamPool>>> pools_;  // [worker][server]
};

}  // namespace cdn::proxy
