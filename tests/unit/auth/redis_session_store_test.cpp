#include "common/auth/redis_session_store.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <thread>

extern char** environ;

namespace cdn::auth {
namespace {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// A real redis-server on a loopback port, owned by the test.
class RedisServer {
 public:
  explicit RedisServer(int port) : port_(port) { start(); }
  ~RedisServer() { stop(); }
  void start() {
    std::string p = std::to_string(port_);
    const char* argv[] = {"redis-server", "--port", p.c_str(), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--loglevel", "warning", nullptr};
    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid_, "redis-server", &quiet, nullptr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&quiet);
    ASSERT_EQ(rc, 0);
    for (int i = 0; i < 200 && !command("PING"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(command("PING")) << "redis-server did not start";
  }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  void signal(int sig) { kill(pid_, sig); }
  // Synchronous side channel for assertions and SCRIPT FLUSH.
  bool command(const char* cmd) {
    timeval tv{0, 200000};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
    bool ok = false;
    if (c && !c->err) {
      auto* r = static_cast<redisReply*>(redisCommand(c, cmd));
      ok = r && r->type != REDIS_REPLY_ERROR;
      if (r) freeReplyObject(r);
    }
    if (c) redisFree(c);
    return ok;
  }
  int port() const { return port_; }

 private:
  int port_;
  pid_t pid_ = -1;
};

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    redis_.emplace(free_port());
  }
  void TearDown() override {
    edges_.clear();
    uv_run(&loop_, UV_RUN_DEFAULT);  // let closed handles finish
    EXPECT_EQ(uv_loop_close(&loop_), 0);
    redis_.reset();
  }
  RedisSessionStore& edge(WhenRedisDown policy = WhenRedisDown::FailOpen,
                          SidElsewhere elsewhere = SidElsewhere::NewStream,
                          std::shared_ptr<RenewalCache> renewals = nullptr,
                          const std::function<void(RedisStoreOptions&)>& adjust = {}) {
    RedisStoreOptions o;
    o.port = redis_->port();
    o.key_prefix = "test:" + std::to_string(redis_->port()) + ":";
    o.rules = SessionRules{30000, 600000, elsewhere};
    o.renew_interval_ms = 5000;
    o.when_down = policy;
    o.reconnect_min_ms = 20;
    o.reconnect_max_ms = 100;
    o.command_timeout_ms = 300;
    o.clock = [this] { return clock_; };
    o.log = [this](std::string_view m) { logs_.emplace_back(m); };
    o.renewals = std::move(renewals);
    if (adjust) adjust(o);
    edges_.push_back(std::make_unique<RedisSessionStore>(&loop_, o));
    return *edges_.back();
  }
  // Runs the loop until `done` or a deadline.
  template <typename Pred>
  bool run_until(Pred done, int ms = 3000) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!done() && std::chrono::steady_clock::now() < end) uv_run(&loop_, UV_RUN_NOWAIT), std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return done();
  }
  bool wait_connected(RedisSessionStore& s) { return run_until([&] { return s.connected(); }); }
  // The shared sid "shared" from `place`, under climit 1.
  Admit at(RedisSessionStore& s, const std::string& place, int64_t now, bool block_new = false) {
    std::optional<Admit> out;
    s.admit({"viewer", "shared", place}, 1, block_new, now, [&](Admit a) { out = a; });
    EXPECT_TRUE(run_until([&] { return out.has_value(); })) << "no answer for " << place;
    return out.value_or(Admit::Unavailable);
  }
  Admit admit(RedisSessionStore& s, const std::string& sid, bool block_new, int64_t now) {
    std::optional<Admit> out;
    s.admit({"viewer", sid}, 3, block_new, now, [&](Admit a) { out = a; });
    EXPECT_TRUE(run_until([&] { return out.has_value(); })) << "no answer for " << sid;
    return out.value_or(Admit::Unavailable);
  }

