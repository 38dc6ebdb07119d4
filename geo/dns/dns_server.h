#pragma once
// cdn-geo's authoritative DNS server: answer_query() turns one query into one answer through
// libknot (no hand-written packet parser), DnsServer carries queries to it over UDP and TCP on the
// workers' libuv loops.
#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/net/address.h"
#include "common/net/worker.h"
#include "common/util/result.h"
#include "geo/dns/dns_options.h"
#include "geo/dns/steering.h"

namespace cdn::geo {

// Pure function, no I/O (the fuzz target calls it): query bytes in, answer bytes out (empty =
// drop). `from` is the query's source address (the resolver). Over TCP an answer may be up to 65535
// bytes; over UDP it fits the requester's EDNS payload size (512 without EDNS, capped by ours) or
// has TC.
std::string answer_query(const ZoneConfig& zone, const Steering& steering, const uint8_t* query,
                         size_t len, const sockaddr_storage& from, bool over_tcp,
                         uint16_t udp_max_payload = 1232);
// The same, written over `out` (its capacity reused: the transports' per-query path).
void answer_query_into(const ZoneConfig& zone, const Steering& steering, const uint8_t* query,
                       size_t len, const sockaddr_storage& from, bool over_tcp,
                       uint16_t udp_max_payload, std::string& out);

// What a query is answered from. Read once per query through the getter, so a SIGHUP can swap
// both while queries are answered (a query keeps the pair it started with alive).
struct DnsZone {
  std::shared_ptr<const ZoneConfig> zone;
  std::shared_ptr<const Steering> steering;
};
using DnsZoneSource = std::function<DnsZone()>;  // called on worker threads: must be thread-safe

namespace dns {
class WorkerListeners;
}

// UDP + TCP listeners on each worker's libuv loop, all bound to the same address with
// SO_REUSEPORT (like the HTTP listeners), answering with answer_query. UDP answers leave from
// whatever source address the kernel picks, so on a host with several addresses bind each one
// explicitly rather than 0.0.0.0 (resolvers drop answers from an address they did not ask).
class DnsServer {
 public:
  DnsServer(DnsZoneSource source, DnsServerOptions options);
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  // On the worker's loop thread. Port 0 picks a free port at the first call; later calls (other
  // workers) bind the same one, see port().
  Result<void> listen(net::Worker& worker, const net::SockAddr& addr);
  // On the worker's loop thread: closes its listeners and TCP connections.
  void close(net::Worker& worker);
  uint16_t port() const { return port_.load(); }
  size_t tcp_connections() const { return tcp_connections_.load(); }
  // From any thread (SIGHUP): the payload size applies from the next query, the TCP cap from the
  // next accept, the idle timeout to connections accepted from now on.
  void set_options(const DnsServerOptions& o);
  DnsServerOptions options() const;

 private:
  friend class dns::WorkerListeners;
  DnsZoneSource source_;
  std::atomic<size_t> max_tcp_connections_;
  std::atomic<int64_t> tcp_idle_ms_;
  std::atomic<uint16_t> udp_max_payload_;
  std::atomic<uint16_t> port_{0};
  std::atomic<size_t> tcp_connections_{0};
  std::mutex mu_;  // guards workers_ (listen/close run on different loop threads)
  std::vector<std::unique_ptr<dns::WorkerListeners>> workers_;  // indexed by worker index
  std::mutex bind_mu_;  // the first port-0 bind picks the port for the others
};

}  // namespace cdn::geo
