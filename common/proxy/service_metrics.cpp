#include "common/proxy/service_metrics.h"

#include <algorithm>
#include <mutex>
#include <vector>

namespace cdn::proxy {

namespace {

struct LabelState {
  std::mutex mu;
  std::vector<std::string> names;                         // the capped set, in the order first seen
  std::vector<std::pair<Lookup, obs::Counter*>> lookups;  // every lookup counter made
};

LabelState& state() {
  static LabelState* s = new LabelState();  // never destroyed: counters are read during exit
  return *s;
}

const char* result_name(int i) {
  static const char* kNames[kLookupResults] = {"hit", "miss", "stale", "revalidated"};
  return kNames[i];
}

}  // namespace

std::string capped_service_label(std::string_view service_name) {
  LabelState& s = state();
  std::lock_guard lk(s.mu);
  if (std::find(s.names.begin(), s.names.end(), service_name) != s.names.end())
    return std::string(service_name);
  if (s.names.size() >= kMaxServiceLabels) return "other";
  s.names.emplace_back(service_name);
  return std::string(service_name);
}

obs::Labels with_service(obs::Labels labels, std::string_view label) {
  if (!label.empty()) labels.emplace_back("service", std::string(label));
  return labels;
}

obs::Counter& lookup_counter(Lookup result, std::string_view service_label) {
  auto& c =
      obs::metrics().counter("cdn_cache_lookups_total", "Cache lookups by result",
                             with_service({{"result", result_name(int(result))}}, service_label));
  LabelState& s = state();
  std::lock_guard lk(s.mu);
  std::pair<Lookup, obs::Counter*> entry{result, &c};
  if (std::find(s.lookups.begin(), s.lookups.end(), entry) == s.lookups.end())
    s.lookups.push_back(entry);
  return c;
}

uint64_t lookups_total(const Lookup* result) {
  LabelState& s = state();
  std::lock_guard lk(s.mu);
  uint64_t n = 0;
  for (auto [r, c] : s.lookups)
    if (!result || r == *result) n += c->value();
  return n;
}

}  // namespace cdn::proxy