  uv_loop_t loop_;
  std::optional<RedisServer> redis_;
  std::vector<std::unique_ptr<RedisSessionStore>> edges_;
  std::vector<std::string> logs_;
  int64_t clock_ = 0;
};

TEST_F(RedisStoreTest, EvictOldestAcrossTwoEdges) {
  auto& a = edge();
  auto& b = edge();
  ASSERT_TRUE(wait_connected(a) && wait_connected(b));
  EXPECT_EQ(admit(a, "s1", false, 1000), Admit::Allowed);
  EXPECT_EQ(admit(b, "s2", false, 2000), Admit::Allowed);
  EXPECT_EQ(admit(a, "s3", false, 3000), Admit::Allowed);
  // Admitting s3 dropped edge a's cached renewals of this viewer (it may have evicted one): s1 asks
  // Redis again.
  EXPECT_EQ(admit(a, "s1", false, 3500), Admit::Allowed);
  EXPECT_EQ(admit(b, "s4", false, 4000), Admit::Allowed);  // on the other edge: s1 evicted
  // Edge a renewed s1 recently, so it answers from memory until the renewal interval passes.
  EXPECT_EQ(admit(a, "s1", false, 5000), Admit::Allowed);
  EXPECT_EQ(admit(a, "s1", false, 8501), Admit::Evicted);
  EXPECT_EQ(admit(b, "s1", false, 8501), Admit::Evicted);
  // The evicted viewer restarts: new session, the next oldest (s2) goes.
  EXPECT_EQ(admit(b, "s1b", false, 9000), Admit::Allowed);
  EXPECT_EQ(admit(a, "s2", false, 10000), Admit::Evicted);
  EXPECT_EQ(admit(a, "s3", false, 11000), Admit::Allowed);

  std::vector<std::string> sids;
  clock_ = 11000;
  b.list("viewer", [&](std::vector<SessionInfo> v) {
    for (auto& s : v) sids.push_back(s.sid);
  });
  ASSERT_TRUE(run_until([&] { return !sids.empty(); }));
  std::sort(sids.begin(), sids.end());
  EXPECT_EQ(sids, (std::vector<std::string>{"s1b", "s3", "s4"}));
}

TEST_F(RedisStoreTest, BlockNewUntilALeaseExpires) {
  auto& a = edge();
  auto& b = edge();
  ASSERT_TRUE(wait_connected(a) && wait_connected(b));
  EXPECT_EQ(admit(a, "s1", true, 1000), Admit::Allowed);
  EXPECT_EQ(admit(a, "s2", true, 1000), Admit::Allowed);
  EXPECT_EQ(admit(b, "s3", true, 1000), Admit::Allowed);
  EXPECT_EQ(admit(b, "s4", true, 2000), Admit::LimitReached);
  for (int64_t t = 7000; t < 31000; t += 6000) {  // s2, s3 keep playing; s1 stopped
    EXPECT_EQ(admit(a, "s2", true, t), Admit::Allowed);
    EXPECT_EQ(admit(b, "s3", true, t), Admit::Allowed);
  }
  EXPECT_EQ(admit(b, "s4", true, 30000), Admit::LimitReached);
  EXPECT_EQ(admit(b, "s4", true, 31000), Admit::Allowed);  // s1's lease lapsed
  EXPECT_EQ(admit(a, "s5", true, 31000), Admit::LimitReached);
}

TEST_F(RedisStoreTest, KickIsSeenByEveryEdge) {
  auto& a = edge();
  auto& b = edge();
  ASSERT_TRUE(wait_connected(a) && wait_connected(b));
  EXPECT_EQ(admit(a, "s1", false, 1000), Admit::Allowed);
  std::optional<bool> kicked;
  b.kick({"viewer", "s1"}, [&](bool k) { kicked = k; });
  ASSERT_TRUE(run_until([&] { return kicked.has_value(); }));
  EXPECT_TRUE(*kicked);
  EXPECT_EQ(admit(b, "s1", false, 1500), Admit::Evicted);
  EXPECT_EQ(admit(a, "s1", false, 7000), Admit::Evicted);
}

