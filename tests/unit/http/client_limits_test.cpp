#include "common/http/client_limits.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace cdn::http {
namespace {

ClientKey key(const std::string& ip, ClientPrefixes p = {}) {
  auto k = client_key(ip, p);
  EXPECT_TRUE(k.has_value()) << ip;
  return k.value_or(ClientKey{});
}

TEST(ClientKey, Ipv4UsesTheFullAddressByDefault) {
  EXPECT_EQ(key("10.0.0.1").family, AF_INET);
  EXPECT_NE(key("10.0.0.1"), key("10.0.0.2"));
  EXPECT_EQ(key("10.0.0.1"), key("10.0.0.1"));
}

TEST(ClientKey, Ipv6IsGroupedBySlash64) {
  EXPECT_EQ(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
  EXPECT_NE(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
  EXPECT_EQ(key("2001:db8:1:2::1").family, AF_INET6);
}

TEST(ClientKey, PrefixesAreConfigurableAtAnyBit) {
  ClientPrefixes p{24, 56};
  EXPECT_EQ(key("10.1.2.3", p), key("10.1.2.200", p));
  EXPECT_NE(key("10.1.2.3", p), key("10.1.3.3", p));
  EXPECT_EQ(key("2001:db8:0:1200::1", p), key("2001:db8:0:12ff::1", p));
  EXPECT_NE(key("2001:db8:0:1200::1", p), key("2001:db8:0:1300::1", p));
  ClientPrefixes odd{30, 61};
  EXPECT_EQ(key("10.0.0.4", odd), key("10.0.0.7", odd));
  EXPECT_NE(key("10.0.0.4", odd), key("10.0.0.8", odd));
  EXPECT_EQ(key("2001:db8:0:8::", odd), key("2001:db8:0:f::", odd));
  EXPECT_NE(key("2001:db8:0:8::", odd), key("2001:db8:0:10::", odd));
}

TEST(ClientKey, V4MappedV6IsTheIpv4Client) {
  EXPECT_EQ(key("::ffff:10.0.0.1"), key("10.0.0.1"));
  // Not one /64 for every IPv4 client of a dual-stack listener.
  EXPECT_NE(key("::ffff:10.0.0.1"), key("::ffff:10.0.0.2"));
}

TEST(ClientKey, FromSockaddrMatchesFromText) {
  sockaddr_storage ss{};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  v6->sin6_family = AF_INET6;
  inet_pton(AF_INET6, "2001:db8:1:2::99", &v6->sin6_addr);
  EXPECT_EQ(client_key(ss, {}), key("2001:db8:1:2::1"));
  sockaddr_storage s4{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&s4);
  v4->sin_family = AF_INET;
  inet_pton(AF_INET, "192.0.2.7", &v4->sin_addr);
  EXPECT_EQ(client_key(s4, {}), key("192.0.2.7"));
  sockaddr_storage unix_peer{};
  unix_peer.ss_family = AF_UNIX;
  EXPECT_FALSE(client_key(unix_peer, {}).has_value());
  EXPECT_FALSE(client_key("not-an-ip", {}).has_value());
  EXPECT_FALSE(client_key("", {}).has_value());
}

TEST(ClientConnectionCounter, RefusesOverTheLimitAndFreesOnRelease) {
  ClientConnectionCounter c(3);
  auto a = key("10.0.0.1"), b = key("10.0.0.2");
  EXPECT_TRUE(c.acquire(a));
  EXPECT_TRUE(c.acquire(a));
  EXPECT_TRUE(c.acquire(a));
  EXPECT_FALSE(c.acquire(a));
  EXPECT_EQ(c.count(a), 3u);
  EXPECT_TRUE(c.acquire(b));  // another client is unaffected
  c.release(a);
  EXPECT_TRUE(c.acquire(a));
  EXPECT_FALSE(c.acquire(a));
}

TEST(ClientConnectionCounter, EntriesDisappearAtZero) {
  ClientConnectionCounter c(2);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(c.acquire(key("10.0.1." + std::to_string(i))));
  EXPECT_EQ(c.tracked_clients(), 100u);
  for (int i = 0; i < 100; ++i) c.release(key("10.0.1." + std::to_string(i)));
  EXPECT_EQ(c.tracked_clients(), 0u);
  c.release(key("10.0.1.1"));  // an unknown release is harmless
  EXPECT_EQ(c.count(key("10.0.1.1")), 0u);
}

TEST(ClientConnectionCounter, CountsAcrossThreads) {
  ClientConnectionCounter c(1000);
  auto a = key("10.0.0.9");
  std::vector<std::thread> ts;
  std::atomic<int> granted{0};
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 400; ++i)
        if (c.acquire(a)) granted++;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(granted.load(), 1000);
  EXPECT_EQ(c.count(a), 1000u);
}

TEST(ClientRateLimiter, BurstThenRefillAtTheRate) {
  ClientRateLimiter r(10, 5, 1000);  // 10/s, burst 5
  auto a = key("10.0.0.1");
  int64_t t = 1'000'000;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.allow(a, t), RateDecision::Allowed) << i;
  EXPECT_EQ(r.allow(a, t), RateDecision::OverRate);
  EXPECT_EQ(r.allow(a, t + 99), RateDecision::OverRate);  // 0.99 token
  EXPECT_EQ(r.allow(a, t + 100), RateDecision::Allowed);  // one token per 100 ms
  EXPECT_EQ(r.allow(a, t + 100), RateDecision::OverRate);
  // A long pause refills to the burst, not beyond.
  int64_t later = t + 60'000;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.allow(a, later), RateDecision::Allowed) << i;
  EXPECT_EQ(r.allow(a, later), RateDecision::OverRate);
  EXPECT_EQ(r.allow(key("10.0.0.2"), later), RateDecision::Allowed);  // per client
}

TEST(ClientRateLimiter, DefaultBurstIsTwiceTheRate) {
  ClientRateLimiter r(3, 0, 1000);
  auto a = key("10.0.0.1");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(r.allow(a, 5000), RateDecision::Allowed) << i;
  EXPECT_EQ(r.allow(a, 5000), RateDecision::OverRate);
}

TEST(ClientRateLimiter, Ipv6NeighboursShareOneBucket) {
  ClientRateLimiter r(1, 2, 1000);
  EXPECT_EQ(r.allow(key("2001:db8:1:2::1"), 0), RateDecision::Allowed);
  EXPECT_EQ(r.allow(key("2001:db8:1:2::2"), 0), RateDecision::Allowed);
  EXPECT_EQ(r.allow(key("2001:db8:1:2::3"), 0), RateDecision::OverRate);
  EXPECT_EQ(r.allow(key("2001:db8:1:3::1"), 0), RateDecision::Allowed);
}

TEST(ClientRateLimiter, FullTableRefusesNewClientsUntilBucketsGoIdle) {
  const size_t cap = 4 * kClientLimitShards;  // 4 per shard
  ClientRateLimiter r(10, 10, cap);           // a bucket refills completely in 1 s
  int64_t t = 10'000;
  size_t allowed = 0, full = 0;
  for (int i = 0; i < 4000; ++i) {
    auto d = r.allow(key("10." + std::to_string(i / 65536) + "." + std::to_string((i / 256) % 256) +
                         "." + std::to_string(i % 256)),
                     t);
    if (d == RateDecision::Allowed) allowed++;
    if (d == RateDecision::TableFull) full++;
  }
  EXPECT_EQ(allowed, cap);  // every shard filled to its share, then refused
  EXPECT_EQ(full, 4000 - cap);
  EXPECT_EQ(r.tracked_clients(), cap);
  // Still active a moment later: still refused, no growth.
  EXPECT_EQ(r.allow(key("172.16.0.1"), t + 500), RateDecision::TableFull);
  EXPECT_EQ(r.tracked_clients(), cap);
  // Once the buckets have had time to refill they are evictable and new clients get in.
  EXPECT_EQ(r.allow(key("172.16.0.1"), t + 1000), RateDecision::Allowed);
  EXPECT_LE(r.tracked_clients(), cap);
}

TEST(ClientRateLimiter, IdleBucketsAreSweptPeriodically) {
  ClientRateLimiter r(10, 10, 100000);
  for (int i = 0; i < 200; ++i) r.allow(key("10.0.2." + std::to_string(i)), 1000);
  EXPECT_EQ(r.tracked_clients(), 200u);
  // After the sweep interval every shard that sees a request drops its idle buckets.
  // 2000 new clients reach every shard (the chance that one of 64 shards sees none is ~1e-11).
  for (int i = 0; i < 2000; ++i)
    r.allow(key("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256)), 120'000);
  EXPECT_EQ(r.tracked_clients(), 2000u);
}

}  // namespace
}  // namespace cdn::http
