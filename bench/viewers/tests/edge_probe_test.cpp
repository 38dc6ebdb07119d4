#include "bench/viewers/edge_probe.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace cdn::viewers {
namespace {

TEST(EdgeProbe, CpuFromStatSkipsAnAwkwardCommandName) {
  // utime 250 and stime 50 ticks (fields 14 and 15), a name with spaces and a ')'.
  std::string stat = "1234 (cdn edge) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0";
  auto cpu = cpu_seconds_from_stat(stat, 100);
  ASSERT_TRUE(cpu);
  EXPECT_DOUBLE_EQ(*cpu, 3.0);
  EXPECT_FALSE(cpu_seconds_from_stat("garbage", 100));
  EXPECT_FALSE(cpu_seconds_from_stat("1 (x) S 1 2", 100));
}

TEST(EdgeProbe, RssFromStatus) {
  auto rss = rss_kib_from_status(
      "Name:\tcdn-edge\nVmPeak:\t  900 kB\nVmRSS:\t   51234 kB\nRssAnon:\t 1 kB\n");
  ASSERT_TRUE(rss);
  EXPECT_EQ(*rss, 51234u);
  EXPECT_FALSE(rss_kib_from_status("Name:\tx\n"));
}

TEST(EdgeProbe, RunQueueWaitFromSchedstat) {
  auto w = runqueue_wait_from_schedstat("16128 2500000000 2\n");
  ASSERT_TRUE(w);
  EXPECT_DOUBLE_EQ(*w, 2.5);
  EXPECT_FALSE(runqueue_wait_from_schedstat("x"));
}

TEST(EdgeProbe, ReadsThisProcess) {
  auto u = read_proc_usage(int(getpid()));
  ASSERT_TRUE(u);
  EXPECT_GT(u->rss_kib, 0u);
  EXPECT_GE(u->cpu_s, 0);
  EXPECT_GE(u->runqueue_wait_s, 0);
}

}  // namespace
}  // namespace cdn::viewers
