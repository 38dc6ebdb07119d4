// The upstream client pool on a real loop against a real server: keep-alive reuse, timeouts,
// pausing a response for flow control, cancelling, streaming a request body with flow control.
#include "common/http/upstream_client.h"

#include <gtest/gtest.h>

#include <atomic>

#include "tests/unit/http/loop_harness.h"

namespace cdn::http {
namespace {

using test::FnHandler;
using test::PatternProducer;
using test::TestLoop;
using test::TestServer;
using test::wait_until;

struct Recorder : UpstreamCallbacks {
  std::function<void(Recorder&)> on_first_body;
  std::function<void(Recorder&)> on_end;
  int status = 0;
  std::string body;
  std::atomic<bool> ended{false};
  std::atomic<int> writable{0};
  bool complete = false;
  UpstreamError error = UpstreamError::None;
  void on_upstream_head(int s, Headers&&) override { status = s; }
  void on_upstream_body(const Bytes& chunk) override {
    bool first = body.empty();
    body += *chunk;
    if (first && on_first_body) on_first_body(*this);
  }
  void on_upstream_writable() override { ++writable; }
  void on_upstream_end(bool ok, UpstreamError e) override {
    complete = ok;
    error = e;
    ended = true;
    if (on_end) on_end(*this);
  }
};

struct PoolFixture {
  TestLoop loop;
  std::function<void(const std::shared_ptr<Exchange>&)> origin_fn;
  FnHandler handler{[this](const std::shared_ptr<Exchange>& ex) { origin_fn(ex); }};
  std::unique_ptr<TestServer> origin;
  std::unique_ptr<UpstreamPool> pool;

