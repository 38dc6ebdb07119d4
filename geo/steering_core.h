#pragma once
// The steering decision shared by DNS answers, HTTP redirects and GET /steer: locate the viewer,
// choose edges from the latest health snapshot, count it. Lock-free on the answer path: the config
// is immutable, the locator's files and the health snapshot are swapped atomically.
#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/obs/metrics.h"
#include "geo/chooser.h"
#include "geo/dns/steering.h"
#include "geo/edge_health.h"
#include "geo/geo_config.h"
#include "geo/locator.h"

namespace cdn::geo {

// Whose address located the viewer.
enum class AddressSource { Ecs, Resolver, Viewer };
const char* to_string(AddressSource s);

struct Decision {
  IpAddr addr;
  AddressSource source = AddressSource::Viewer;
  Location location;
  std::string_view key_kind;  // "client-prefix" (DNS) or "path" (HTTP)
  Choice choice;
};

class SteeringCore : public Steering {
 public:
  SteeringCore(std::shared_ptr<const GeoConfig> cfg, std::shared_ptr<const LocatorData> data);

  SteerAnswer steer(const SteerQuery& q) const override;
  // A decision keyed by the content path (HTTP) when `path` is given, else by the address cut to
  // the scope (DNS). `count` records it in the metrics; `explain` gives each site passed over a
  // reason (strings: for GET /steer, not for answers).
  Decision decide(const IpAddr& addr, AddressSource src, std::string_view path, int family,
                  bool count, bool explain = true) const;
  // "https://<edge>.<zone>[:port]<target>" for the decision's first edge (empty when none).
  std::string redirect_url(const Decision& d, std::string_view target) const;
  std::string decision_json(const Decision& d) const;
  std::string state_json() const;

  void publish(std::shared_ptr<const HealthSnapshot> s) { health_.store(std::move(s)); }
  // Starts from the health a previous generation knew of the edges and origins that stay (same
  // name and admin address), so a reload does not forget which ones are up.
  void seed_health(const GeoConfig& old_cfg, const HealthSnapshot& old);
  std::shared_ptr<const HealthSnapshot> health() const { return health_.load(); }
  Locator& locator() { return locator_; }
  const GeoConfig& config() const { return *cfg_; }

 private:
  void count(const Decision& d) const;

  std::shared_ptr<const GeoConfig> cfg_;
  Locator locator_;
  std::atomic<std::shared_ptr<const HealthSnapshot>> health_;
  // [site or sites.size() for none][located by][address source]
  std::vector<std::array<std::array<obs::Counter*, 3>, 3>> decisions_;
  std::vector<obs::Counter*> spills_;  // by preferred site
  // Sites by distance from each site, for viewers located to a site (coverage zone, default):
  // the trigonometry is done once here, not per query.
  std::vector<std::vector<size_t>> order_from_site_;
  std::vector<UnitVector> site_vectors_;  // for viewers located by coordinates (MaxMind)
  // Every edge's addresses in wire form, [edge][0: IPv4, 1: IPv6]: DNS answers point into these.
  std::vector<std::array<std::vector<WireAddress>, 2>> edge_wire_;
};

}  // namespace cdn::geo
