#pragma once
// A deterministic Steering for tests: answers from a table of host -> addresses, reports as scope
// the ECS source prefix cut to /24 (IPv4) or /56 (IPv6) when an ECS option reached it, and
// records the last query it saw so tests can check what the DNS side passed on.
#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "geo/dns/steering.h"

namespace cdn::geo::testing {

class FakeSteering : public Steering {
 public:
  std::map<std::string, std::vector<std::string>> v4, v6;
  uint32_t ttl = 30;

  SteerAnswer steer(const SteerQuery& q) const override {
    std::lock_guard lock(mu_);
    last_ = q;
    calls_++;
    SteerAnswer a;
    a.ttl = ttl;
    const auto& table = q.family == AF_INET ? v4 : v6;
    if (auto it = table.find(q.host); it != table.end()) a.addresses = it->second;
    if (q.ecs)
      a.scope_prefix = std::min<uint8_t>(q.ecs->source_prefix, q.ecs->family == AF_INET ? 24 : 56);
    return a;
  }
  SteerQuery last() const {
    std::lock_guard lock(mu_);
    return last_;
  }
  int calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  mutable SteerQuery last_;
  mutable int calls_ = 0;
};

// The zone the unit tests, the fuzz target and the test server serve.
inline ZoneConfig test_zone() {
  ZoneConfig z;
  z.zone = "cdn.example";
  z.ns_names = {"ns1.cdn.example", "ns2.cdn.example"};
  z.ns_glue = {{"ns1.cdn.example", "192.0.2.53"},
               {"ns1.cdn.example", "2001:db8::53"},
               {"ns2.cdn.example", "198.51.100.53"}};
  z.delivery_hosts = {"video.cdn.example", "noecs.cdn.example", "deep.eu.cdn.example"};
  z.delivery_use_ecs = {true, false, true};
  z.edge_names = {{"edge-a.cdn.example", {"127.0.0.11"}, {"::1"}},
                  {"edge-b.cdn.example", {"127.0.0.12"}, {}}};
  return z;
}

// The delivery hosts' answers that go with test_zone().
inline void fill_test_steering(FakeSteering& s) {
  s.v4["video.cdn.example"] = {"127.0.0.11", "127.0.0.12"};
  s.v6["video.cdn.example"] = {"2001:db8::11"};
  s.v4["noecs.cdn.example"] = {"127.0.0.12"};
  s.v4["deep.eu.cdn.example"] = {"127.0.0.11"};
}

}  // namespace cdn::geo::testing
