#pragma once
// Prometheus metrics. Updating a metric is one relaxed atomic operation; looking one up takes a
// mutex, so hot paths look up once and keep the reference (references are never invalidated).
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdn::obs {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  void add(int64_t d) { v_.fetch_add(d, std::memory_order_relaxed); }
  int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

class Histogram {
 public:
  // Upper bounds (sorted and de-duplicated here; +Inf is implicit and must not be given).
  explicit Histogram(std::vector<double> bounds);
  // Counts v in the first bucket with v <= bound. NaN is ignored.
  void observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative counts, one per bound plus the +Inf bucket (so the last one is the count).
  std::vector<uint64_t> cumulative_counts() const;
  uint64_t count() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

class Registry;

// Keeps a collector registered while it lives. Whoever owns what a collector reads holds this
// and drops it first, so render() never calls into a destroyed object.
class CollectorHandle {
 public:
  CollectorHandle() = default;
  CollectorHandle(CollectorHandle&& o) noexcept { *this = std::move(o); }
  CollectorHandle& operator=(CollectorHandle&& o) noexcept;
  ~CollectorHandle() { reset(); }
  void reset();  // removes the collector now (waits for a render that is running it)

 private:
  friend class Registry;
  CollectorHandle(Registry* r, uint64_t id) : registry_(r), id_(id) {}
  Registry* registry_ = nullptr;
  uint64_t id_ = 0;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Returns a stable reference; the same name + labels (in any order) give the same object.
  // Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*. A bad name, or a
  // name already registered with another type, is a programming error: it is reported on stderr
  // once and a working but unexported metric is returned. A histogram family keeps the buckets
  // given at its first registration.
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help,
                       std::vector<double> buckets, const Labels& labels = {});

  // Called at the start of every render(), e.g. to set gauges for values owned elsewhere.
  // Collectors may call counter()/gauge()/histogram() but not render() or add_collector(). The
  // collector runs until the returned handle is destroyed or reset.
  [[nodiscard]] CollectorHandle add_collector(std::function<void(Registry&)> fn);

  // Prometheus text exposition format 0.0.4: families sorted by name, # HELP and # TYPE once per
  // family, series sorted by labels, label values escaped (\\, \", \n).
  std::string render();

 private:
  enum class Type { Counter, Gauge, Histogram };
  struct Family;
  Family* family(const std::string& name, const std::string& help, Type type,
                 const Labels& labels);
  template <typename M, typename Make>
  M& series(const std::string& name, const std::string& help, Type type, const Labels& labels,
            Make make);

  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;
  // Results of misuse by (name, type): kept alive, never rendered.
  std::map<std::pair<std::string, int>, std::unique_ptr<Family>> orphans_;
  friend class CollectorHandle;
  void remove_collector(uint64_t id);

  std::mutex collectors_mu_;
  uint64_t next_collector_id_ = 1;
  std::vector<std::pair<uint64_t, std::function<void(Registry&)>>> collectors_;
};

// The process-wide registry (never destroyed, so references stay valid during exit).
Registry& metrics();

// Helpers for the text format, exported for tests and other exporters.
std::string escape_label_value(std::string_view v);
std::string format_double(double v);  // shortest round-trip; +Inf, -Inf, NaN

}  // namespace cdn::obs
