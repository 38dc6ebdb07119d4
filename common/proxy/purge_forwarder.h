#pragma once
// Sends a purge to the upstream tier's admin listeners (an edge's shields) before the node purges
// itself, so the next miss here cannot refill the old copy from a shield that still holds it.
// All upstreams are asked at once; the answer comes when each has answered or timed out. An
// https:// upstream admin is dialled with the upstream client's TLS path and purge.admin_client.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/http/upstream_client.h"
#include "common/net/address.h"
#include "common/net/worker.h"
#include "common/proxy/purge_config.h"

namespace cdn::proxy {

// What one upstream said. status 0 = no HTTP answer (error says why); purged < 0 = not reported.
struct UpstreamPurgeResult {
  std::string address;
  int status = 0;
  int64_t purged = -1;
  std::string error;
  bool ok() const { return status == 200; }
};

class PurgeForwarder {
 public:
  struct Target {
    std::string name;  // "host:port", as configured
    net::SockAddr addr;
    http::UpstreamTls tls;  // no context: plain HTTP
  };
  // The forwarder `pc` asks for (null when it forwards nothing), on the admin loop `loop`.
  static Result<std::unique_ptr<PurgeForwarder>> create(net::Worker* loop, const PurgeConfig& pc,
                                                        std::string token);
  // `loop` is the loop every call runs on (the admin loop).
  PurgeForwarder(net::Worker* loop, std::vector<Target> targets, std::string token,
                 int64_t timeout_ms);
  ~PurgeForwarder();
  PurgeForwarder(const PurgeForwarder&) = delete;
  PurgeForwarder& operator=(const PurgeForwarder&) = delete;

  bool empty() const { return targets_.empty(); }
  // SIGHUP: reads purge.admin_client's files again; new connections to the https:// upstream
  // admins use them. A file that does not load keeps the old ones (the error says why).
  Result<void> reload_tls();
  // On the loop thread. `path_and_query` is the admin request to repeat ("/admin/purge?url=…");
  // done runs on the loop with one result per target, in configured order.
  void forward(const std::string& path_and_query,
               std::function<void(std::vector<UpstreamPurgeResult>)> done);

 private:
  class Call;
  struct Gather;
  http::UpstreamPool& pool(size_t i);

  net::Worker* loop_;
  std::vector<Target> targets_;
  std::string token_;
  http::UpstreamTimeouts timeouts_;
  config::ClientTlsConfig tls_files_;
  std::shared_ptr<net::TlsClientContextHolder> tls_;        // every https:// target's; null: none
  std::vector<std::unique_ptr<http::UpstreamPool>> pools_;  // created on the loop, by target
};

// JSON array of the results, for the purge answer: [{"address":…,"status":…,"purged":…},…].
std::string to_json(const std::vector<UpstreamPurgeResult>& results);

}  // namespace cdn::proxy
