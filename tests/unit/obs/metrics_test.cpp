#include "common/obs/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <thread>

namespace cdn::obs {
namespace {

struct Sample {
  std::string name;
  Labels labels;
  std::string value;
};

struct Exposition {
  std::vector<std::string> help, type;  // "name text" in order of appearance
  std::vector<Sample> samples;

  // Value of the one sample with this name and exactly these labels (any order).
  std::optional<std::string> get(const std::string& name, Labels labels = {}) const {
    std::sort(labels.begin(), labels.end());
    for (const auto& s : samples) {
      Labels l = s.labels;
      std::sort(l.begin(), l.end());
      if (s.name == name && l == labels) return s.value;
    }
    return std::nullopt;
  }
};

// Parses the text format strictly enough to catch escaping mistakes.
std::optional<Exposition> parse(const std::string& text) {
  Exposition e;
  size_t pos = 0;
  if (text.empty() || text.back() != '\n') return std::nullopt;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.rfind("# HELP ", 0) == 0) { e.help.push_back(line.substr(7)); continue; }
    if (line.rfind("# TYPE ", 0) == 0) { e.type.push_back(line.substr(7)); continue; }
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') s.name += line[i++];
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::string k, v;
        while (i < line.size() && line[i] != '=') k += line[i++];
        if (line.compare(i, 2, "=\"") != 0) return std::nullopt;
        i += 2;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\') {
            if (++i >= line.size()) return std::nullopt;
            char c = line[i];
            if (c == 'n') v += '\n';
            else if (c == '\\' || c == '"') v += c;
            else return std::nullopt;
          } else {
            v += line[i];
          }
          ++i;
        }
        if (i >= line.size()) return std::nullopt;
        ++i;  // closing quote
        s.labels.emplace_back(k, v);
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return std::nullopt;
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') return std::nullopt;
    s.value = line.substr(i + 1);
    if (s.value.empty() || s.value.find(' ') != std::string::npos) return std::nullopt;
    e.samples.push_back(std::move(s));
  }
  return e;
}

TEST(Metrics, CounterAndGaugeRenderAndParseBack) {
  Registry r;
  r.counter("cdn_requests_total", "Requests by status", {{"status", "200"}}).inc(3);
  r.counter("cdn_requests_total", "Requests by status", {{"status", "404"}}).inc();
  r.gauge("cdn_stream_sessions_active", "Active sessions").set(7);
  r.gauge("cdn_stream_sessions_active", "Active sessions").add(-2);
  auto e = parse(r.render());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->get("cdn_requests_total", {{"status", "200"}}), "3");
  EXPECT_EQ(e->get("cdn_requests_total", {{"status", "404"}}), "1");
  EXPECT_EQ(e->get("cdn_stream_sessions_active"), "5");
  EXPECT_EQ(e->help, (std::vector<std::string>{"cdn_requests_total Requests by status",
                                               "cdn_stream_sessions_active Active sessions"}));
  EXPECT_EQ(e->type, (std::vector<std::string>{"cdn_requests_total counter",
                                               "cdn_stream_sessions_active gauge"}));
}

