#include "bench/viewers/run_report.h"

#include <gtest/gtest.h>

namespace cdn::viewers {
namespace {

namespace json = auth::json;

std::string tick_line(uint32_t proc, uint64_t t, uint64_t playing, const Tally& tally) {
  json::Object o;
  o.push_back({"proc", json_uint(proc)});
  o.push_back({"t", json_uint(t)});
  o.push_back({"playing", json_uint(playing)});
  o.push_back({"active", json_uint(playing)});
  o.push_back({"tally", to_json(tally)});
  return json::serialize(json::Value{std::move(o)});
}

Tally some(uint64_t segments, double played, double stalled) {
  Tally t;
  t.segments = segments;
  t.played_s = played;
  t.stalled_s = stalled;
  t.stalls = stalled > 0;
  for (uint64_t i = 0; i < segments; ++i) t.segment_us.add(1000 * (i + 1));
  t.startup_us.add(500000);
  t.add_error(503, "upstream-unavailable");
  t.add_error(0, "timeout");
  return t;
}

TEST(Tally, JsonRoundTrip) {
  Tally t = some(10, 20.5, 0.25);
  auto back = tally_from_json(to_json(t));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->segments, 10u);
  EXPECT_DOUBLE_EQ(back->played_s, 20.5);
  EXPECT_DOUBLE_EQ(back->rebuffer_ratio(), 0.25 / 20.5);
  EXPECT_EQ(back->errors(), 2u);
  EXPECT_EQ(back->errors_by_status.at("503"), 1u);
  EXPECT_EQ(back->errors_by_reason.at("timeout"), 1u);
  EXPECT_EQ(back->segment_us.percentile(99), t.segment_us.percentile(99));
  EXPECT_EQ(back->segment_us.max(), 10000u);
  EXPECT_FALSE(tally_from_json(json::Value{json::Object{}}));
}

TEST(RunReport, ASecondIsCompleteOnceEveryRunningProcessReportedIt) {
  Options o;
  o.procs = 2;
  o.viewers = 10;
  RunReport r(o);
  ASSERT_TRUE(r.add_line(tick_line(0, 1, 3, some(2, 1, 0))));
  EXPECT_TRUE(r.take_complete_rows().empty());  // process 1 has not said anything about second 1
  ASSERT_TRUE(r.add_line(tick_line(0, 2, 4, some(1, 1, 0))));
  ASSERT_TRUE(r.add_line(tick_line(1, 1, 5, some(3, 1, 0))));
  auto rows = r.take_complete_rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].t, 1u);
  EXPECT_EQ(rows[0].playing, 8u);
  EXPECT_EQ(rows[0].tally.segments, 5u);
  EXPECT_EQ(rows[0].tally.segment_us.count(), 5u);
  r.process_finished(1);  // process 1 ended: second 2 waits for nobody
  rows = r.take_complete_rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].t, 2u);
  EXPECT_EQ(rows[0].playing, 4u);
  EXPECT_FALSE(r.add_line("{\"proc\":7,\"t\":1,\"playing\":0,\"active\":0}"));
  EXPECT_FALSE(r.add_line("not json"));
}

TEST(RunReport, SummaryRebufferRatioComesFromItsParts) {
  Options o;
  o.procs = 2;
  o.viewers = 4;
  RunReport r(o);
  for (uint32_t p = 0; p < 2; ++p) {
    json::Object f;
    f.push_back({"proc", json_uint(p)});
    f.push_back({"final", json::Value{true}});
    f.push_back({"seconds", json_real(10)});
    f.push_back({"tally", to_json(some(4, 40, p == 0 ? 0.4 : 0))});
    ASSERT_TRUE(r.add_line(json::serialize(json::Value{std::move(f)})));
  }
  auto s = json::parse(r.summary_json());
  ASSERT_TRUE(s);
  EXPECT_EQ(*s->find("segments")->as_int(), 8);
  EXPECT_DOUBLE_EQ(s->find("played_s")->as_number()->d, 80);
  EXPECT_DOUBLE_EQ(s->find("stalled_s")->as_number()->d, 0.4);
  EXPECT_DOUBLE_EQ(s->find("rebuffer_ratio")->as_number()->d, 0.4 / 80);
  EXPECT_EQ(*s->find("errors")->find("total")->as_int(), 4);
  EXPECT_EQ(*s->find("errors")->find("by_status")->find("503")->as_int(), 2);
  EXPECT_TRUE(*s->find("all_processes_reported")->as_bool());
  EXPECT_DOUBLE_EQ(s->find("startup_ms")->find("p50")->as_number()->d, 500.0);
}

}  // namespace
}  // namespace cdn::viewers
