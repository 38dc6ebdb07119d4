#include "common/auth/memory_session_store.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

namespace cdn::auth {
namespace {

constexpr int64_t kLease = 30000;

class MemoryStoreTest : public ::testing::Test {
 protected:
  Admit admit(const std::string& sid, bool block_new, int64_t now, int limit = 3) {
    Admit out = Admit::Unavailable;
    bool called = false;
    store_.admit({"viewer", sid}, limit, block_new, now, [&](Admit a) {
      out = a;
      called = true;
    });
    EXPECT_TRUE(called);  // in-process store answers synchronously
    return out;
  }
  std::vector<std::string> live() {
    std::vector<std::string> sids;
    store_.list("viewer", [&](std::vector<SessionInfo> v) {
      for (auto& s : v) sids.push_back(s.sid);
    });
    std::sort(sids.begin(), sids.end());
    return sids;
  }
  int64_t clock_ = 0;
  MemorySessionStore store_{SessionRules{kLease, 600000}, 1000000, [this] { return clock_; }};
};

TEST_F(MemoryStoreTest, EvictOldestWhenAFourthStarts) {
  EXPECT_EQ(admit("s1", false, 1000), Admit::Allowed);
  EXPECT_EQ(admit("s2", false, 2000), Admit::Allowed);
  EXPECT_EQ(admit("s3", false, 3000), Admit::Allowed);
  EXPECT_EQ(admit("s1", false, 4000), Admit::Allowed);  // renewal does not change start order
  EXPECT_EQ(admit("s4", false, 5000), Admit::Allowed);
  EXPECT_EQ(admit("s1", false, 6000), Admit::Evicted);
  EXPECT_EQ(admit("s2", false, 6000), Admit::Allowed);
  // The evicted viewer restarts playback: a new session, which evicts the next oldest (s2).
  EXPECT_EQ(admit("s1b", false, 7000), Admit::Allowed);
  EXPECT_EQ(admit("s2", false, 8000), Admit::Evicted);
  EXPECT_EQ(admit("s3", false, 8000), Admit::Allowed);
  EXPECT_EQ(admit("s4", false, 8000), Admit::Allowed);
  clock_ = 8000;
  EXPECT_EQ(live(), (std::vector<std::string>{"s1b", "s3", "s4"}));
  EXPECT_EQ(store_.live_sessions(), 3u);
}

TEST_F(MemoryStoreTest, BlockNewRefusesTheFourthUntilALeaseExpires) {
  EXPECT_EQ(admit("s1", true, 1000), Admit::Allowed);
  EXPECT_EQ(admit("s2", true, 2000), Admit::Allowed);
  EXPECT_EQ(admit("s3", true, 3000), Admit::Allowed);
  EXPECT_EQ(admit("s4", true, 4000), Admit::LimitReached);
  // The three keep playing; s1 stops (no more renewals), s2 and s3 continue.
  for (int64_t t = 5000; t < 1000 + kLease; t += 5000) {
    EXPECT_EQ(admit("s2", true, t), Admit::Allowed);
    EXPECT_EQ(admit("s3", true, t), Admit::Allowed);
    EXPECT_EQ(admit("s4", true, t), Admit::LimitReached);
  }
  EXPECT_EQ(admit("s4", true, 1000 + kLease), Admit::Allowed);  // s1's lease expired: slot free
  EXPECT_EQ(admit("s2", true, 1000 + kLease), Admit::Allowed);
  EXPECT_EQ(admit("s5", true, 1000 + kLease), Admit::LimitReached);
}

TEST_F(MemoryStoreTest, LeaseExpiryFreesASlotWithoutEviction) {
  EXPECT_EQ(admit("s1", false, 0), Admit::Allowed);
  EXPECT_EQ(admit("s2", false, 0), Admit::Allowed);
  EXPECT_EQ(admit("s3", false, 20000), Admit::Allowed);
  EXPECT_EQ(admit("s4", false, kLease + 1), Admit::Allowed);  // s1, s2 expired: nobody evicted
  EXPECT_EQ(admit("s3", false, kLease + 2), Admit::Allowed);
  // An expired (not evicted) session that comes back is simply a new session again.
  EXPECT_EQ(admit("s1", false, kLease + 3), Admit::Allowed);
}

TEST_F(MemoryStoreTest, LiveRenewalNeverRefusedAndLimitsArePerViewer) {
  for (const char* s : {"a", "b", "c"}) EXPECT_EQ(admit(s, true, 0), Admit::Allowed);
  for (int i = 1; i < 100; ++i) EXPECT_EQ(admit("b", true, i * 1000), Admit::Allowed);
  Admit other = Admit::Unavailable;
  store_.admit({"someone-else", "a"}, 3, true, 1000, [&](Admit a) { other = a; });
  EXPECT_EQ(other, Admit::Allowed);
  EXPECT_EQ(admit("z", true, 0, 0), Admit::Allowed);  // limit 0 = unlimited
}

TEST_F(MemoryStoreTest, LoweredLimitEvictsDownToIt) {
  for (const char* s : {"a", "b", "c", "d"}) EXPECT_EQ(admit(s, false, 100, 4), Admit::Allowed);
  EXPECT_EQ(admit("e", false, 200, 2), Admit::Allowed);
  EXPECT_EQ(admit("a", false, 300, 2), Admit::Evicted);
  EXPECT_EQ(admit("c", false, 300, 2), Admit::Evicted);
  EXPECT_EQ(admit("d", false, 300, 2), Admit::Allowed);
}

TEST_F(MemoryStoreTest, KickEvictsAndListShowsLiveOnly) {
  admit("s1", false, 1000);
  admit("s2", false, 2000);
  clock_ = 2000;
  bool kicked = false;
  store_.kick({"viewer", "s1"}, [&](bool ok) { kicked = ok; });
  EXPECT_TRUE(kicked);
  EXPECT_EQ(admit("s1", false, 2500), Admit::Evicted);
  store_.kick({"viewer", "nope"}, [&](bool ok) { kicked = ok; });
  EXPECT_FALSE(kicked);
  EXPECT_EQ(live(), std::vector<std::string>{"s2"});
  clock_ = 2000 + kLease;
  EXPECT_TRUE(live().empty());
}

TEST_F(MemoryStoreTest, EvictedMemoryIsBounded) {
  admit("a", false, 0, 1);
  admit("b", false, 1, 1);
  EXPECT_EQ(admit("a", false, 2, 1), Admit::Evicted);
  EXPECT_EQ(admit("a", false, 600001, 1), Admit::Allowed);  // forgotten after evicted_memory_ms
}

TEST(MemoryStore, SweepsStoppedViewersAndCapsSessions) {
  MemorySessionStore store(SessionRules{1000, 1000}, 100);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(store.admit_sync({"v" + std::to_string(i), "s"}, 1, false, 0), Admit::Allowed);
  EXPECT_EQ(store.admit_sync({"extra", "s"}, 1, false, 10), Admit::LimitReached);
  EXPECT_EQ(store.admit_sync({"v1", "s"}, 1, false, 10), Admit::Allowed);  // renewal still fine
  EXPECT_EQ(store.admit_sync({"extra", "s"}, 1, false, 5000), Admit::Allowed);
  EXPECT_EQ(store.live_sessions(), 1u);
}

TEST(MemoryStore, ConcurrentAdmitsKeepTheLimit) {
  MemorySessionStore store(SessionRules{60000, 60000});
  std::atomic<int> allowed_new{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        std::string sid = std::to_string(t) + "-" + std::to_string(i);
        if (store.admit_sync({"v" + std::to_string(i % 10), sid}, 3, true, 1) == Admit::Allowed) ++allowed_new;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed_new.load(), 30);
  EXPECT_EQ(store.live_sessions(), 30u);
}

TEST(MemoryStore, NewRulesApplyToTheNextAdmission) {
  MemorySessionStore store(SessionRules{60000, 60000, SidElsewhere::NewStream});
  EXPECT_EQ(store.admit_sync({"v", "a", "p1"}, 1, true, 0), Admit::Allowed);
  EXPECT_EQ(store.admit_sync({"v", "b", "p1"}, 1, true, 5000), Admit::LimitReached);
  EXPECT_EQ(store.admit_sync({"v", "a", "p2"}, 2, false, 5000), Admit::AllowedNewPlace);
  // A shorter lease ends "a" (renewed at 5000) by 6000; a sid elsewhere is now refused.
  store.set_rules(SessionRules{1000, 60000, SidElsewhere::Refuse});
  EXPECT_EQ(store.admit_sync({"v", "b", "p1"}, 1, true, 6000), Admit::Allowed);
  EXPECT_EQ(store.admit_sync({"v", "b", "p3"}, 2, false, 6500), Admit::InUseElsewhere);
  EXPECT_EQ(store.live_sessions(), 1u);
}

TEST(MemoryStore, VisitLiveCountsEachViewersSessions) {
  MemorySessionStore store(SessionRules{60000, 60000});
  store.admit_sync({"live/v1", "a"}, 0, false, 0);
  store.admit_sync({"live/v1", "b"}, 0, false, 0);
  store.admit_sync({"vod/v1", "a"}, 0, false, 0);
  store.admit_sync({"gone", "a"}, 0, false, 0);
  store.kick({"gone", "a"}, [](bool) {});
  std::map<std::string, size_t> seen;
  store.visit_live([&](const std::string& sub, size_t live) { seen[sub] = live; });
  EXPECT_EQ(seen, (std::map<std::string, size_t>{{"live/v1", 2}, {"vod/v1", 1}}));
}

// The same sid from several places (a shared token), under climit 1.
class PlaceTest : public ::testing::Test {
 protected:
  Admit at(MemorySessionStore& s, const std::string& place, int64_t now, bool block_new = false) {
    return s.admit_sync({"viewer", "shared", place}, 1, block_new, now);
  }
};

TEST_F(PlaceTest, NewStreamPolicyCountsAnotherPlaceAsAnotherStream) {
  MemorySessionStore s(SessionRules{kLease, 600000, SidElsewhere::NewStream});
  EXPECT_EQ(at(s, "127.0.0.2/32", 1000), Admit::Allowed);
  EXPECT_EQ(at(s, "127.0.0.2/32", 2000), Admit::Allowed);          // renewal at its own place
  EXPECT_EQ(at(s, "127.0.0.3/32", 3000), Admit::AllowedNewPlace);  // evicts the first place
  EXPECT_EQ(at(s, "127.0.0.2/32", 4000), Admit::Evicted);
  EXPECT_EQ(at(s, "127.0.0.3/32", 4000), Admit::Allowed);
  EXPECT_EQ(s.live_sessions(), 1u);
  // With BLOCK_NEW the second place is refused while the first plays.
  MemorySessionStore b(SessionRules{kLease, 600000, SidElsewhere::NewStream});
  EXPECT_EQ(at(b, "127.0.0.2/32", 1000, true), Admit::Allowed);
  EXPECT_EQ(at(b, "127.0.0.3/32", 2000, true), Admit::LimitReached);
  EXPECT_EQ(at(b, "127.0.0.2/32", 3000, true), Admit::Allowed);
}

TEST_F(PlaceTest, RefusePolicyKeepsTheFirstPlaceUntilItsLeaseLapses) {
  MemorySessionStore s(SessionRules{kLease, 600000, SidElsewhere::Refuse});
  EXPECT_EQ(at(s, "127.0.0.2/32", 1000), Admit::Allowed);
  for (const char* other : {"127.0.0.3/32", "127.0.0.4/32", "::/56"})
    EXPECT_EQ(at(s, other, 2000), Admit::InUseElsewhere) << other;
  EXPECT_EQ(at(s, "127.0.0.2/32", 3000), Admit::Allowed);
  EXPECT_EQ(s.live_sessions(), 1u);
  // The first place stopped: once its lease lapsed the sid may start elsewhere.
  EXPECT_EQ(at(s, "127.0.0.3/32", 3000 + kLease), Admit::Allowed);
}

TEST_F(PlaceTest, KickEndsTheSidAtEveryPlace) {
  int64_t clock = 1000;
  MemorySessionStore s(SessionRules{kLease, 600000, SidElsewhere::NewStream}, 1000000, [&] { return clock; });
  EXPECT_EQ(s.admit_sync({"viewer", "shared", "a"}, 0, false, 1000), Admit::Allowed);
  EXPECT_EQ(s.admit_sync({"viewer", "shared", "b"}, 0, false, 1000), Admit::AllowedNewPlace);
  std::vector<SessionInfo> listed;
  s.list("viewer", [&](std::vector<SessionInfo> v) { listed = std::move(v); });
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_NE(listed[0].place, listed[1].place);
  bool kicked = false;
  s.kick({"viewer", "shared"}, [&](bool k) { kicked = k; });
  EXPECT_TRUE(kicked);
  EXPECT_EQ(s.admit_sync({"viewer", "shared", "a"}, 0, false, 2000), Admit::Evicted);
  EXPECT_EQ(s.admit_sync({"viewer", "shared", "c"}, 0, false, 2000), Admit::Evicted);
  EXPECT_EQ(s.live_sessions(), 0u);
}

}  // namespace
}  // namespace cdn::auth
