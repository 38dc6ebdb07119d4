// Fill on a real worker loop: waiters joining at every state, failure, abort and the paced mode
// of fills that are not stored.
#include "common/proxy/fill.h"

#include <gtest/gtest.h>

#include <atomic>

#include "tests/unit/http/loop_harness.h"

namespace cdn::proxy {
namespace {

using test::TestLoop;
using test::wait_until;

cache::CacheKey key(const std::string& k) { return cache::CacheKey{k, cache::hash64(k)}; }

// What a fill stores at its end: a 200 with `body`.
cache::ObjectRef stored_object(const std::string& body) {
  auto stored = std::make_shared<cache::CachedObject>();
  stored->meta.status = 200;
  stored->body.append(make_bytes(body));
  return stored;
}

// A waiter on the test loop that counts its wakes.
struct Follower {
  std::shared_ptr<Fill::Waiter> w;
  std::atomic<int> wakes{0};
  void join(Fill& f, net::Worker& worker, uint64_t first = 0) {
    w = f.add_waiter(
        &worker, [this]() { wakes++; }, first);
  }
  std::string take(Fill& f, Fill::View& v, size_t max = SIZE_MAX) {
    f.read(*w, v, max);
    std::string out;
    for (auto& c : v.new_chunks) out += *c;
    return out;
  }
};

TEST(FillLoop, InterimResponsesReachEveryWaiterOnceAndNoneAfterTheEnd) {
  TestLoop loop;
  Fill f(key("k"));
  Follower leader, joiner, late;
  leader.join(f, loop.worker());
  f.add_interim(103, {{"Link", "</a.css>; rel=preload"}});
  ASSERT_TRUE(wait_until([&]() { return leader.wakes.load() > 0; }));  // an interim wakes waiters
  joiner.join(f, loop.worker());  // joins after the 103 came: still gets it
  Fill::View v;
  leader.take(f, v);
  ASSERT_EQ(v.interim.size(), 1u);
  EXPECT_EQ(v.interim[0].status, 103);
  EXPECT_EQ(v.interim[0].headers.get_or("link"), "</a.css>; rel=preload");
  leader.take(f, v);
  EXPECT_TRUE(v.interim.empty());  // once each
  f.start_streaming(200, {{"Content-Length", "1"}}, 1, "MISS");
  f.add_interim(103, {});  // after the head: not an interim response of this one
  EXPECT_EQ(joiner.take(f, v), "");
  EXPECT_EQ(v.interim.size(), 1u);  // the head may overtake a waiter's wake: still passed on
  EXPECT_TRUE(f.append(make_bytes(std::string("x"))));
  f.finish(stored_object("x"));
  late.join(f, loop.worker());
  late.take(f, v);
  EXPECT_TRUE(v.interim.empty());  // answered from the stored object, as a hit
  for (auto* x : {&leader, &joiner, &late}) f.remove_waiter(x->w);
}

TEST(FillLoop, WaitersJoiningAtEveryStateGetTheWholeBody) {
  TestLoop loop;
  Fill f(key("k"));
  Follower pending, streaming, late;
  pending.join(f, loop.worker());
  Fill::View v;
  EXPECT_EQ(pending.take(f, v), "");
  EXPECT_EQ(v.state, Fill::State::Pending);

  f.start_streaming(200, {{"Content-Length", "6"}}, 6, "MISS");
  EXPECT_TRUE(f.append(make_bytes(std::string("abc"))));
  ASSERT_TRUE(wait_until([&]() { return pending.wakes.load() > 0; }));
  streaming.join(f, loop.worker());  // joins after blocks arrived: still starts at the first
  EXPECT_TRUE(f.append(make_bytes(std::string("def"))));
  f.finish(stored_object("abcdef"));
  late.join(f, loop.worker());

  EXPECT_EQ(pending.take(f, v), "abcdef");
  EXPECT_EQ(v.state, Fill::State::Done);
  EXPECT_EQ(v.cache_status, "MISS");
  EXPECT_EQ(streaming.take(f, v), "abcdef");
  EXPECT_EQ(v.state, Fill::State::Done);
  // After the end a waiter is answered from the stored object, as a hit.
  late.take(f, v);
  ASSERT_TRUE(v.object);
  EXPECT_EQ(v.cache_status, "HIT");
  EXPECT_EQ(v.object->body.flatten(), "abcdef");
}

TEST(FillLoop, ReadsAreLimitedAndSayWhatRemains) {
  TestLoop loop;
  Fill f(key("k"));
  Follower a;
  a.join(f, loop.worker());
  f.start_streaming(200, {}, -1, "MISS");
  for (int i = 0; i < 4; ++i) f.append(make_bytes(std::string(10, char('0' + i))));
  Fill::View v;
  EXPECT_EQ(a.take(f, v, 15), std::string(10, '0') + std::string(10, '1'));
  EXPECT_TRUE(v.more);
  EXPECT_EQ(a.take(f, v, 1), std::string(10, '2'));  // at least one block
  EXPECT_TRUE(v.more);
  EXPECT_EQ(a.take(f, v), std::string(10, '3'));
  EXPECT_FALSE(v.more);
}

TEST(FillLoop, FailureWakesEveryWaiterAndLateJoinersSeeIt) {
  TestLoop loop;
  Fill f(key("k"));
  Follower a, b;
  a.join(f, loop.worker());
  b.join(f, loop.worker());
  f.start_streaming(200, {}, 100, "MISS");
  f.append(make_bytes(std::string("partial")));
  f.fail("upstream-truncated");
  ASSERT_TRUE(wait_until([&]() { return a.wakes.load() > 0 && b.wakes.load() > 0; }));
  Fill::View v;
  a.take(f, v);
  EXPECT_EQ(v.state, Fill::State::Failed);
  EXPECT_EQ(v.error, "upstream-truncated");
  Follower c;
  c.join(f, loop.worker());
  c.take(f, v);
  EXPECT_EQ(v.state, Fill::State::Failed);
  // A failed fill cannot be revived by a late producer call.
  f.finish();
  b.take(f, v);
  EXPECT_EQ(v.state, Fill::State::Failed);
}

TEST(FillLoop, RemovedWaiterIsNotWoken) {
  TestLoop loop;
  Fill f(key("k"));
  Follower gone, stays;
  gone.join(f, loop.worker());
  stays.join(f, loop.worker());
  f.remove_waiter(gone.w);
  EXPECT_EQ(f.waiter_count(), 1u);
  f.start_streaming(200, {}, -1, "MISS");
  ASSERT_TRUE(wait_until([&]() { return stays.wakes.load() > 0; }));
  loop.run([] { return 0; });  // every wake posted before this has run
  EXPECT_EQ(gone.wakes.load(), 0);
}

TEST(FillLoop, PacedFillHoldsOnlyWhatTheSlowestWaiterHasNotTaken) {
  TestLoop loop;
  Fill f(key("k"));
  std::atomic<int> resumes{0};
  Follower fast, slow;
  fast.join(f, loop.worker());
  slow.join(f, loop.worker());
  f.pace(&loop.worker(), 100, [&]() { resumes++; });
  f.start_streaming(200, {}, -1, "MISS");
  EXPECT_TRUE(f.append(make_bytes(std::string(60, 'a'))));
  EXPECT_FALSE(f.append(make_bytes(std::string(60, 'b'))));  // 120 held >= window: pause
  Fill::View v;
  EXPECT_EQ(fast.take(f, v).size(), 120u);
  EXPECT_EQ(f.held_blocks(), 2u);  // the slow waiter has taken nothing yet
  loop.run([] { return 0; });
  EXPECT_EQ(resumes.load(), 0);
  EXPECT_EQ(slow.take(f, v).size(), 120u);
  EXPECT_EQ(f.held_blocks(), 0u);
  ASSERT_TRUE(wait_until([&]() { return resumes.load() == 1; }));
  // A waiter that joins after blocks were dropped cannot be given a whole body.
  Follower late;
  late.join(f, loop.worker());
  late.take(f, v);
  EXPECT_EQ(v.state, Fill::State::Failed);
  EXPECT_EQ(v.error, "fill-not-joinable");
}

TEST(FillLoop, FillPacedMidStreamDropsWhatItHeldOnceTaken) {
  // A body without Content-Length that outgrows cache.max_object_size: the fill kept every block
  // while it meant to store them, then becomes paced.
  TestLoop loop;
  Fill f(key("k"));
  std::atomic<int> resumes{0};
  Follower a;
  a.join(f, loop.worker());
  f.start_streaming(200, {}, -1, "MISS");
  EXPECT_TRUE(f.append(make_bytes(std::string(80, 'a'))));
  EXPECT_TRUE(f.append(make_bytes(std::string(80, 'b'))));  // unpaced: no window yet
  EXPECT_EQ(f.held_blocks(), 2u);
  f.pace(&loop.worker(), 100, [&]() { resumes++; });
  // Held bytes are over the window and the waiter has taken nothing: the producer pauses.
  EXPECT_FALSE(f.append(make_bytes(std::string(80, 'c'))));
  Fill::View v;
  EXPECT_EQ(a.take(f, v), std::string(80, 'a') + std::string(80, 'b') + std::string(80, 'c'));
  EXPECT_EQ(f.held_blocks(), 0u);
  ASSERT_TRUE(wait_until([&]() { return resumes.load() == 1; }));
}

TEST(FillLoop, PacedFillWhoseWaitersAllLeftIsAbandoned) {
  TestLoop loop;
  Fill f(key("k"));
  std::atomic<int> resumes{0};
  Follower a;
  a.join(f, loop.worker());
  f.pace(&loop.worker(), 1 << 20, [&]() { resumes++; });
  f.start_streaming(200, {}, -1, "MISS");
  f.append(make_bytes(std::string(10, 'a')));
  EXPECT_FALSE(f.abandoned());
  f.remove_waiter(a.w);
  EXPECT_TRUE(f.abandoned());
  // The producer hears of it even though it was not paused.
  ASSERT_TRUE(wait_until([&]() { return resumes.load() == 1; }));
}

// A body of `blocks` blocks of 20 bytes each, block i filled with 'a' + i.
void append_blocks(Fill& f, int from, int to) {
  for (int i = from; i < to; ++i) f.append(make_bytes(std::string(20, char('a' + i))));
}

TEST(FillLoop, RangesNearThePacedFillJoinItAndSkipWhatTheyDoNotNeed) {
  TestLoop loop;
  Fill f(key("k"));
  Follower slow, near, far;
  slow.join(f, loop.worker());
  f.pace(&loop.worker(), 100, [] {});
  f.start_streaming(200, {{"Content-Length", "1000"}}, 1000, "MISS");
  append_blocks(f, 0, 4);           // bytes [0, 80)
  near.join(f, loop.worker(), 50);  // within a window of the oldest byte held
  far.join(f, loop.worker(), 500);  // the fill would reach it only at its slowest waiter's pace
  Fill::View v;
  EXPECT_EQ(near.take(f, v), std::string(20, 'c') + std::string(20, 'd'));
  EXPECT_EQ(v.offset, 40u);  // the blocks wholly before byte 50 were skipped
  EXPECT_EQ(v.state, Fill::State::Streaming);
  far.take(f, v);
  EXPECT_EQ(v.state, Fill::State::Failed);
  EXPECT_EQ(v.error, "fill-not-joinable");
  f.remove_waiter(far.w);
  // The range holds back nothing before its first byte: once the whole reader took the blocks
  // they go, and those after it stay for the range until it takes them.
  append_blocks(f, 4, 5);  // 100 bytes held: the producer is told to pause for the slow reader
  Follower while_paused;
  while_paused.join(f, loop.worker(), 60);  // would be held back with it
  while_paused.take(f, v);
  EXPECT_EQ(v.error, "fill-not-joinable");
  f.remove_waiter(while_paused.w);
  EXPECT_EQ(slow.take(f, v).size(), 100u);
  EXPECT_EQ(f.held_blocks(), 1u);
  EXPECT_EQ(near.take(f, v), std::string(20, 'e'));
  EXPECT_EQ(v.offset, 80u);
  EXPECT_EQ(f.held_blocks(), 0u);
  // A range whose first byte was dropped, or a whole request, can no longer join.
  Follower behind, whole, ahead;
  behind.join(f, loop.worker(), 60);
  whole.join(f, loop.worker());
  ahead.join(f, loop.worker(), 150);
  behind.take(f, v);
  EXPECT_EQ(v.error, "fill-not-joinable");
  whole.take(f, v);
  EXPECT_EQ(v.error, "fill-not-joinable");
  append_blocks(f, 5, 8);
  EXPECT_EQ(ahead.take(f, v), std::string(20, 'h'));
  EXPECT_EQ(v.offset, 140u);
  loop.run([] { return 0; });  // the wakes posted so far have run before the followers go
}

TEST(FillLoop, RangesThatJoinedBeforeTheHeadAreDecidedWhenItArrives) {
  TestLoop loop;
  Fill f(key("k"));
  Follower leader, near, far;
  leader.join(f, loop.worker(), 5000);  // the request that started the fill wants the tail
  near.join(f, loop.worker(), 30);
  far.join(f, loop.worker(), 1000);
  Fill::View v;
  near.take(f, v);
  EXPECT_EQ(v.state, Fill::State::Pending);
  f.pace(&loop.worker(), 100, [] {});
  f.start_streaming(200, {}, 10000, "MISS");
  append_blocks(f, 0, 3);
  EXPECT_EQ(near.take(f, v), std::string(20, 'b') + std::string(20, 'c'));
  EXPECT_EQ(v.offset, 20u);
  for (Follower* gone : {&leader, &far}) {
    gone->take(f, v);
    EXPECT_EQ(v.error, "fill-not-joinable");
  }
  loop.run([] { return 0; });  // the wakes posted so far have run before the followers go
}

TEST(FillLoop, FirstByteIsIgnoredWhereTheWaiterMayNeedTheWholeBody) {
  TestLoop loop;
  // A fill that is stored keeps every block; a paced one that is not a 200 of known length
  // (an error page, a chunked body) is passed on whole.
  Fill stored(key("a")), error(key("b")), chunked(key("c"));
  error.pace(&loop.worker(), 100, [] {});
  chunked.pace(&loop.worker(), 100, [] {});
  stored.start_streaming(200, {}, 60, "MISS");
  error.start_streaming(404, {}, 60, "MISS");
  chunked.start_streaming(200, {}, -1, "MISS");
  Follower readers[3];
  Follower* r = readers;
  for (Fill* f : {&stored, &error, &chunked}) {
    r->join(*f, loop.worker(), 45);
    append_blocks(*f, 0, 3);
    Fill::View v;
    EXPECT_EQ(r->take(*f, v).size(), 60u);
    EXPECT_EQ(v.offset, 0u);
    f->remove_waiter(r->w);  // its pending wakes find it gone
    ++r;
  }
}

TEST(FillLoop, RangesFarBeyondWhatAStoredFillReceivedGoTheirOwnWay) {
  TestLoop loop;
  Fill f(key("k"));
  f.set_range_reach(100);
  Follower leader, near, far, edge_of_reach;
  leader.join(f, loop.worker());
  far.join(f, loop.worker(), 500);  // joined before the head: decided when it arrives
  f.start_streaming(200, {}, 10000, "MISS");
  append_blocks(f, 0, 3);                      // 60 bytes received
  near.join(f, loop.worker(), 90);             // within reach of what arrived
  edge_of_reach.join(f, loop.worker(), 160);   // 60 + 100: still within
  Fill::View v;
  far.take(f, v);
  EXPECT_EQ(v.error, "fill-not-joinable");
  for (Follower* ok : {&leader, &near, &edge_of_reach}) {
    ok->take(f, v);
    EXPECT_EQ(v.state, Fill::State::Streaming);
    EXPECT_EQ(v.offset, 0u);  // a stored fill keeps and hands out every block
  }
  // A late range is measured against what has arrived by the time it joins.
  append_blocks(f, 3, 20);  // 400 bytes
  Follower later;
  later.join(f, loop.worker(), 500);
  later.take(f, v);
  EXPECT_EQ(v.state, Fill::State::Streaming);
  // A fill made for one request's own range never turns its request away, even when the
  // upstream ignores the Range and sends the whole body through a paced fill.
  Fill own(key("own"));
  own.set_single_request();
  own.pace(&loop.worker(), 100, [] {});
  Follower only;
  only.join(own, loop.worker(), 5000);
  own.start_streaming(200, {}, 10000, "MISS");
  append_blocks(own, 0, 3);
  only.take(own, v);
  EXPECT_EQ(v.state, Fill::State::Streaming);
  for (Follower* r : {&leader, &near, &far, &edge_of_reach, &later}) f.remove_waiter(r->w);
  own.remove_waiter(only.w);
  loop.run([] { return 0; });
}

TEST(FillLoop, WakesOfABusyWaiterAreCoalesced) {
  TestLoop loop;
  Fill f(key("k"));
  Follower a;
  a.join(f, loop.worker());
  f.start_streaming(200, {}, -1, "MISS");
  // Block the loop while the producer appends many times: one wake is queued, not hundreds.
  std::promise<void> release;
  auto released = release.get_future().share();
  loop.worker().post([released]() { released.wait(); });
  for (int i = 0; i < 500; ++i) f.append(make_bytes(std::string("x")));
  release.set_value();
  loop.run([] { return 0; });
  EXPECT_LE(a.wakes.load(), 2);
}

TEST(InflightTableLoop, PurgeByKeyStopsFillsThatMayCarryTheKey) {
  InflightTable t;
  auto pending = t.join_or_create(key("pending")).first;  // no head yet: its keys are unknown
  auto tagged = t.join_or_create(key("tagged")).first;
  auto other = t.join_or_create(key("other")).first;
  auto cf = t.join_or_create(key("cache-tag")).first;
  tagged->start_streaming(200, {{"Surrogate-Key", "channel/a  vod/x"}}, 10, "MISS");
  other->start_streaming(200, {{"Surrogate-Key", "channel/b"}}, 10, "MISS");
  cf->start_streaming(200, {{"Cache-Tag", "vod/y, channel/a"}}, 10, "MISS");
  EXPECT_TRUE(pending->may_carry_surrogate_key("channel/a"));
  EXPECT_TRUE(tagged->may_carry_surrogate_key("channel/a"));
  EXPECT_FALSE(tagged->may_carry_surrogate_key("channel"));  // whole keys only
  EXPECT_FALSE(other->may_carry_surrogate_key("channel/a"));
  EXPECT_TRUE(cf->may_carry_surrogate_key("channel/a"));
  t.purge_tagged("channel/a");
  for (auto* f : {pending.get(), tagged.get(), cf.get()}) EXPECT_TRUE(f->purged());
  EXPECT_FALSE(other->purged());
  // Requests after the purge start fills of their own, except for the untouched one.
  EXPECT_TRUE(t.join_or_create(key("pending")).second);
  EXPECT_TRUE(t.join_or_create(key("tagged")).second);
  EXPECT_FALSE(t.join_or_create(key("other")).second);
}

TEST(InflightTableLoop, ReplaceMakesLaterRequestsJoinTheNewFill) {
  InflightTable t;
  auto [old_fill, created] = t.join_or_create(key("k"));
  ASSERT_TRUE(created);
  auto fresh = t.replace(key("k"));
  EXPECT_NE(fresh, old_fill);
  EXPECT_EQ(t.join_or_create(key("k")).first, fresh);
  t.remove(key("k"), old_fill.get());  // the old fill ending does not unlist the new one
  EXPECT_EQ(t.join_or_create(key("k")).first, fresh);
}

TEST(InflightTableLoop, JoinOrCreateSharesOneFillAcrossThreads) {
  InflightTable t;
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<Fill>> seen(8);
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i]() {
      auto [fill, c] = t.join_or_create(key("same"));
      seen[size_t(i)] = fill;
      if (c) created++;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), 1);
  for (auto& s : seen) EXPECT_EQ(s, seen[0]);
  t.purge("same", false);
  EXPECT_TRUE(seen[0]->purged());
  EXPECT_EQ(t.size(), 0u);
}

}  // namespace
}  // namespace cdn::proxy
