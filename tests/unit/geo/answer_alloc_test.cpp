// The DNS answer path allocates nothing per query once warm: bytes in -> bytes out through the
// real steering core (coverage zones, MaxMind, rendezvous) and libknot, for every kind of answer a
// steady load sees. Counted by replacing malloc/calloc/realloc in this test binary (every
// allocation of C++ and of the shared libraries, libknot and libmaxminddb included, goes through
// them); not under a sanitizer, whose allocator must not be bypassed.
#include <gtest/gtest.h>

#include <cstdlib>

#include "geo/dns/dns_server.h"
#include "geo/steering_core.h"
#include "geo_fixture.h"
#include "tests/unit/geo_dns/dns_wire.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CDN_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define CDN_SANITIZED 1
#endif
#endif

namespace {
thread_local int counting = 0;  // this thread is counting
thread_local long allocations = 0;
}  // namespace

#ifndef CDN_SANITIZED
extern "C" {
void* __libc_malloc(size_t n);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t n);

void* malloc(size_t n) __THROW {
  if (counting) ++allocations;
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) __THROW {
  if (counting) ++allocations;
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) __THROW {
  if (counting) ++allocations;
  return __libc_realloc(p, n);
}
}
#endif

namespace cdn::geo {
namespace {

using testing::build_query;
using testing::ecs_data;
using testing::QuerySpec;

// Allocations made by fn() on this thread.
template <typename Fn>
long allocations_in(Fn&& fn) {
  allocations = 0;
  counting = 1;
  fn();
  counting = 0;
  return allocations;
}

class AnswerAllocations : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef CDN_SANITIZED
    GTEST_SKIP() << "a sanitizer's allocator is not to be bypassed by a counting malloc";
#endif
    auto g = std::make_shared<GeoConfig>(test::two_sites());
    g->ns = {{"ns1.cdn.test", "192.0.2.53"}};
    g->delivery_hosts = {{"video.cdn.test", true}};
    auto cov = test::temp_dir() / "alloc-cov.txt";
    test::write_file(cov, "10.20.0.0/16 ams\n10.30.0.0/20 fra\n");
    g->coverage_zones = cov.string();
    g->maxmind = test::test_mmdb();
    g->records_per_answer = 2;
    auto d = load_locator_data(*g);
    ASSERT_TRUE(d.ok()) << d.error().message;
    core_ = std::make_unique<SteeringCore>(g, std::move(d.value()));
    auto h = std::make_shared<HealthSnapshot>(test::all_available(*g));
    h->edges[0].available = false;  // fra-1: fra's viewers also see a site's edges skipped
    core_->publish(h);
    zone_ = make_zone_config(*g);
  }

  // Answers `q` from `resolver` over UDP into `out`.
  void answer(const std::string& q, const char* resolver, std::string& out, bool tcp = false) {
    answer_query_into(zone_, *core_, reinterpret_cast<const uint8_t*>(q.data()), q.size(),
                      to_sockaddr(*parse_ip(resolver)), tcp, 1232, out);
  }

  std::unique_ptr<SteeringCore> core_;
  ZoneConfig zone_;
};

TEST_F(AnswerAllocations, TheCounterSeesAllocations) {  // else a zero below would prove nothing
  EXPECT_GE(allocations_in([] { std::string s(100, 'x'); }), 1);
  EXPECT_GE(allocations_in([] { free(malloc(10)); }), 1);
}

TEST_F(AnswerAllocations, NonePerQueryOnceWarm) {
  struct Case {
    const char* what;
    QuerySpec q;
    const char* resolver;
  };
  const std::vector<uint8_t> maxmind_subnet = {198, 51, 100};  // Frankfurt in the test database
  std::vector<Case> cases = {
      {"A, resolver in a coverage zone", {.name = "video.cdn.test"}, "10.20.1.1"},
      {"A, located by MaxMind", {.name = "video.cdn.test"}, "203.0.113.9"},
      {"A, default site", {.name = "video.cdn.test"}, "100.64.0.1"},
      {"A with ECS, MaxMind",
       {.name = "ViDeO.cdn.test", .edns = true, .ecs = ecs_data(1, 24, 0, maxmind_subnet)},
       "10.30.0.1"},
      {"AAAA", {.name = "video.cdn.test", .qtype = KNOT_RRTYPE_AAAA}, "10.20.1.1"},
      {"NXDOMAIN", {.name = "nope.cdn.test"}, "10.20.1.1"},
      {"SOA", {.name = "cdn.test", .qtype = KNOT_RRTYPE_SOA, .edns = true}, "10.20.1.1"},
      {"NS with glue", {.name = "cdn.test", .qtype = KNOT_RRTYPE_NS}, "10.20.1.1"},
      {"an edge's name", {.name = "ams-1.cdn.test"}, "10.20.1.1"},
      {"REFUSED", {.name = "example.org"}, "10.20.1.1"},
  };
  std::string out;
  for (auto& c : cases) {
    std::string q = build_query(c.q);
    for (int warm = 0; warm < 3; ++warm) answer(q, c.resolver, out);
    ASSERT_GT(out.size(), 12u) << c.what;
    EXPECT_EQ(allocations_in([&] {
                for (int i = 0; i < 100; ++i) answer(q, c.resolver, out);
              }),
              0)
        << c.what;
    EXPECT_EQ(allocations_in([&] { answer(q, c.resolver, out, true); }), 0) << c.what << " (TCP)";
  }
}

}  // namespace
}  // namespace cdn::geo
