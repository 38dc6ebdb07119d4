#include "common/obs/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

namespace cdn::obs {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::erase_if(bounds_, [](double b) { return std::isnan(b) || std::isinf(b); });
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  counts_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
}

void Histogram::observe(double v) {
  if (std::isnan(v)) return;
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::cumulative_counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i < out.size(); ++i) out[i] = total += counts_[i].load(std::memory_order_relaxed);
  return out;
}

uint64_t Histogram::count() const { return cumulative_counts().back(); }

namespace {

bool valid_name(const std::string& n, bool allow_colon) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// `{a="1",b="2"}` plus an optional extra label (for le); empty when there are none.
std::string label_text(const Labels& labels, const std::string& extra_name = {},
                       const std::string& extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return {};
  std::string out = "{";
  auto add = [&](const std::string& k, const std::string& v) {
    if (out.size() > 1) out += ',';
    out += k + "=\"" + escape_label_value(v) + "\"";
  };
  for (const auto& [k, v] : labels) add(k, v);
  if (!extra_name.empty()) add(extra_name, extra_value);
  return out + "}";
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_double(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return std::to_string(v);
  return std::string(buf, p);
}

struct Registry::Family {
  Family(std::string h, Type t) : help(std::move(h)), type(t) {}
  std::string help;
  Type type;
  std::optional<std::vector<double>> buckets;  // histograms: set by the first series
  std::map<Labels, std::unique_ptr<Counter>> counters;
  std::map<Labels, std::unique_ptr<Gauge>> gauges;
  std::map<Labels, std::unique_ptr<Histogram>> histograms;

  auto& map(Counter*) { return counters; }
  auto& map(Gauge*) { return gauges; }
  auto& map(Histogram*) { return histograms; }
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family* Registry::family(const std::string& name, const std::string& help, Type type,
                                   const Labels& labels) {
  std::string problem;
  if (!valid_name(name, true)) problem = "invalid metric name";
  for (const auto& [k, v] : labels) {
    if (!valid_name(k, false) || k.starts_with("__") || (type == Type::Histogram && k == "le"))
      problem = "invalid label name \"" + k + "\"";
  }
  for (size_t i = 0; i < labels.size(); ++i)
    for (size_t j = i + 1; j < labels.size(); ++j)
      if (labels[i].first == labels[j].first) problem = "duplicate label \"" + labels[i].first + "\"";
  auto it = families_.find(name);
  if (problem.empty() && it != families_.end() && it->second->type != type)
    problem = "registered before with another type";
  if (!problem.empty()) {
    auto& orphan = orphans_[{name, static_cast<int>(type)}];
    if (!orphan) {
      std::fprintf(stderr, "metrics: %s: %s; this metric is not exported\n", name.c_str(),
                   problem.c_str());
      orphan = std::make_unique<Family>(help, type);
    }
    return orphan.get();
  }
  if (it == families_.end())
    it = families_.emplace(name, std::make_unique<Family>(help, type)).first;
  return it->second.get();
}

template <typename M, typename Make>
M& Registry::series(const std::string& name, const std::string& help, Type type,
                    const Labels& labels, Make make) {
  Labels key = labels;
  std::sort(key.begin(), key.end());
  std::lock_guard lock(mu_);
  Family* f = family(name, help, type, key);
  auto& m = f->map(static_cast<M*>(nullptr));
  auto& slot = m[key];
  if (!slot) slot = make(*f);
  return *slot;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  return series<Counter>(name, help, Type::Counter, labels,
                         [](Family&) { return std::make_unique<Counter>(); });
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  return series<Gauge>(name, help, Type::Gauge, labels,
                       [](Family&) { return std::make_unique<Gauge>(); });
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               std::vector<double> buckets, const Labels& labels) {
  return series<Histogram>(name, help, Type::Histogram, labels, [&](Family& f) {
    if (!f.buckets) f.buckets = std::move(buckets);
    return std::make_unique<Histogram>(*f.buckets);
  });
}

CollectorHandle Registry::add_collector(std::function<void(Registry&)> fn) {
  std::lock_guard lock(collectors_mu_);
  uint64_t id = next_collector_id_++;
  collectors_.emplace_back(id, std::move(fn));
  return CollectorHandle(this, id);
}

void Registry::remove_collector(uint64_t id) {
  std::lock_guard lock(collectors_mu_);
  std::erase_if(collectors_, [id](const auto& c) { return c.first == id; });
}

CollectorHandle& CollectorHandle::operator=(CollectorHandle&& o) noexcept {
  if (this != &o) {
    reset();
    registry_ = std::exchange(o.registry_, nullptr);
    id_ = std::exchange(o.id_, 0);
  }
  return *this;
}

void CollectorHandle::reset() {
  if (registry_) registry_->remove_collector(id_);
  registry_ = nullptr;
}

std::string Registry::render() {
  {
    std::lock_guard lock(collectors_mu_);
    for (auto& [id, fn] : collectors_) fn(*this);
  }
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, f] : families_) {
    static constexpr const char* kTypes[] = {"counter", "gauge", "histogram"};
    out += "# HELP " + name + " " + escape_help(f->help) + "\n";
    out += "# TYPE " + name + " " + kTypes[static_cast<int>(f->type)] + "\n";
    for (const auto& [labels, c] : f->counters)
      out += name + label_text(labels) + " " + std::to_string(c->value()) + "\n";
    for (const auto& [labels, g] : f->gauges)
      out += name + label_text(labels) + " " + std::to_string(g->value()) + "\n";
    for (const auto& [labels, h] : f->histograms) {
      std::vector<uint64_t> cum = h->cumulative_counts();
      for (size_t i = 0; i < cum.size(); ++i) {
        std::string le = i < h->bounds().size() ? format_double(h->bounds()[i]) : "+Inf";
        out += name + "_bucket" + label_text(labels, "le", le) + " " + std::to_string(cum[i]) + "\n";
      }
      out += name + "_sum" + label_text(labels) + " " + format_double(h->sum()) + "\n";
      out += name + "_count" + label_text(labels) + " " + std::to_string(cum.back()) + "\n";
    }
  }
  return out;
}

Registry& metrics() {
  static Registry* r = new Registry;
  return *r;
}

}  // namespace cdn::obs
