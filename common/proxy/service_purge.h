#pragma once
// Purges in delivery-service terms: a purge URL's host picks the service (its key prefix), a
// purge by surrogate key reaches every service unless it is scoped to one (a service's own
// admin_token), and the purge runs on the core(s) whose fills it must stop.
#include <optional>
#include <string>
#include <string_view>

#include "common/proxy/purge_spec.h"
#include "common/util/result.h"

namespace cdn::proxy {

class ServiceRouter;

class ServicePurge {
 public:
  explicit ServicePurge(const ServiceRouter* router) : router_(router) {}

  // The spec in cache terms, limited to spec.service when set. The error is the reason for a
  // 400: purge-bad-url, purge-unknown-host, purge-unknown-service, purge-out-of-scope.
  Result<LocalPurge> local_of(const PurgeSpec& spec) const;
  // Runs it (blocks on the disk tier: off the event loops); returns the entries purged.
  size_t purge(const LocalPurge& p) const;
  // The name of the service whose admin_token this Authorization value carries; empty = none.
  std::string service_of_token(std::string_view authorization) const;

 private:
  const ServiceRouter* router_;
};

}  // namespace cdn::proxy