  explicit PoolFixture(UpstreamTimeouts t = {}) {
    origin = std::make_unique<TestServer>(loop, &handler);
    auto addr = net::resolve_numeric("127.0.0.1", origin->port());
    loop.run([&]() {
      pool = std::make_unique<UpstreamPool>(&loop.worker(), addr.value(), t);
      return 0;
    });
  }
  ~PoolFixture() {
    loop.run([this]() {
      pool.reset();
      return 0;
    });
    origin.reset();
  }
  // The token is stored on the loop thread, before any callback of this request can read it.
  void send(Recorder& r, const std::string& path, uint64_t* token = nullptr, int64_t first_byte_ms = 0) {
    loop.run([&]() {
      uint64_t t = pool->send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n", false, &r, true, first_byte_ms);
      if (token) *token = t;
      return 0;
    });
  }
};

TEST(UpstreamPoolLoop, KeepAliveConnectionIsReused) {
  PoolFixture f;
  f.origin_fn = [](const std::shared_ptr<Exchange>& ex) { ex->respond(200, {}, std::string_view("hi")); };
  Recorder a, b;
  f.send(a, "/a");
  ASSERT_TRUE(wait_until([&]() { return a.ended.load(); }));
  EXPECT_TRUE(a.complete);
  EXPECT_EQ(f.loop.run([&]() { return f.pool->idle_count(); }), 1u);
  f.send(b, "/b");
  ASSERT_TRUE(wait_until([&]() { return b.ended.load(); }));
  EXPECT_TRUE(b.complete);
  EXPECT_EQ(b.body, "hi");
  EXPECT_EQ(f.origin->accepted(), 1u);
}

TEST(UpstreamPoolLoop, SilentServerHitsTheFirstByteTimeout) {
  UpstreamTimeouts t;
  t.first_byte_ms = 150;
  PoolFixture f(t);
  std::shared_ptr<Exchange> held;
  f.origin_fn = [&](const std::shared_ptr<Exchange>& ex) { held = ex; };
  Recorder r;
  f.send(r, "/silent");
  ASSERT_TRUE(wait_until([&]() { return r.ended.load(); }));
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.error, UpstreamError::FirstByteTimeout);
  f.loop.run([&]() {
    held.reset();
    return 0;
  });
}

TEST(UpstreamPoolLoop, ARequestMayWaitLongerThanThePoolsFirstByteTimeout) {
  // An LL-HLS blocking reload is held upstream: its own first-byte timeout replaces the pool's,
  // on a reused connection and on a new one alike.
  UpstreamTimeouts t;
  t.first_byte_ms = 150;
  PoolFixture f(t);
  std::vector<std::shared_ptr<Exchange>> held;
  f.origin_fn = [&](const std::shared_ptr<Exchange>& ex) {
    if (ex->request().path == "/quick") ex->respond(200, {}, std::string_view("q"));
    else held.push_back(ex);
  };
  Recorder quick, reused, fresh, ordinary;
  f.send(quick, "/quick");
  ASSERT_TRUE(wait_until([&]() { return quick.ended.load(); }));
  f.send(reused, "/held", nullptr, 5000);  // takes the idle connection
  f.send(fresh, "/held", nullptr, 5000);   // opens another
  f.send(ordinary, "/held");
  ASSERT_TRUE(wait_until([&]() { return ordinary.ended.load(); }));
  EXPECT_EQ(ordinary.error, UpstreamError::FirstByteTimeout);
  // Four times the pool's timeout: the held requests are still waiting.
  std::this_thread::sleep_for(std::chrono::milliseconds(4 * t.first_byte_ms));
  EXPECT_FALSE(reused.ended.load());
  EXPECT_FALSE(fresh.ended.load());
  f.loop.run([&]() {
    for (auto& ex : held)
      if (ex->alive()) ex->respond(200, {}, std::string_view("late"));
    held.clear();
    return 0;
  });
  ASSERT_TRUE(wait_until([&]() { return reused.ended.load() && fresh.ended.load(); }));
  EXPECT_TRUE(reused.complete);
  EXPECT_TRUE(fresh.complete);
  EXPECT_EQ(reused.body, "late");
  EXPECT_EQ(fresh.body, "late");
  EXPECT_EQ(f.origin->accepted(), 3u);
}

TEST(UpstreamPoolLoop, PausedResponseIsNeitherReadNorTimedOut) {
  UpstreamTimeouts t;
  t.idle_ms = 200;
  PoolFixture f(t);
  std::shared_ptr<PatternProducer> p;
  const uint64_t total = 32ull << 20;
  f.origin_fn = [&](const std::shared_ptr<Exchange>& ex) { p = PatternProducer::start(ex, total); };
  Recorder r;
  uint64_t token = 0;
  r.on_first_body = [&](Recorder&) { f.pool->pause(token); };
  f.send(r, "/big", &token);
  // Paused after the first read: the server ends up held by the full socket buffers.
  ASSERT_TRUE(wait_until([&]() { return f.loop.run([&]() { return p && p->held; }); }, 10000));
  size_t got = f.loop.run([&]() { return r.body.size(); });
  EXPECT_LT(got, size_t(1) << 20);
  // Longer than the idle timeout: a pause is ours, not the server's stall.
  std::this_thread::sleep_for(std::chrono::milliseconds(3 * t.idle_ms));
  EXPECT_FALSE(r.ended.load());
  EXPECT_EQ(f.loop.run([&]() { return r.body.size(); }), got);
  f.loop.run([&]() {
    f.pool->resume(token);
    return 0;
  });
  ASSERT_TRUE(wait_until([&]() { return r.ended.load(); }, 20000));
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.body.size(), total);
  EXPECT_TRUE(PatternProducer::matches(r.body));
}

TEST(UpstreamPoolLoop, PauseOnTheLastBytesLeavesAReusableConnection) {
  // A paced fill pauses while taking the response's last bytes (one read holds the whole small
  // response): the idle connection must still read the next response.
  UpstreamTimeouts t;
  t.first_byte_ms = 2000;
  PoolFixture f(t);
  f.origin_fn = [](const std::shared_ptr<Exchange>& ex) { ex->respond(200, {}, std::string_view("hi")); };
  Recorder a, b;
  uint64_t token = 0;
  a.on_first_body = [&](Recorder&) { f.pool->pause(token); };
  f.send(a, "/a", &token);
  ASSERT_TRUE(wait_until([&]() { return a.ended.load(); }));
  EXPECT_TRUE(a.complete);
  EXPECT_EQ(f.loop.run([&]() { return f.pool->idle_count(); }), 1u);
  f.send(b, "/b");
  ASSERT_TRUE(wait_until([&]() { return b.ended.load(); }, 10000));
  EXPECT_TRUE(b.complete);
  EXPECT_EQ(b.error, UpstreamError::None);
  EXPECT_EQ(b.body, "hi");
  EXPECT_EQ(f.origin->accepted(), 1u);
}

