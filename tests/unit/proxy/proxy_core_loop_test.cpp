// The proxy pipeline on a real loop: an origin and an edge (ProxyCore) served over loopback
// sockets, clients that read slowly or not at all, upstreams that stall or never answer.
#include <gtest/gtest.h>

#include <atomic>

#include "common/http/query.h"
#include "common/http/range.h"
#include "common/obs/metrics.h"
#include "common/proxy/proxy_core.h"
#include "tests/unit/http/loop_harness.h"

namespace cdn::proxy {
namespace {

using test::FnHandler;
using test::PatternProducer;
using test::TestClient;
using test::TestLoop;
using test::TestServer;
using test::wait_until;

struct Stack {
  TestLoop loop;
  std::function<void(const std::shared_ptr<http::Exchange>&)> origin_fn;
  FnHandler origin_handler{[this](const std::shared_ptr<http::Exchange>& ex) { origin_fn(ex); }};
  std::unique_ptr<TestServer> origin;
  cache::MemoryTier memory{1ull << 30, 1};  // one shard: a 24 MB object is admitted
  std::unique_ptr<UpstreamSet> upstreams;
  std::unique_ptr<ProxyCore> core;
  std::unique_ptr<TestServer> edge;

  explicit Stack(http::UpstreamTimeouts ut = {}, ProxyOptions o = {}, Phases* phases = nullptr) {
    origin = std::make_unique<TestServer>(loop, &origin_handler);
    auto addr = net::resolve_numeric("127.0.0.1", origin->port());
    std::vector<UpstreamServerSpec> servers{{addr.value(), "origin", false, {}}};
    upstreams = std::make_unique<UpstreamSet>(SelectPolicy::Failover, std::move(servers), 3, 1000, ut, 1);
    o.via_name = "test-edge";
    core = std::make_unique<ProxyCore>(std::move(o), &memory, nullptr, upstreams.get(), phases);
    edge = std::make_unique<TestServer>(loop, core.get());
  }
  ~Stack() {
    edge.reset();
    origin.reset();
    // Upstream connections own loop handles: they go on the loop thread.
    loop.run([this]() {
      upstreams.reset();
      return 0;
    });
  }
  uint16_t port() const { return edge->port(); }
};

uint64_t lookups(const char* result) {
  return obs::metrics().counter("cdn_cache_lookups_total", "Cache lookups by result", {{"result", result}}).value();
}

TEST(ProxyCoreLoop, UnstoredBodyIsFetchedOnlyAsFastAsItsViewerReads) {
  Stack s;
  std::shared_ptr<PatternProducer> p;
  const uint64_t total = 64ull << 20;
  s.origin_fn = [&](const std::shared_ptr<http::Exchange>& ex) {
    p = PatternProducer::start(ex, total, {{"Cache-Control", "no-store"}});
  };
  TestClient c(s.port(), 4096);
  ASSERT_TRUE(c.send("GET /nostore HTTP/1.1\r\nHost: x\r\n\r\n"));
  // The viewer reads nothing: the edge stops reading its upstream, so the origin is held too.
  ASSERT_TRUE(wait_until([&]() { return s.loop.run([&]() { return p && p->held; }); }, 10000));
  uint64_t produced = s.loop.run([&]() { return p->produced; });
  EXPECT_LT(produced, total / 2);
  c.set_timeout_ms(20000);
  auto r = c.read_response();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.body.size(), total);
  EXPECT_TRUE(PatternProducer::matches(r.body));
  EXPECT_EQ(s.memory.count(), 0u);
}

TEST(ProxyCoreLoop, CacheableBodyFillsAtUpstreamSpeedWhileItsViewerStalls) {
  Stack s;
  std::shared_ptr<PatternProducer> p;
  const uint64_t total = 24ull << 20;
  s.origin_fn = [&](const std::shared_ptr<http::Exchange>& ex) {
    p = PatternProducer::start(ex, total, {{"Cache-Control", "max-age=60"}});
  };
  TestClient c(s.port(), 4096);
  ASSERT_TRUE(c.send("GET /cacheable HTTP/1.1\r\nHost: x\r\n\r\n"));
  // Stored objects do not wait for their slowest viewer: the whole body reaches the cache.
  ASSERT_TRUE(wait_until([&]() { return s.memory.count() == 1; }, 20000));
  EXPECT_EQ(s.loop.run([&]() { return p->produced; }), total);
  c.set_timeout_ms(20000);
  auto r = c.read_response();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.body.size(), total);
  EXPECT_TRUE(PatternProducer::matches(r.body));
}