TEST_F(RedisStoreTest, SharedSidFromAnotherPlaceIsAnotherStream) {
  auto& a = edge();
  auto& b = edge();
  ASSERT_TRUE(wait_connected(a) && wait_connected(b));
  EXPECT_EQ(at(a, "127.0.0.2/32", 1000), Admit::Allowed);
  EXPECT_EQ(at(b, "127.0.0.3/32", 2000), Admit::AllowedNewPlace);  // evicts the first place
  EXPECT_EQ(at(a, "127.0.0.2/32", 6001), Admit::Evicted);          // after a's renewal interval
  EXPECT_EQ(at(a, "127.0.0.3/32", 6001), Admit::Allowed);          // the same stream, on edge a
  EXPECT_EQ(at(a, "127.0.0.4/32", 7000, true), Admit::LimitReached);
  std::vector<SessionInfo> listed;
  clock_ = 7000;
  a.list("viewer", [&](std::vector<SessionInfo> v) { listed = std::move(v); });
  ASSERT_TRUE(run_until([&] { return !listed.empty(); }));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].sid, "shared");
  EXPECT_EQ(listed[0].place, "127.0.0.3/32");
}

TEST_F(RedisStoreTest, WorkerLoopsOfOneEdgeSeeAnEvictionAtOnce) {
  // Two stores sharing one renewal cache, as the worker loops of one edge do.
  auto shared = std::make_shared<RenewalCache>();
  auto& w1 = edge(WhenRedisDown::FailOpen, SidElsewhere::NewStream, shared);
  auto& w2 = edge(WhenRedisDown::FailOpen, SidElsewhere::NewStream, shared);
  ASSERT_TRUE(wait_connected(w1) && wait_connected(w2));
  EXPECT_EQ(at(w1, "127.0.0.2/32", 1000), Admit::Allowed);
  EXPECT_EQ(at(w2, "127.0.0.3/32", 1100), Admit::AllowedNewPlace);
  // Within w1's renewal interval, yet not answered from the cache: w2's admission forgot it.
  EXPECT_EQ(at(w1, "127.0.0.2/32", 1200), Admit::Evicted);
  EXPECT_EQ(at(w1, "127.0.0.3/32", 1200), Admit::Allowed);
}

TEST_F(RedisStoreTest, SharedSidFromAnotherPlaceIsRefused) {
  auto& a = edge(WhenRedisDown::FailOpen, SidElsewhere::Refuse);
  auto& b = edge(WhenRedisDown::FailOpen, SidElsewhere::Refuse);
  ASSERT_TRUE(wait_connected(a) && wait_connected(b));
  EXPECT_EQ(at(a, "127.0.0.2/32", 1000), Admit::Allowed);
  EXPECT_EQ(at(b, "127.0.0.3/32", 2000), Admit::InUseElsewhere);
  EXPECT_EQ(at(a, "127.0.0.3/32", 2000), Admit::InUseElsewhere);
  EXPECT_EQ(at(a, "127.0.0.2/32", 7000), Admit::Allowed);  // renewed in Redis: keeps playing
  EXPECT_EQ(at(b, "127.0.0.3/32", 7000 + 29999), Admit::InUseElsewhere);
  EXPECT_EQ(at(b, "127.0.0.3/32", 7000 + 30000), Admit::Allowed);  // the first place's lease lapsed
}

