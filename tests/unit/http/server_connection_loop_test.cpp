// ServerConnection on a real loop with real sockets: pipelining, limits, timeouts, flow control,
// request bodies held for a handler that takes them late, and egress accounting.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/unit/http/loop_harness.h"

namespace cdn::http {
namespace {

using test::ClientResponse;
using test::FnHandler;
using test::TestClient;
using test::TestLoop;
using test::TestServer;
using test::wait_until;

TEST(ServerConnectionLoop, PipelinedRequestsAreAnsweredInOrder) {
  TestLoop loop;
  std::vector<std::string> dispatched;
  bool a_answered_before_b = false;
  FnHandler h([&](const std::shared_ptr<Exchange>& ex) {
    dispatched.push_back(ex->request().path);
    if (ex->request().path == "/a") {
      // Answer on a later loop turn: /b must not start before /a is answered.
      loop.worker().post([ex]() { ex->respond(200, {}, std::string_view("first")); });
    } else {
      a_answered_before_b = dispatched.size() == 2;
      ex->respond(200, {}, std::string_view("second"));
    }
  });
  TestServer server(loop, &h);
  TestClient c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r1 = c.read_response();
  auto r2 = c.read_response();
  EXPECT_EQ(r1.body, "first");
  EXPECT_EQ(r2.body, "second");
  EXPECT_TRUE(loop.run([&]() { return a_answered_before_b; }));
}

TEST(ServerConnectionLoop, OverlongUrlIsRefusedWith414) {
  TestLoop loop;
  std::atomic<int> handled{0};
  FnHandler h([&](const std::shared_ptr<Exchange>& ex) {
    handled++;
    ex->respond(200, {}, std::string_view("x"));
  });
  ServerOptions o;
  o.limits.max_url_bytes = 100;
  TestServer server(loop, &h, o);
  TestClient c(server.port());
  ASSERT_TRUE(c.send("GET /" + std::string(200, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 414);
  EXPECT_FALSE(r.header("x-error-reason").empty());
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(handled.load(), 0);
}

TEST(ServerConnectionLoop, IncompleteHeadTimesOutWith408) {
  TestLoop loop;
  FnHandler h([](const std::shared_ptr<Exchange>& ex) { ex->respond(200, {}, std::string_view("x")); });
  ServerOptions o;
  o.header_read_ms = 100;
  TestServer server(loop, &h, o);
  TestClient c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n"));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.header("x-error-reason"), "header-timeout");
}

TEST(ServerConnectionLoop, IdleKeepAliveConnectionIsClosed) {
  TestLoop loop;
  FnHandler h([](const std::shared_ptr<Exchange>& ex) { ex->respond(200, {}, std::string_view("x")); });
  ServerOptions o;
  o.keepalive_idle_ms = 100;
  TestServer server(loop, &h, o);
  TestClient c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 200);
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_TRUE(wait_until([&]() { return server.connections() == 0; }));
}

TEST(ServerConnectionLoop, AnIdleKeepAliveConnectionHoldsNoRequestState) {
  TestLoop loop;
  FnHandler h([](const std::shared_ptr<Exchange>& ex) { ex->respond(200, {}, std::string_view("x")); });
  TestServer server(loop, &h);
  TestClient c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(wait_until([&]() { return server.connections() == 1; }));
  EXPECT_EQ(server.connections_holding_request_state(), 0u);  // nothing before the first byte
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHo"));
  ASSERT_TRUE(wait_until([&]() { return server.connections_holding_request_state() == 1; }));
  ASSERT_TRUE(c.send("st: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 200);
  // Answered and flushed: the parser and the exchange are gone, the connection stays open.
  EXPECT_TRUE(wait_until([&]() { return server.connections_holding_request_state() == 0; }));
  EXPECT_EQ(server.connections(), 1u);
  ASSERT_TRUE(c.send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 200);
}

using Producer = test::PatternProducer;

TEST(ServerConnectionLoop, AReaderThatStopsReadingHoldsTheProducer) {
  TestLoop loop;
  std::shared_ptr<Producer> p;
  std::atomic<uint64_t> credited{0};
  FnHandler h([&](const std::shared_ptr<Exchange>& ex) { p = Producer::start(ex, 64ull << 20); });
  ServerOptions o;
  o.send_buffer_bytes = 32 * 1024;
  ConnectionHooks hooks;
  hooks.on_body_sent = [&](uint64_t n) { credited += n; };
  TestServer server(loop, &h, o, hooks);
  TestClient c(server.port(), 4096);
  ASSERT_TRUE(c.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
  // The client reads nothing: the producer must end up held with the body far from done.
  ASSERT_TRUE(wait_until([&]() { return loop.run([&]() { return p && p->held; }); }));
  auto [produced, pending, max_pending] = loop.run([&]() {
    return std::tuple<uint64_t, size_t, size_t>(p->produced, p->ex->pending_bytes(), p->max_pending_seen);
  });
  EXPECT_LT(produced, p->total / 2);
  // Never more than the high-water mark plus one block queued in the process.
  EXPECT_LE(max_pending, o.send_buffer_bytes + p->block);
  // Egress counts what the socket took, not what was queued.
  EXPECT_EQ(loop.run([&]() { return credited.load() + p->ex->pending_bytes(); }), produced);
  EXPECT_LE(credited.load(), produced - pending + p->block);
  // Reading resumes the producer; the body arrives whole and in order.
  auto r = c.read_response();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.body.size(), p->total);
  EXPECT_TRUE(Producer::matches(r.body));
  EXPECT_TRUE(wait_until([&]() { return credited.load() == p->total; }));
}

TEST(ServerConnectionLoop, HeadBodiesAreNotCountedAsSent) {
  TestLoop loop;
  std::atomic<uint64_t> credited{0};
  std::atomic<int> completed{0};
  std::atomic<uint64_t> logged_bytes{999};
  FnHandler h([](const std::shared_ptr<Exchange>& ex) { ex->respond(200, {}, std::string(5000, 'x')); });
  ConnectionHooks hooks;
  hooks.on_body_sent = [&](uint64_t n) { credited += n; };
  hooks.on_complete = [&](const Exchange& ex) {
    logged_bytes = ex.body_bytes_sent();
    completed++;
  };
  TestServer server(loop, &h, {}, hooks);
  TestClient c(server.port());
  ASSERT_TRUE(c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_response(true);
  EXPECT_EQ(r.header("content-length"), "5000");
  ASSERT_TRUE(wait_until([&]() { return completed.load() == 1; }));
  EXPECT_EQ(logged_bytes.load(), 0u);
  EXPECT_EQ(credited.load(), 0u);
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().body.size(), 5000u);
  ASSERT_TRUE(wait_until([&]() { return completed.load() == 2; }));
  EXPECT_EQ(logged_bytes.load(), 5000u);
  EXPECT_EQ(credited.load(), 5000u);
}

TEST(ServerConnectionLoop, ChunkedStreamEndsWithFinalChunkAndAbortDoesNot) {
  TestLoop loop;
  FnHandler h([](const std::shared_ptr<Exchange>& ex) {
    ex->start(200, {}, -1);
    ex->write(make_bytes(std::string("hello ")));
    ex->write(make_bytes(std::string("world")));
    if (ex->request().path == "/abort") {
      ex->abort();
    } else {
      ex->finish();
    }
  });
  TestServer server(loop, &h);
  TestClient ok(server.port());
  ASSERT_TRUE(ok.send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = ok.read_response();
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.body, "hello world");
  TestClient cut(server.port());
  ASSERT_TRUE(cut.send("GET /abort HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r2 = cut.read_response();
  EXPECT_FALSE(r2.complete);
}

TEST(ServerConnectionLoop, ClientGoneRunsTheAbortHookOnce) {
  TestLoop loop;
  std::atomic<int> aborted{0};
  std::atomic<bool> dispatched{false};
  std::shared_ptr<Exchange> held;
  FnHandler h([&](const std::shared_ptr<Exchange>& ex) {
    held = ex;  // never answered
    ex->on_abort([&]() { aborted++; });
    dispatched = true;
  });
  TestServer server(loop, &h);
  {
    TestClient c(server.port());
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(wait_until([&]() { return dispatched.load(); }));
  }
  ASSERT_TRUE(wait_until([&]() { return aborted.load() == 1; }));
  EXPECT_FALSE(loop.run([&]() { return held->alive(); }));
  loop.run([&]() {
    held->respond(200, {}, std::string_view("late"));  // a harmless no-op
    held.reset();
    return 0;
  });
  EXPECT_EQ(aborted.load(), 1);
}

TEST(ServerConnectionLoop, ABodyNobodyReadsYetIsHeldBoundedThenHandedOverWhole) {
  // As a suspended phase (the access gate) does: the handler takes the body only later.
  TestLoop loop;
  std::shared_ptr<Exchange> held;
  std::atomic<bool> dispatched{false};
  std::atomic<uint64_t> got{0};
  FnHandler h([&](const std::shared_ptr<Exchange>& ex) {
    held = ex;
    dispatched = true;
  });
  TestServer server(loop, &h);
  const uint64_t total = 32ull << 20;
  TestClient c(server.port());
  ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(total) +
                     "\r\n\r\n"));
  std::atomic<uint64_t> sent{0};
  std::thread sender([&]() {
    std::string piece(64 << 10, 'p');
    while (sent < total && c.send(piece)) sent += piece.size();
  });
  EXPECT_TRUE(wait_until([&]() { return dispatched.load(); }));
  // The server stops reading: the sender stalls once the kernel's buffers are full.
  EXPECT_TRUE(wait_until([&]() {
    uint64_t before = sent;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return sent == before;
  }));
  EXPECT_LT(sent.load(), total / 2);
  loop.run([&]() {
    held->set_body_handler([&](const char*, size_t n) { got += n; },
                           [&](bool ok) {
                             held->respond(ok ? 200 : 400, {}, std::to_string(got.load()));
                           });
    return 0;
  });
  sender.join();
  ClientResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::to_string(total));
  loop.run([&]() {
    held.reset();
    return 0;
  });
}

}  // namespace
}  // namespace cdn::http