TEST(ProxyCoreLoop, StalledFillFailsEveryWaiter) {
  http::UpstreamTimeouts ut;
  ut.idle_ms = 300;
  Stack s(ut);
  std::atomic<int> origin_requests{0};
  std::vector<std::shared_ptr<http::Exchange>> held;
  s.origin_fn = [&](const std::shared_ptr<http::Exchange>& ex) {
    origin_requests++;
    held.push_back(ex);
    ex->start(200, {{"Cache-Control", "max-age=60"}}, 1000);
    ex->write(make_bytes(std::string(10, 'x')));  // and nothing more
  };
  TestClient a(s.port()), b(s.port());
  ASSERT_TRUE(a.send("GET /stall HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(wait_until([&]() { return origin_requests.load() == 1; }));
  ASSERT_TRUE(b.send("GET /stall HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto ra = a.read_response();
  auto rb = b.read_response();
  EXPECT_EQ(ra.status, 200);
  EXPECT_EQ(rb.status, 200);
  // Both are cut short, never passed off as complete.
  EXPECT_FALSE(ra.complete);
  EXPECT_FALSE(rb.complete);
  EXPECT_LT(ra.body.size(), 1000u);
  EXPECT_EQ(origin_requests.load(), 1);
  EXPECT_EQ(s.memory.count(), 0u);
  s.loop.run([&]() {
    held.clear();
    return 0;
  });
}

TEST(ProxyCoreLoop, QueuedRequestGets504WhenTheCacheLockTimesOut) {
  ProxyOptions o;
  o.cache_lock_ms = 200;
  Stack s({}, o);
  std::atomic<int> origin_requests{0};
  std::shared_ptr<http::Exchange> held;
  s.origin_fn = [&](const std::shared_ptr<http::Exchange>& ex) {
    origin_requests++;
    held = ex;  // answered later by the test
  };
  TestClient leader(s.port()), queued(s.port());
  ASSERT_TRUE(leader.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(wait_until([&]() { return origin_requests.load() == 1; }));
  ASSERT_TRUE(queued.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto rq = queued.read_response();
  EXPECT_EQ(rq.status, 504);
  EXPECT_EQ(rq.header("x-error-reason"), "cache-lock-timeout");
  // The leader is bound by its own upstream timeouts, not by the lock: it still gets its answer.
  s.loop.run([&]() {
    held->respond(200, {{"Cache-Control", "max-age=60"}}, std::string_view("late but fine"));
    held.reset();
    return 0;
  });
  auto rl = leader.read_response();
  EXPECT_EQ(rl.status, 200);
  EXPECT_EQ(rl.body, "late but fine");
  EXPECT_EQ(origin_requests.load(), 1);
}

class TransformPhases : public DefaultPhases {
 public:
  std::atomic<int> asked{0};
  Body response_filter(const http::Exchange&, RequestContext&, http::Headers&,
                       bool transformable) override {
    asked++;
    return transformable ? Body::Transform : Body::AsIs;
  }
  std::string transform_body(const http::Exchange&, RequestContext&, std::string body) override {
    return "<" + body + ">";
  }
};

TEST(ProxyCoreLoop, LookupsAndTransformDecisionsHappenOncePerResponse) {
  TransformPhases phases;
  Stack s({}, {}, &phases);
  s.origin_fn = [&](const std::shared_ptr<http::Exchange>& ex) {
    ex->respond(200, {{"Cache-Control", "max-age=60"}}, std::string_view("body"));
  };
  uint64_t miss0 = lookups("miss"), hit0 = lookups("hit");
  TestClient c(s.port());
  ASSERT_TRUE(c.send("GET /p.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r1 = c.read_response();
  EXPECT_EQ(r1.body, "<body>");
  EXPECT_EQ(lookups("miss") - miss0, 1u);
  EXPECT_EQ(lookups("hit") - hit0, 0u);
  EXPECT_EQ(phases.asked.load(), 1);
  ASSERT_TRUE(c.send("GET /p.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r2 = c.read_response();
  EXPECT_EQ(r2.body, "<body>");
  EXPECT_EQ(r2.header("x-cache"), "HIT");
  EXPECT_EQ(lookups("miss") - miss0, 1u);
  EXPECT_EQ(lookups("hit") - hit0, 1u);
  EXPECT_EQ(phases.asked.load(), 2);
}

// A tier's own per-request state, as the edge declares its AccessState.
struct TaggedContext : RequestContext {
  int tag = 0;
};

// Phases that number each request in its context and read the number back in every later phase;
// the request filter suspends, so the context has to outlive that too.
class TaggedPhases : public PhasesFor<TaggedContext> {
 public:
  std::atomic<int> requests{0}, responses{0}, transforms{0};
  std::string upstream_query(const http::Request& req) override {
    return http::query_without(req.query, {"t"});
  }
  Filter request_filter(const std::shared_ptr<http::Exchange>& ex, TaggedContext& ctx,
                        std::function<void()> resume) override {
    ctx.tag = ++requests;
    if (ctx.upstream_query != "x=1") ctx.tag = -1;  // the core computed it before this phase
    ex->worker()->post(std::move(resume));
    return Filter::Suspended;
  }
  Body response_filter(const http::Exchange&, TaggedContext& ctx, http::Headers& h,
                       bool transformable) override {
    ++responses;
    h.set("X-Tag", std::to_string(ctx.tag));
    return transformable ? Body::Transform : Body::AsIs;
  }
  std::string transform_body(const http::Exchange&, TaggedContext& ctx, std::string body) override {
    ++transforms;
    return std::to_string(ctx.tag) + ":" + body;
  }
};

TEST(ProxyCoreLoop, EachRequestHasOneTypedContextThroughEveryPhase) {
  TaggedPhases phases;
  Stack s({}, {}, &phases);
  std::atomic<int> origin_requests{0};
  std::string origin_query;
  s.origin_fn = [&](const std::shared_ptr<http::Exchange>& ex) {
    origin_requests++;
    origin_query = ex->request().query;
    ex->respond(200, {{"Cache-Control", "max-age=60"}}, std::string_view("body"));
  };
  TestClient c(s.port());
  ASSERT_TRUE(c.send("GET /p?t=secret&x=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r1 = c.read_response();
  EXPECT_EQ(r1.status, 200);
  EXPECT_EQ(r1.header("x-tag"), "1");
  EXPECT_EQ(r1.body, "1:body");
  ASSERT_TRUE(c.send("GET /p?x=1&t=other HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r2 = c.read_response();
  EXPECT_EQ(r2.header("x-cache"), "HIT");  // the token-like parameter is not in the key
  EXPECT_EQ(r2.header("x-tag"), "2");
  EXPECT_EQ(r2.body, "2:body");
  EXPECT_EQ(origin_requests.load(), 1);
  EXPECT_EQ(s.loop.run([&]() { return origin_query; }), "x=1");
  EXPECT_EQ(phases.requests.load(), 2);
  EXPECT_EQ(phases.responses.load(), 2);
  EXPECT_EQ(phases.transforms.load(), 2);
}

TEST(ProxyCoreLoop, ErrorResponsesPassTheResponseFilterButAreNeverTransformed) {
  TaggedPhases phases;
  Stack s({}, {}, &phases);
  s.origin_fn = [&](const std::shared_ptr<http::Exchange>& ex) {
    ex->respond(200, {}, std::string_view("body"));
  };
  TestClient c(s.port());
  ASSERT_TRUE(c.send("POST /p?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("x-tag"), "1");
  EXPECT_EQ(r.body.find("1:"), std::string::npos);
  EXPECT_EQ(phases.responses.load(), 1);
  EXPECT_EQ(phases.transforms.load(), 0);
}

TEST(ProxyCoreLoop, ViewerThatLeavesStopsAnUnstoredFill) {
  Stack s;
  std::shared_ptr<PatternProducer> p;
  std::atomic<bool> origin_saw_abort{false};
  s.origin_fn = [&](const std::shared_ptr<http::Exchange>& ex) {
    ex->on_abort([&]() { origin_saw_abort = true; });
    p = PatternProducer::start(ex, 256ull << 20, {{"Cache-Control", "no-store"}});
  };
  {
    TestClient c(s.port(), 4096);
    ASSERT_TRUE(c.send("GET /nostore HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(wait_until([&]() { return s.loop.run([&]() { return p && p->held; }); }, 10000));
  }
  // The viewer is gone and nobody stores the body: the edge drops the upstream request.
  EXPECT_TRUE(wait_until([&]() { return origin_saw_abort.load(); }, 10000));
  EXPECT_LT(s.loop.run([&]() { return p->produced; }), 256ull << 20);
}

TEST(ProxyCoreLoop, FarRangeOfAPacedFillFetchesOnlyItsOwnBytes) {
  Stack s;
  const uint64_t total = 64ull << 20;
  std::shared_ptr<PatternProducer> whole;
  std::vector<std::string> ranges_asked;  // on the loop thread only
  int whole_requests = 0;
  s.origin_fn = [&](const std::shared_ptr<http::Exchange>& ex) {
    const std::string* range = ex->request().headers.get("range");
    if (!range) {
      ++whole_requests;
      whole = PatternProducer::start(ex, total, {{"Cache-Control", "no-store"}});
      return;
    }
    ranges_asked.push_back(*range);
    http::ByteRange r;
    ASSERT_EQ(http::parse_range(*range, total, r), http::RangeResult::Satisfiable);
    std::string body(size_t(r.length()), '\0');
    for (size_t i = 0; i < body.size(); ++i) body[i] = PatternProducer::at(r.first + i);
    ex->respond(
        206,
        {{"Cache-Control", "no-store"},
         {"Content-Range", http::content_range({http::RangePlan::Kind::Partial, r}, total)}},
        body);
  };
  // A viewer of the whole object that stops reading holds the paced fill near the start.
  TestClient stalled(s.port(), 4096);
  ASSERT_TRUE(stalled.send("GET /paced HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(
      wait_until([&]() { return s.loop.run([&]() { return whole && whole->held; }); }, 10000));
  const uint64_t first = 40ull << 20;
  TestClient c(s.port());
  ASSERT_TRUE(c.send("GET /paced HTTP/1.1\r\nHost: x\r\nRange: bytes=" + std::to_string(first) +
                     "-" + std::to_string(first + 4999) + "\r\n\r\n"));
  c.set_timeout_ms(10000);
  auto r = c.read_response();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.header("content-range"), "bytes " + std::to_string(first) + "-" +
                                           std::to_string(first + 4999) + "/" +
                                           std::to_string(total));
  ASSERT_EQ(r.body.size(), 5000u);
  for (size_t i = 0; i < r.body.size(); ++i)
    ASSERT_EQ(r.body[i], PatternProducer::at(first + i)) << i;
  // The upstream was asked for exactly those bytes, and the stalled fill was not read further.
  EXPECT_EQ(s.loop.run([&]() { return whole_requests; }), 1);
  auto asked = s.loop.run([&]() { return ranges_asked; });
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], "bytes=" + std::to_string(first) + "-" + std::to_string(first + 4999));
  EXPECT_LT(s.loop.run([&]() { return whole->produced; }), first);
}

}  // namespace
}  // namespace cdn::proxy