TEST(Metrics, SameNameAndLabelsGiveTheSameObject) {
  Registry r;
  Counter& a = r.counter("cdn_x_total", "x", {{"a", "1"}, {"b", "2"}});
  Counter& b = r.counter("cdn_x_total", "x", {{"b", "2"}, {"a", "1"}});
  Counter& c = r.counter("cdn_x_total", "x", {{"a", "1"}, {"b", "3"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  // Stable across many later registrations.
  for (int i = 0; i < 1000; ++i) r.counter("cdn_x_total", "x", {{"a", std::to_string(i)}});
  EXPECT_EQ(&a, &r.counter("cdn_x_total", "x", {{"a", "1"}, {"b", "2"}}));
}

TEST(Metrics, FamiliesSortedHelpAndTypeOnce) {
  Registry r;
  r.counter("cdn_zeta_total", "z").inc();
  r.gauge("cdn_alpha", "a", {{"k", "2"}}).set(1);
  r.gauge("cdn_alpha", "a", {{"k", "1"}}).set(2);
  const std::string text = r.render();
  EXPECT_EQ(text,
            "# HELP cdn_alpha a\n# TYPE cdn_alpha gauge\n"
            "cdn_alpha{k=\"1\"} 2\ncdn_alpha{k=\"2\"} 1\n"
            "# HELP cdn_zeta_total z\n# TYPE cdn_zeta_total counter\ncdn_zeta_total 1\n");
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  Registry r;
  const std::string nasty = "a\\b\"c\nd}e,f=g";
  r.counter("cdn_escape_total", "help with \\ and\nnewline", {{"v", nasty}}).inc(2);
  const std::string text = r.render();
  EXPECT_NE(text.find("# HELP cdn_escape_total help with \\\\ and\\nnewline\n"), std::string::npos);
  EXPECT_NE(text.find("cdn_escape_total{v=\"a\\\\b\\\"c\\nd}e,f=g\"} 2\n"), std::string::npos) << text;
  auto e = parse(text);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->get("cdn_escape_total", {{"v", nasty}}), "2");
  EXPECT_EQ(escape_label_value("x\"y"), "x\\\"y");
}

TEST(Metrics, HistogramBuckets) {
  Registry r;
  Histogram& h = r.histogram("cdn_latency_seconds", "Latency", {1, 0.1, 0.5, 0.5}, {{"tier", "edge"}});
  for (double v : {0.05, 0.1, 0.2, 0.5, 0.7, 3.0, std::nan("")}) h.observe(v);
  EXPECT_EQ(h.bounds(), (std::vector<double>{0.1, 0.5, 1}));
  EXPECT_EQ(h.cumulative_counts(), (std::vector<uint64_t>{2, 4, 5, 6}));
  EXPECT_EQ(h.count(), 6u);
  EXPECT_DOUBLE_EQ(h.sum(), 0.05 + 0.1 + 0.2 + 0.5 + 0.7 + 3.0);
  auto e = parse(r.render());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, std::vector<std::string>{"cdn_latency_seconds histogram"});
  const Labels t{{"tier", "edge"}};
  auto le = [&](const char* v) { Labels l = t; l.emplace_back("le", v); return l; };
  EXPECT_EQ(e->get("cdn_latency_seconds_bucket", le("0.1")), "2");
  EXPECT_EQ(e->get("cdn_latency_seconds_bucket", le("0.5")), "4");
  EXPECT_EQ(e->get("cdn_latency_seconds_bucket", le("1")), "5");
  EXPECT_EQ(e->get("cdn_latency_seconds_bucket", le("+Inf")), "6");
  EXPECT_EQ(e->get("cdn_latency_seconds_count", t), "6");
  EXPECT_DOUBLE_EQ(std::stod(*e->get("cdn_latency_seconds_sum", t)), h.sum());
  // Another series of the family keeps the family's buckets.
  Histogram& h2 = r.histogram("cdn_latency_seconds", "Latency", {42}, {{"tier", "shield"}});
  EXPECT_EQ(h2.bounds(), h.bounds());
}

TEST(Metrics, FormatDouble) {
  EXPECT_EQ(format_double(0.005), "0.005");
  EXPECT_EQ(format_double(1), "1");
  EXPECT_EQ(format_double(2.5e10), "2.5e+10");
  EXPECT_EQ(std::stod(format_double(0.1 + 0.2)), 0.1 + 0.2);  // round-trips
  EXPECT_EQ(format_double(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_double(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_double(std::nan("")), "NaN");
}

TEST(Metrics, MisuseReturnsAWorkingUnexportedMetric) {
  Registry r;
  r.counter("cdn_thing", "t").inc();
  Gauge& g = r.gauge("cdn_thing", "t");  // type clash
  g.set(5);
  EXPECT_EQ(&g, &r.gauge("cdn_thing", "t"));
  r.counter("bad name", "t").inc();
  r.counter("cdn_ok_total", "t", {{"bad-label", "x"}}).inc();
  r.histogram("cdn_h", "t", {1}, {{"le", "x"}}).observe(1);
  const std::string text = r.render();
  EXPECT_EQ(text, "# HELP cdn_thing t\n# TYPE cdn_thing counter\ncdn_thing 1\n");
}

TEST(Metrics, CollectorsRunAtRenderTime) {
  Registry r;
  int64_t size = 10;
  auto handle = r.add_collector([&](Registry& reg) { reg.gauge("cdn_cache_bytes", "Cache bytes").set(size); });
  EXPECT_NE(r.render().find("cdn_cache_bytes 10\n"), std::string::npos);
  size = 20;
  EXPECT_NE(r.render().find("cdn_cache_bytes 20\n"), std::string::npos);
}

TEST(Metrics, ACollectorStopsWhenItsHandleGoes) {
  Registry r;
  int runs = 0;
  {
    auto handle = r.add_collector([&](Registry&) { ++runs; });
    auto moved = std::move(handle);  // a moved-from handle removes nothing
    handle.reset();
    r.render();
    EXPECT_EQ(runs, 1);
  }
  r.render();
  EXPECT_EQ(runs, 1);
  auto kept = r.add_collector([&](Registry&) { ++runs; });
  kept.reset();
  r.render();
  EXPECT_EQ(runs, 1);
}

TEST(Metrics, ConcurrentUpdatesAndLookups) {
  Registry r;
  Counter& c = r.counter("cdn_c_total", "c");
  Histogram& h = r.histogram("cdn_h", "h", {1, 2});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        h.observe(i % 3);
        r.counter("cdn_c_total", "c", {{"t", std::to_string(t)}}).inc();
        if (i % 1000 == 0) r.render();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000u);
  EXPECT_EQ(h.count(), 40000u);
  auto e = parse(r.render());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->get("cdn_c_total", {{"t", "3"}}), "10000");
}

TEST(Metrics, ProcessRegistryIsShared) {
  Counter& a = metrics().counter("cdn_test_shared_total", "t");
  a.inc();
  EXPECT_EQ(&a, &metrics().counter("cdn_test_shared_total", "t"));
}

}  // namespace
}  // namespace cdn::obs