TEST_F(RedisStoreTest, KickEndsTheSidAtEveryPlace) {
  auto& a = edge();
  ASSERT_TRUE(wait_connected(a));
  std::optional<Admit> r;
  a.admit({"viewer", "shared", "p1"}, 0, false, 1000, [&](Admit x) { r = x; });
  ASSERT_TRUE(run_until([&] { return r.has_value(); }));
  EXPECT_EQ(at(a, "p2", 1000, true), Admit::LimitReached);  // p1 holds the one slot
  std::optional<bool> kicked;
  a.kick({"viewer", "shared"}, [&](bool k) { kicked = k; });
  ASSERT_TRUE(run_until([&] { return kicked.has_value(); }));
  EXPECT_TRUE(*kicked);
  EXPECT_EQ(at(a, "p1", 1500), Admit::Evicted);
  EXPECT_EQ(at(a, "p3", 1500), Admit::Evicted);
}

TEST_F(RedisStoreTest, ReloadsScriptsAfterFlush) {
  auto& a = edge();
  ASSERT_TRUE(wait_connected(a));
  EXPECT_EQ(admit(a, "s1", true, 1000), Admit::Allowed);
  ASSERT_TRUE(redis_->command("SCRIPT FLUSH"));
  EXPECT_EQ(admit(a, "s2", true, 1000), Admit::Allowed);  // NOSCRIPT → EVAL
  EXPECT_EQ(admit(a, "s3", true, 1000), Admit::Allowed);
  EXPECT_EQ(admit(a, "s4", true, 1000), Admit::LimitReached);  // the limit really ran in Redis
}

TEST_F(RedisStoreTest, FailOpenWhileRedisIsDownThenRecovers) {
  auto& a = edge(WhenRedisDown::FailOpen);
  ASSERT_TRUE(wait_connected(a));
  EXPECT_EQ(admit(a, "s1", true, 1000), Admit::Allowed);
  redis_->stop();
  ASSERT_TRUE(run_until([&] { return !a.connected(); }));
  // Local limits apply meanwhile.
  EXPECT_EQ(admit(a, "d1", true, 2000), Admit::Allowed);
  EXPECT_EQ(admit(a, "d2", true, 2000), Admit::Allowed);
  EXPECT_EQ(admit(a, "d3", true, 2000), Admit::Allowed);
  EXPECT_EQ(admit(a, "d4", true, 2000), Admit::LimitReached);
  EXPECT_FALSE(logs_.empty());
  redis_->start();  // same port, empty data
  ASSERT_TRUE(wait_connected(a));
  EXPECT_EQ(admit(a, "n1", true, 3000), Admit::Allowed);
  EXPECT_EQ(admit(a, "n2", true, 3000), Admit::Allowed);
  EXPECT_EQ(admit(a, "n3", true, 3000), Admit::Allowed);
  EXPECT_EQ(admit(a, "n4", true, 3000), Admit::LimitReached);
  EXPECT_NE(logs_.back().find("back"), std::string::npos);
}

TEST_F(RedisStoreTest, FailClosedRefusesWhileDown) {
  auto& a = edge(WhenRedisDown::FailClosed);
  ASSERT_TRUE(wait_connected(a));
  EXPECT_EQ(admit(a, "s1", false, 1000), Admit::Allowed);
  redis_->stop();
  ASSERT_TRUE(run_until([&] { return !a.connected(); }));
  EXPECT_EQ(admit(a, "s1", false, 2000), Admit::Allowed);  // renewed < interval ago: from memory
  EXPECT_EQ(admit(a, "s2", false, 2000), Admit::Unavailable);
  EXPECT_EQ(admit(a, "s1", false, 7000), Admit::Unavailable);
  redis_->start();
  ASSERT_TRUE(wait_connected(a));
  EXPECT_EQ(admit(a, "s2", false, 8000), Admit::Allowed);
}

