#include "common/net/worker.h"

#include <gtest/gtest.h>

#include <latch>
#include <string>
#include <thread>
#include <vector>

namespace cdn::net {
namespace {

TEST(Worker, PostedWorkRunsOnTheLoopThreadInOrder) {
  Worker w(0);
  std::latch ready(1);
  w.start([&](Worker&) { ready.count_down(); });
  ready.wait();
  std::vector<int> seen;  // only touched on the loop thread
  std::latch done(1);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(w.post([&, i] {
      EXPECT_TRUE(w.on_this_thread());
      EXPECT_EQ(Worker::current(), &w);
      seen.push_back(i);
      if (i == 99) done.count_down();
    }));
  }
  done.wait();
  w.stop();
  w.join();
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[size_t(i)], i);
}

TEST(Worker, ManyThreadsPostConcurrently) {
  Worker w(0);
  w.start(nullptr);
  constexpr int kThreads = 4, kEach = 500;
  int count = 0;  // only touched on the loop thread
  std::latch done(kThreads * kEach);
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < kEach; ++i)
        EXPECT_TRUE(w.post([&] {
          ++count;
          done.count_down();
        }));
    });
  }
  for (auto& p : posters) p.join();
  done.wait();
  w.stop();
  w.join();
  EXPECT_EQ(count, kThreads * kEach);
}

// What lets the HTTP/2 session write the answers of many woken waiters at once: work asked for
// with after_posted() runs once, after every task of the batch it was asked from, and outside a
// batch the caller is told to go on itself.
TEST(Worker, AfterPostedRunsOnceTheWholeBatchRan) {
  Worker w(0);
  std::latch ready(1);
  w.start([&](Worker&) { ready.count_down(); });
  ready.wait();
  std::vector<std::string> seen;  // only touched on the loop thread
  bool outside = true;
  std::latch done(1);
  ASSERT_TRUE(w.post([&] {
    // Three tasks queued from inside the loop: they run together in the next batch.
    for (int i = 0; i < 3; ++i) {
      w.post([&, i] {
        seen.push_back("task" + std::to_string(i));
        if (i != 0) return;
        EXPECT_TRUE(w.after_posted([&] {
          seen.push_back("after");
          outside = w.after_posted([] {});
          done.count_down();
        }));
      });
    }
  }));
  done.wait();
  w.stop();
  w.join();
  EXPECT_EQ(seen, (std::vector<std::string>{"task0", "task1", "task2", "after"}));
  EXPECT_FALSE(outside);
}

// What shutdown relies on instead of a sleep: work posted before stop() runs, and the close
// callbacks of the handles it closed have run by the time the loop returns.
TEST(Worker, StopRunsEarlierWorkAndItsCloseCallbacksBeforeTheLoopReturns) {
  Worker w(0);
  auto* timer = new uv_timer_t;
  bool close_callback_ran = false;  // written on the loop thread, read after join
  std::latch ready(1);
  w.start([&](Worker& wk) {
    uv_timer_init(wk.loop(), timer);
    timer->data = &close_callback_ran;
    uv_timer_start(
        timer, [](uv_timer_t*) {}, 60'000, 60'000);  // keeps the loop alive
    ready.count_down();
  });
  ready.wait();
  ASSERT_TRUE(w.post([timer] {
    uv_close(reinterpret_cast<uv_handle_t*>(timer), [](uv_handle_t* h) {
      *static_cast<bool*>(h->data) = true;
      delete reinterpret_cast<uv_timer_t*>(h);
    });
  }));
  w.stop();
  w.join();
  EXPECT_TRUE(close_callback_ran);
  EXPECT_FALSE(w.post([] { ADD_FAILURE() << "ran after stop"; }));
}

TEST(Worker, RunHereRunsOnTheCallingThread) {
  Worker w(3);
  bool ran = false;
  w.run_here([&](Worker& wk) {
    EXPECT_EQ(wk.index(), 3);
    EXPECT_TRUE(wk.on_this_thread());
    ASSERT_TRUE(wk.post([&] { ran = true; }));
    wk.stop();
  });
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace cdn::net
