#pragma once
// Delivery services: what a request's Host selects before anything else. A ServiceTable is built
// whole from one configuration and never changes; a reload builds a new one (service_router.h).
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/proxy/phases.h"
#include "common/proxy/proxy_core.h"
#include "common/proxy/upstream_set.h"

namespace cdn::proxy {

// One service's pipeline: its phases, its upstreams and the proxy core over them (the caches,
// surrogate index and purge machinery are the process's, shared by every service).
struct Service {
  std::string name;         // "default" for the implicit service
  std::string label;        // its metric label value; empty = no label (the implicit service)
  std::string admin_token;  // scoped admin: purges this service only; empty = none
  std::vector<std::string> hosts;
  std::unique_ptr<Phases> phases;
  std::unique_ptr<UpstreamSet> upstreams;
  std::unique_ptr<ProxyCore> core;  // last: goes first, it points at the two above
};

class ServiceTable {
 public:
  // `fallback`: the name of the service of an unlisted Host (default_service, or the implicit
  // service); empty = none (421).
  ServiceTable(std::vector<std::unique_ptr<Service>> services, std::string_view fallback);

  // The service for a request's host (lowercased, without port, as http::Request::host is):
  // an exact name first, then the longest "*.suffix" wildcard, then the fallback; nullptr = none.
  // Allocates nothing.
  const Service* find(std::string_view host) const;
  const Service* by_name(std::string_view name) const;
  const std::vector<std::unique_ptr<Service>>& services() const { return services_; }
  // No service is named in config: the one implicit service serves every host.
  bool implicit() const { return services_.size() == 1 && services_[0]->label.empty(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using HostMap = std::unordered_map<std::string, const Service*, Hash, std::equal_to<>>;

  std::vector<std::unique_ptr<Service>> services_;
  HostMap exact_;
  HostMap wildcard_;  // keyed by the suffix with its dot: "*.example.com" → ".example.com"
  const Service* fallback_ = nullptr;
};

}  // namespace cdn::proxy