TEST(UpstreamPoolLoop, CancelClosesTheConnectionWithoutACallback) {
  PoolFixture f;
  std::shared_ptr<PatternProducer> p;
  std::atomic<bool> server_saw_close{false};
  f.origin_fn = [&](const std::shared_ptr<Exchange>& ex) {
    ex->on_abort([&]() { server_saw_close = true; });
    p = PatternProducer::start(ex, 64ull << 20);
  };
  Recorder r;
  uint64_t token = 0;
  r.on_first_body = [&](Recorder&) { f.pool->cancel(token); };
  f.send(r, "/big", &token);
  ASSERT_TRUE(wait_until([&]() { return server_saw_close.load(); }, 10000));
  f.loop.run([] { return 0; });
  EXPECT_FALSE(r.ended.load());
  EXPECT_EQ(f.loop.run([&]() { return f.pool->idle_count(); }), 0u);
}

// Reads a request body as it arrives (optionally pausing the connection on its first bytes) and
// answers with the number of bytes read.
struct BodyCounter {
  std::shared_ptr<Exchange> ex;
  std::atomic<uint64_t> got{0};
  std::atomic<bool> head_before_end{false};
  bool pause_first = false;
  void take(const std::shared_ptr<Exchange>& e) {
    ex = e;
    head_before_end = true;  // dispatched: the body has not ended yet (we read it from here)
    e->set_body_handler(
        [this](const char*, size_t n) {
          if (got == 0 && pause_first) ex->pause_request_body();
          got += n;
        },
        [this](bool ok) { ex->respond(ok ? 200 : 400, {}, std::to_string(got.load())); });
  }
};

std::string post_head(uint64_t length) {
  return "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
}

TEST(UpstreamPoolLoop, StreamedBodyFollowsTheHeadAndArrivesWhole) {
  PoolFixture f;
  BodyCounter server;
  f.origin_fn = [&](const std::shared_ptr<Exchange>& ex) { server.take(ex); };
  Recorder r;
  const uint64_t total = 300000;
  uint64_t token = f.loop.run([&]() { return f.pool->send_streaming(post_head(total), &r); });
  // The server has the head while the client has written no body yet.
  ASSERT_TRUE(wait_until([&]() { return server.head_before_end.load(); }));
  f.loop.run([&]() {
    for (uint64_t sent = 0; sent < total; sent += 100000)
      EXPECT_TRUE(f.pool->write_body(token, make_bytes(std::string(100000, 'b'))));
    f.pool->end_body(token);
    return 0;
  });
  ASSERT_TRUE(wait_until([&]() { return r.ended.load(); }, 10000));
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::to_string(total));
  // The request is over: more body bytes are refused, not queued.
  EXPECT_FALSE(
      f.loop.run([&]() { return f.pool->write_body(token, make_bytes(std::string("x"))); }));
}

TEST(UpstreamPoolLoop, UnreadBodyStaysUnsentUntilTheServerReadsAgain) {
  PoolFixture f;
  BodyCounter server;
  server.pause_first = true;  // the server's connection stops reading after the first bytes
  f.origin_fn = [&](const std::shared_ptr<Exchange>& ex) { server.take(ex); };
  Recorder r;
  const uint64_t total = 32ull << 20;
  uint64_t token = f.loop.run([&]() {
    uint64_t t = f.pool->send_streaming(post_head(total), &r);
    for (uint64_t sent = 0; sent < total; sent += 1 << 20)
      f.pool->write_body(t, make_bytes(std::string(1 << 20, 'u')));
    f.pool->end_body(t);
    return t;
  });
  ASSERT_TRUE(wait_until([&]() { return server.got.load() > 0; }));
  // Paused: the kernel's buffers fill and the rest stays with the client, counted as unsent.
  auto unsent_now = [&]() { return f.loop.run([&]() { return f.pool->unsent_bytes(token); }); };
  size_t unsent = unsent_now();
  ASSERT_TRUE(wait_until([&]() {
    size_t before = unsent;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    unsent = unsent_now();
    return unsent == before;
  }));
  uint64_t got = server.got.load();
  EXPECT_LT(got, total / 2);
  EXPECT_GT(unsent, total / 4);
  EXPECT_FALSE(r.ended.load());
  f.loop.run([&]() {
    server.ex->resume_request_body();
    return 0;
  });
  ASSERT_TRUE(wait_until([&]() { return r.ended.load(); }, 20000));
  EXPECT_EQ(r.body, std::to_string(total));
  EXPECT_GT(r.writable.load(), 0);  // the unsent bytes drained under the low-water mark
}

}  // namespace
}  // namespace cdn::http
