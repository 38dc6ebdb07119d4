// The DNS side's metrics move with the answers answer_query() gives.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>

#include "common/obs/metrics.h"
#include "geo/dns/dns_server.h"
#include "tests/unit/geo_dns/dns_wire.h"
#include "tests/unit/geo_dns/fake_steering.h"

namespace cdn::geo {
namespace {

using testing::build_query;

uint64_t queries(const char* qtype, const char* rcode) {
  return obs::metrics()
      .counter("cdn_dns_queries_total", "", {{"qtype", qtype}, {"rcode", rcode}})
      .value();
}

uint64_t truncated() {
  return obs::metrics().counter("cdn_dns_truncated_total", "").value();
}

class DnsMetrics : public ::testing::Test {
 protected:
  DnsMetrics() { testing::fill_test_steering(steering); }
  std::string ask(const std::string& q) {
    sockaddr_storage from{};
    from.ss_family = AF_INET;
    return answer_query(zone, steering, reinterpret_cast<const uint8_t*>(q.data()), q.size(), from,
                        false);
  }
  ZoneConfig zone = testing::test_zone();
  testing::FakeSteering steering;
};

TEST_F(DnsMetrics, QueriesByTypeAndRcode) {
  uint64_t a_ok = queries("A", "NOERROR"), aaaa_nx = queries("AAAA", "NXDOMAIN"),
           soa_refused = queries("SOA", "REFUSED"), other_ok = queries("other", "NOERROR");
  ask(build_query({}));
  ask(build_query({}));
  ask(build_query({.name = "nope.cdn.example", .qtype = KNOT_RRTYPE_AAAA}));
  ask(build_query({.name = "example.org", .qtype = KNOT_RRTYPE_SOA}));
  ask(build_query({.name = "cdn.example", .qtype = 65000}));  // an unlisted type is "other"
  EXPECT_EQ(queries("A", "NOERROR"), a_ok + 2);
  EXPECT_EQ(queries("AAAA", "NXDOMAIN"), aaaa_nx + 1);
  EXPECT_EQ(queries("SOA", "REFUSED"), soa_refused + 1);
  EXPECT_EQ(queries("other", "NOERROR"), other_ok + 1);
}

TEST_F(DnsMetrics, ErrorsAndDrops) {
  uint64_t formerr = queries("other", "FORMERR"), notimp = queries("other", "NOTIMP"),
           badvers = queries("A", "BADVERS"), dropped = queries("none", "dropped");
  std::string q = build_query({});
  ask(q.substr(0, q.size() - 2));
  std::string notify = q;
  knot_wire_set_opcode(reinterpret_cast<uint8_t*>(notify.data()), KNOT_OPCODE_NOTIFY);
  ask(notify);
  ask(build_query({.edns = true, .edns_version = 2}));
  ask(q.substr(0, 5));
  EXPECT_EQ(queries("other", "FORMERR"), formerr + 1);
  EXPECT_EQ(queries("other", "NOTIMP"), notimp + 1);
  EXPECT_EQ(queries("A", "BADVERS"), badvers + 1);
  EXPECT_EQ(queries("none", "dropped"), dropped + 1);
}

TEST_F(DnsMetrics, TruncatedAnswers) {
  for (int i = 0; i < 60; ++i)
    steering.v4["video.cdn.example"].push_back("198.51.100." + std::to_string(i));
  uint64_t before = truncated();
  ask(build_query({}));                               // 512 bytes: truncated
  ask(build_query({.edns = true, .payload = 4096}));  // 1232 (ours): fits
  EXPECT_EQ(truncated(), before + 1);
}

}  // namespace
}  // namespace cdn::geo
