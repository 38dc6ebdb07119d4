// TickList on a real libuv loop: one timer ticks every member, members may leave (or make others
// leave) during a tick, and the timer stops when the list empties so an idle loop can return.
#include "common/net/tick_list.h"

#include <gtest/gtest.h>

#include <vector>

namespace cdn::net {
namespace {

struct Member : TickList::Node {
  int ticks = 0;
  int leave_after = -1;      // leave the list on this tick
  Member* evict = nullptr;   // on its first tick, take this other member off the list
  static void on_tick(TickList::Node* n, int64_t) {
    auto* m = static_cast<Member*>(n);
    ++m->ticks;
    if (m->evict) {
      TickList::remove(m->evict);
      m->evict = nullptr;
    }
    if (m->ticks == m->leave_after) TickList::remove(m);
  }
};

struct Loop {
  uv_loop_t loop{};
  Loop() { uv_loop_init(&loop); }
  ~Loop() {
    uv_run(&loop, UV_RUN_DEFAULT);  // close callbacks
    EXPECT_EQ(uv_loop_close(&loop), 0);
  }
};

TEST(TickList, TicksEveryMemberUntilItLeavesThenStopsTheTimer) {
  Loop l;
  {
    TickList list(&l.loop, 1, &Member::on_tick);
    Member a, b;
    a.leave_after = 3;
    b.leave_after = 5;
    list.add(&a);
    list.add(&b);
    EXPECT_EQ(list.size(), 2u);
    // Returns only once no handle is active: the list must stop its timer when it empties.
    uv_run(&l.loop, UV_RUN_DEFAULT);
    EXPECT_EQ(a.ticks, 3);
    EXPECT_EQ(b.ticks, 5);
    EXPECT_TRUE(list.empty());
    EXPECT_FALSE(a.linked());
  }
}

TEST(TickList, AMemberMayRemoveAnotherDuringATick) {
  Loop l;
  {
    TickList list(&l.loop, 1, &Member::on_tick);
    Member a, b, c;
    a.evict = &b;  // b comes after a: it must not be ticked once a removed it
    a.leave_after = 2;
    c.leave_after = 2;
    list.add(&a);
    list.add(&b);
    list.add(&c);
    uv_run(&l.loop, UV_RUN_DEFAULT);
    EXPECT_EQ(a.ticks, 2);
    EXPECT_EQ(b.ticks, 0);
    EXPECT_EQ(c.ticks, 2);
  }
}

TEST(TickList, MembersOutliveTheListAndLeaveItWhenDestroyed) {
  Loop l;
  Member outlives;
  {
    TickList list(&l.loop, 1000, &Member::on_tick);
    {
      Member gone;
      list.add(&gone);
      list.add(&outlives);
      EXPECT_EQ(list.size(), 2u);
    }
    EXPECT_EQ(list.size(), 1u);  // the destroyed member unlinked itself
  }
  EXPECT_FALSE(outlives.linked());  // the list let go of its members
  TickList::remove(&outlives);      // and removing again is harmless
}

}  // namespace
}  // namespace cdn::net
