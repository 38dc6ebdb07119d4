#include "common/runtime/drain.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace cdn::runtime {
namespace {

TEST(DrainSchedule, AnnouncedKeepsAcceptingUntilTheGraceIsOver) {
  DrainSchedule d(/*grace_ms=*/5000, /*drain_ms=*/30000);
  EXPECT_EQ(d.phase(), DrainPhase::Serving);
  EXPECT_FALSE(d.grace_over(1000));
  EXPECT_TRUE(d.announce(1000));
  EXPECT_EQ(d.phase(), DrainPhase::Announced);
  EXPECT_TRUE(d.announced());
  EXPECT_FALSE(d.stopping());
  EXPECT_FALSE(d.grace_over(5999));
  EXPECT_TRUE(d.grace_over(6000));
  EXPECT_FALSE(d.stop_deadline_passed(1'000'000));  // not stopping yet: no deadline
}

TEST(DrainSchedule, ASecondAnnounceDoesNotRestartTheGrace) {
  DrainSchedule d(5000, 30000);
  EXPECT_TRUE(d.announce(1000));
  EXPECT_FALSE(d.announce(4000));
  EXPECT_TRUE(d.grace_over(6000));
}

TEST(DrainSchedule, NoGraceIsOverAtOnce) {
  DrainSchedule d(0, 30000);
  d.announce(1000);
  EXPECT_TRUE(d.grace_over(1000));
}

TEST(DrainSchedule, StoppingStartsTheOpenRequestsDeadline) {
  DrainSchedule d(5000, 30000);
  d.announce(1000);
  EXPECT_TRUE(d.begin_stopping(2000));  // skipping the grace (a second SIGTERM)
  EXPECT_EQ(d.phase(), DrainPhase::Stopping);
  EXPECT_FALSE(d.grace_over(10000));  // no way back to the grace
  EXPECT_FALSE(d.stop_deadline_passed(32000));
  EXPECT_TRUE(d.stop_deadline_passed(32001));
  EXPECT_FALSE(d.begin_stopping(40000));
  EXPECT_TRUE(d.stop_deadline_passed(32001));  // the first stop's deadline stays
  EXPECT_FALSE(d.announce(50000));
  EXPECT_EQ(d.phase(), DrainPhase::Stopping);
}

TEST(DrainSchedule, OnlyOneOfManyRacingThreadsBeginsStopping) {
  for (int round = 0; round < 50; ++round) {
    DrainSchedule d(0, 1000);
    std::atomic<int> announced{0}, stopped{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&]() {
        if (d.announce(100)) announced++;
        if (d.begin_stopping(200)) stopped++;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_LE(announced.load(), 1);
    EXPECT_EQ(stopped.load(), 1);
  }
}

}  // namespace
}  // namespace cdn::runtime
