// Fuzzes cdn-geo's whole DNS query path (bytes in -> answer out) over UDP and TCP sizes: no crash,
// and every answer is a response to the query's ID that libknot parses, within the size limit
// of its transport.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "geo/dns/dns_server.h"
#include "geo/dns/knot.h"
#include "tests/unit/geo_dns/fake_steering.h"

namespace {

struct Fixture {
  cdn::geo::ZoneConfig zone = cdn::geo::testing::test_zone();
  cdn::geo::testing::FakeSteering steering;
  sockaddr_storage resolver{};
  Fixture() {
    cdn::geo::testing::fill_test_steering(steering);
    for (int i = 0; i < 60; ++i)
      steering.v4["video.cdn.example"].push_back("198.51.100." + std::to_string(i));
    auto* in = reinterpret_cast<sockaddr_in*>(&resolver);
    in->sin_family = AF_INET;
    inet_pton(AF_INET, "203.0.113.9", &in->sin_addr);
  }
};

void check(const std::string& answer, const uint8_t* data, size_t size, size_t limit) {
  if (answer.empty()) return;
  if (answer.size() < KNOT_WIRE_HEADER_SIZE || answer.size() > limit) __builtin_trap();
  if (size < 2 || answer[0] != static_cast<char>(data[0]) ||
      answer[1] != static_cast<char>(data[1]))
    __builtin_trap();
  std::string copy = answer;
  knot_pkt_t* p = knot_pkt_new(reinterpret_cast<uint8_t*>(copy.data()),
                               static_cast<uint16_t>(copy.size()), nullptr);
  if (p == nullptr) __builtin_trap();
  if (knot_pkt_parse(p, 0) != KNOT_EOK) __builtin_trap();
  knot_pkt_free(p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture f;
  check(cdn::geo::answer_query(f.zone, f.steering, data, size, f.resolver, false, 1232), data, size,
        1232);
  check(cdn::geo::answer_query(f.zone, f.steering, data, size, f.resolver, true), data, size,
        65535);
  return 0;
}
