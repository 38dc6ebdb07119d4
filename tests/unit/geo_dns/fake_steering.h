#pragma once
// A deterministic Steering for tests: answers from a table of host -> addresses, reports as scope
// the ECS source prefix cut to /24 (IPv4) or /56 (IPv6) when an ECS option reached it, and
// records the last query it saw so tests can check what the DNS side passed on. The textual
// tables are turned into the wire addresses an answer points to when they change.
#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "geo/dns/steering.h"

namespace cdn::geo::testing {

class FakeSteering : public Steering {
 public:
  std::map<std::string, std::vector<std::string>> v4, v6;
  uint32_t ttl = 30;

  // A SteerQuery with its own copy of the host name.
  struct Seen {
    std::string host;
    int family = 0;
    sockaddr_storage resolver{};
    std::optional<ClientSubnet> ecs;
  };

  SteerAnswer steer(const SteerQuery& q) const override {
    std::lock_guard lock(mu_);
    last_ = Seen{std::string(q.host), q.family, q.resolver, q.ecs};
    calls_++;
    SteerAnswer a;
    a.ttl = ttl;
    const auto& table = q.family == AF_INET ? v4 : v6;
    if (auto it = table.find(std::string(q.host)); it != table.end()) {
      Wire& w = wire_[{it->first, q.family}];
      if (w.text != it->second) {
        w.text = it->second;
        w.addresses = wire_addresses(w.text, q.family);
      }
      a.add(w.addresses);
    }
    if (q.ecs)
      a.scope_prefix = std::min<uint8_t>(q.ecs->source_prefix, q.ecs->family == AF_INET ? 24 : 56);
    return a;
  }
  Seen last() const {
    std::lock_guard lock(mu_);
    return last_;
  }
  int calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  struct Wire {
    std::vector<std::string> text;
    std::vector<WireAddress> addresses;
  };
  mutable std::mutex mu_;
  mutable std::map<std::pair<std::string, int>, Wire> wire_;  // nodes stay put: answers point in
  mutable Seen last_;
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
