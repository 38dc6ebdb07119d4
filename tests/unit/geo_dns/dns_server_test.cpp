// DnsServer as cdn-geo wires it: several workers listening on one address (SO_REUSEPORT, port 0
// chosen once), answers over UDP and TCP from the zone the getter returns at that moment, and
// close() from each worker's loop thread.
#include "geo/dns/dns_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <future>
#include <memory>
#include <mutex>

#include "tests/unit/geo_dns/dns_wire.h"
#include "tests/unit/geo_dns/fake_steering.h"

namespace cdn::geo {
namespace {

using testing::Answer;
using testing::build_query;

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

std::string udp_ask(uint16_t port, const std::string& q) {
  // Connected, so a port nobody listens on reports ECONNREFUSED at once instead of a timeout.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to = loopback(port);
  ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
  ::send(fd, q.data(), q.size(), 0);
  pollfd p{fd, POLLIN, 0};
  std::string out;
  if (::poll(&p, 1, 5000) == 1) {
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) out.assign(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// Polls until nothing listens on the UDP port any more (the kernel refuses the datagram); libuv
// closes a socket on the loop iteration after uv_close.
bool udp_port_closed(uint16_t port) {
  std::string q = build_query({});
  for (int i = 0; i < 100; ++i) {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to = loopback(port);
    ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
    ::send(fd, q.data(), q.size(), 0);
    pollfd p{fd, POLLIN, 0};
    bool refused = false;
    if (::poll(&p, 1, 50) == 1) {
      char buf[512];
      refused = ::recv(fd, buf, sizeof buf, 0) < 0 && errno == ECONNREFUSED;
    }
    ::close(fd);
    if (refused) return true;
  }
  return false;
}

bool read_exact(int fd, char* buf, size_t n) {
  for (size_t got = 0; got < n;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return false;
    ssize_t r = ::recv(fd, buf + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

std::string tcp_ask(uint16_t port, const std::string& q) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to = loopback(port);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
    std::string framed = {static_cast<char>(q.size() >> 8), static_cast<char>(q.size() & 0xff)};
    framed += q;
    ::send(fd, framed.data(), framed.size(), 0);
    char len[2];
    if (read_exact(fd, len, 2)) {
      out.resize((static_cast<uint8_t>(len[0]) << 8) | static_cast<uint8_t>(len[1]));
      if (!read_exact(fd, out.data(), out.size())) out.clear();
    }
  }
  ::close(fd);
  return out;
}

class DnsServerTest : public ::testing::Test {
 protected:
  DnsServerTest() {
    auto s = std::make_shared<testing::FakeSteering>();
    testing::fill_test_steering(*s);
    current_ = {std::make_shared<const ZoneConfig>(testing::test_zone()), s};
  }
  ~DnsServerTest() override {
    for (auto& w : workers_) {
      w->stop();
      w->join();
    }
  }

  DnsZone current() {
    std::lock_guard lock(mu_);
    return current_;
  }
  void swap_zone(ZoneConfig z) {
    std::lock_guard lock(mu_);
    current_.zone = std::make_shared<const ZoneConfig>(std::move(z));
  }
  // Runs fn on the worker's loop thread and waits for it.
  template <typename F>
  auto on_loop(net::Worker& w, F fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto done = task.get_future();
    w.post([&task] { task(); });
    return done.get();
  }
  void start_workers(int n) {
    for (int i = 0; i < n; ++i) {
      workers_.push_back(std::make_unique<net::Worker>(i));
      workers_.back()->start(nullptr);
    }
  }

  std::mutex mu_;
  DnsZone current_;
  std::vector<std::unique_ptr<net::Worker>> workers_;
};

TEST_F(DnsServerTest, TwoWorkersShareOnePortAndAnswerUdpAndTcp) {
  start_workers(2);
  DnsServer server([this] { return current(); }, DnsServerOptions{});
  auto any = net::resolve_numeric("127.0.0.1", 0);
  ASSERT_TRUE(any.ok());
  for (auto& w : workers_) {
    auto r = on_loop(*w, [&] { return server.listen(*w, *any); });
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  ASSERT_NE(server.port(), 0);
  for (int i = 0; i < 20; ++i) {  // whichever worker the kernel picks answers the same
    Answer a(udp_ask(server.port(), build_query({.id = static_cast<uint16_t>(i)})));
    ASSERT_TRUE(a.ok);
    EXPECT_EQ(a.id(), i);
    EXPECT_EQ(a.addresses(KNOT_RRTYPE_A).size(), 2u);
  }
  Answer t(tcp_ask(server.port(), build_query({.name = "cdn.example", .qtype = KNOT_RRTYPE_NS})));
  ASSERT_TRUE(t.ok);
  EXPECT_EQ(t.count(KNOT_ANSWER, KNOT_RRTYPE_NS), 2u);
  for (auto& w : workers_)
    on_loop(*w, [&] {
      server.close(*w);
      return 0;
    });
  EXPECT_TRUE(udp_port_closed(server.port()));
}

// A burst larger than one send batch: every query is read and answered (batches of up to 16 leave
// with one sendmmsg), each answer to its own query, none lost, none sent twice.
TEST_F(DnsServerTest, ABurstOfUdpQueriesGetsEveryAnswerOnce) {
  start_workers(1);
  DnsServer server([this] { return current(); }, DnsServerOptions{});
  auto any = net::resolve_numeric("127.0.0.1", 0);
  ASSERT_TRUE(any.ok());
  auto r = on_loop(*workers_[0], [&] { return server.listen(*workers_[0], *any); });
  ASSERT_TRUE(r.ok()) << r.error().message;
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to = loopback(server.port());
  ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
  constexpr int kQueries = 100;
  for (int i = 0; i < kQueries; ++i) {
    std::string q = build_query({.id = static_cast<uint16_t>(1000 + i)});
    ASSERT_EQ(::send(fd, q.data(), q.size(), 0), static_cast<ssize_t>(q.size()));
  }
  std::vector<int> seen(kQueries, 0);
  int answers = 0;
  pollfd p{fd, POLLIN, 0};
  while (answers < kQueries && ::poll(&p, 1, 5000) == 1) {
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    Answer a(std::string(buf, static_cast<size_t>(n)));
    ASSERT_TRUE(a.ok);
    ASSERT_GE(a.id(), 1000);
    ASSERT_LT(a.id(), 1000 + kQueries);
    EXPECT_EQ(a.addresses(KNOT_RRTYPE_A).size(), 2u);
    ++seen[a.id() - 1000];
    ++answers;
  }
  ::close(fd);
  EXPECT_EQ(answers, kQueries);
  for (int i = 0; i < kQueries; ++i) EXPECT_EQ(seen[i], 1) << "query id " << 1000 + i;
  on_loop(*workers_[0], [&] {
    server.close(*workers_[0]);
    return 0;
  });
}

TEST_F(DnsServerTest, AZoneSwappedByTheGetterIsUsedByTheNextQuery) {
  start_workers(1);
  DnsServer server([this] { return current(); }, DnsServerOptions{});
  auto any = net::resolve_numeric("127.0.0.1", 0);
  ASSERT_TRUE(on_loop(*workers_[0], [&] { return server.listen(*workers_[0], *any); }).ok());
  EXPECT_EQ(Answer(udp_ask(server.port(), build_query({.name = "edge-c.cdn.example"}))).rcode(),
            KNOT_RCODE_NXDOMAIN);
  ZoneConfig z = testing::test_zone();
  z.edge_names.push_back({"edge-c.cdn.example", {"127.0.0.13"}, {}});
  swap_zone(z);
  Answer a(udp_ask(server.port(), build_query({.name = "edge-c.cdn.example"})));
  EXPECT_EQ(a.addresses(KNOT_RRTYPE_A), (std::vector<std::string>{"127.0.0.13"}));
  on_loop(*workers_[0], [&] {
    server.close(*workers_[0]);
    return 0;
  });
}

TEST_F(DnsServerTest, CloseFromAnotherThreadIsDoneOnTheLoop) {
  start_workers(1);
  DnsServer server([this] { return current(); }, DnsServerOptions{});
  auto any = net::resolve_numeric("127.0.0.1", 0);
  ASSERT_TRUE(on_loop(*workers_[0], [&] { return server.listen(*workers_[0], *any); }).ok());
  ASSERT_FALSE(udp_ask(server.port(), build_query({})).empty());
  server.close(*workers_[0]);  // from the test thread
  EXPECT_TRUE(udp_port_closed(server.port()));
}

}  // namespace
}  // namespace cdn::geo