TEST_F(RedisStoreTest, HungRedisTimesOutAndRecovers) {
  auto& a = edge(WhenRedisDown::FailClosed);
  ASSERT_TRUE(wait_connected(a));
  redis_->signal(SIGSTOP);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(admit(a, "s1", false, 1000), Admit::Unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  redis_->signal(SIGCONT);
  ASSERT_TRUE(wait_connected(a));
  EXPECT_EQ(admit(a, "s1", false, 2000), Admit::Allowed);
}

TEST_F(RedisStoreTest, DownFromTheStart) {
  redis_->stop();
  auto& a = edge(WhenRedisDown::FailOpen);
  EXPECT_EQ(admit(a, "s1", false, 1000), Admit::Allowed);
  ASSERT_TRUE(run_until([&] { return !logs_.empty(); }));  // the refused connect is noticed
  EXPECT_NE(logs_.front().find("fail-open"), std::string::npos);
  redis_->start();
  ASSERT_TRUE(wait_connected(a));
  EXPECT_EQ(admit(a, "s2", false, 2000), Admit::Allowed);
}

TEST_F(RedisStoreTest, AuthAsAnAclUserAndRefusedPasswordsOnHealth) {
  ASSERT_TRUE(redis_->command("ACL SETUSER cdn-edge on >edge-pass ~* +@all"));
  auto health = std::make_shared<RedisHealth>();
  auto as = [&](const char* password) {
    return [&, password](RedisStoreOptions& o) {
      o.username = "cdn-edge";
      o.password = password;
      o.health = health;
    };
  };
  auto& good = edge(WhenRedisDown::FailClosed, SidElsewhere::NewStream, nullptr, as("edge-pass"));
  auto& bad = edge(WhenRedisDown::FailClosed, SidElsewhere::NewStream, nullptr, as("wrong"));
  ASSERT_TRUE(wait_connected(good));
  ASSERT_TRUE(run_until([&] { return health->auth_refused.load() == 1; }));
  EXPECT_EQ(health->down.load(), 1);
  EXPECT_FALSE(bad.connected());
  EXPECT_EQ(admit(good, "s1", false, 1000), Admit::Allowed);
  EXPECT_EQ(admit(bad, "s2", false, 1000), Admit::Unavailable);  // fail-closed, as when Redis is down
  EXPECT_TRUE(std::any_of(logs_.begin(), logs_.end(),
                          [](const std::string& l) { return l.find("AUTH refused: WRONGPASS") != std::string::npos; }));
  // The operator adds the password to the ACL user: the next reconnect gets in.
  ASSERT_TRUE(redis_->command("ACL SETUSER cdn-edge >wrong"));
  ASSERT_TRUE(wait_connected(bad));
  EXPECT_EQ(health->auth_refused.load(), 0);
  EXPECT_EQ(health->down.load(), 0);
  EXPECT_EQ(admit(bad, "s2", false, 2000), Admit::Allowed);
}

TEST_F(RedisStoreTest, UpdateTakesNewRulesOnTheSameConnectionOnly) {
  RedisStoreOptions next;
  auto& a = edge(WhenRedisDown::FailOpen, SidElsewhere::NewStream, nullptr,
                 [&](RedisStoreOptions& o) { next = o; });
  ASSERT_TRUE(wait_connected(a));
  EXPECT_EQ(at(a, "127.0.0.2/32", 1000), Admit::Allowed);
  EXPECT_EQ(at(a, "127.0.0.3/32", 2000), Admit::AllowedNewPlace);
  // The same Redis with other rules: taken at once, the connection stays.
  next.rules.sid_elsewhere = SidElsewhere::Refuse;
  ASSERT_TRUE(a.update(next));
  EXPECT_TRUE(a.connected());
  EXPECT_EQ(at(a, "127.0.0.4/32", 3000), Admit::InUseElsewhere);
  // Another password needs another connection: refused, nothing changed.
  auto other = next;
  other.password = "s3cret";
  other.rules.sid_elsewhere = SidElsewhere::NewStream;
  EXPECT_FALSE(a.update(other));
  EXPECT_EQ(at(a, "127.0.0.5/32", 4000), Admit::InUseElsewhere);
}

}  // namespace
}  // namespace cdn::auth
