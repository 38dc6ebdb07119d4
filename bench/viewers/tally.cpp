#include "bench/viewers/tally.h"

#include <cmath>

namespace cdn::viewers {

namespace json = auth::json;

uint64_t Tally::errors() const {
  uint64_t n = 0;
  for (auto& [k, v] : errors_by_status) n += v;
  return n;
}

void Tally::add_error(int status, const std::string& reason) {
  ++errors_by_status[std::to_string(status)];
  ++errors_by_reason[reason.empty() ? "status-" + std::to_string(status) : reason];
}

void Tally::merge(const Tally& o) {
  joins += o.joins;
  leaves += o.leaves;
  segments += o.segments;
  segment_bytes += o.segment_bytes;
  playlists += o.playlists;
  playlist_bytes += o.playlist_bytes;
  wire_bytes += o.wire_bytes;
  stalls += o.stalls;
  missed_segments += o.missed_segments;
  discontinuities += o.discontinuities;
  blocking_reloads += o.blocking_reloads;
  connects += o.connects;
  tls_resumed += o.tls_resumed;
  played_s += o.played_s;
  stalled_s += o.stalled_s;
  for (auto& [k, v] : o.errors_by_status) errors_by_status[k] += v;
  for (auto& [k, v] : o.errors_by_reason) errors_by_reason[k] += v;
  startup_us.merge(o.startup_us);
  segment_us.merge(o.segment_us);
}

json::Value json_uint(uint64_t v) {
  return json::Value{json::Number{
      double(v), v <= uint64_t(INT64_MAX) ? std::optional<int64_t>(int64_t(v)) : std::nullopt}};
}

json::Value json_real(double v) {
  if (!std::isfinite(v)) v = 0;
  return json::Value{json::Number{v, std::nullopt}};
}

namespace {

json::Value histogram_json(const Histogram& h) {
  json::Array buckets;
  for (auto [i, n] : h.sparse())
    buckets.push_back(json::Value{json::Array{json_uint(i), json_uint(n)}});
  json::Object o;
  o.push_back({"buckets", json::Value{std::move(buckets)}});
  o.push_back({"sum", json_uint(h.sum())});
  o.push_back({"max", json_uint(h.max())});
  return json::Value{std::move(o)};
}

bool histogram_from(const json::Value* v, Histogram& h) {
  if (!v || !v->as_object()) return false;
  const json::Value* b = v->find("buckets");
  if (!b || !b->as_array()) return false;
  for (const json::Value& pair : *b->as_array()) {
    const json::Array* a = pair.as_array();
    if (!a || a->size() != 2 || !(*a)[0].as_int() || !(*a)[1].as_int()) return false;
    h.add_bucket(uint32_t(*(*a)[0].as_int()), uint64_t(*(*a)[1].as_int()));
  }
  const json::Value* sum = v->find("sum");
  const json::Value* max = v->find("max");
  if (!sum || !max || !sum->as_int() || !max->as_int()) return false;
  h.add_sum(uint64_t(*sum->as_int()));
  h.set_max(uint64_t(*max->as_int()));
  return true;
}

json::Value map_json(const std::map<std::string, uint64_t>& m) {
  json::Object o;
  for (auto& [k, v] : m) o.push_back({k, json_uint(v)});
  return json::Value{std::move(o)};
}

bool map_from(const json::Value* v, std::map<std::string, uint64_t>& m) {
  if (!v || !v->as_object()) return false;
  for (const json::Member& mem : *v->as_object()) {
    if (!mem.value.as_int()) return false;
    m[mem.key] += uint64_t(*mem.value.as_int());
  }
  return true;
}

// The counters in one table, so writing and reading cannot disagree on a name.
template <typename T, typename F>
void each_counter(T& t, F&& f) {
  f("joins", t.joins);
  f("leaves", t.leaves);
  f("segments", t.segments);
  f("segment_bytes", t.segment_bytes);
  f("playlists", t.playlists);
  f("playlist_bytes", t.playlist_bytes);
  f("wire_bytes", t.wire_bytes);
  f("stalls", t.stalls);
  f("missed_segments", t.missed_segments);
  f("discontinuities", t.discontinuities);
  f("blocking_reloads", t.blocking_reloads);
  f("connects", t.connects);
  f("tls_resumed", t.tls_resumed);
}

}  // namespace

json::Value to_json(const Tally& t) {
  json::Object o;
  each_counter(t, [&](const char* name, uint64_t v) { o.push_back({name, json_uint(v)}); });
  o.push_back({"played_s", json_real(t.played_s)});
  o.push_back({"stalled_s", json_real(t.stalled_s)});
  o.push_back({"errors_by_status", map_json(t.errors_by_status)});
  o.push_back({"errors_by_reason", map_json(t.errors_by_reason)});
  o.push_back({"startup_us", histogram_json(t.startup_us)});
  o.push_back({"segment_us", histogram_json(t.segment_us)});
  return json::Value{std::move(o)};
}

Result<Tally> tally_from_json(const json::Value& v) {
  Tally t;
  bool ok = v.as_object() != nullptr;
  each_counter(t, [&](const char* name, uint64_t& field) {
    const json::Value* f = ok ? v.find(name) : nullptr;
    if (!f || !f->as_int() || *f->as_int() < 0) {
      ok = false;
      return;
    }
    field = uint64_t(*f->as_int());
  });
  if (!ok) return Error{"tally: a counter is missing or not a count"};
  const json::Value* played = v.find("played_s");
  const json::Value* stalled = v.find("stalled_s");
  if (!played || !stalled || !played->as_number() || !stalled->as_number())
    return Error{"tally: played_s/stalled_s"};
  t.played_s = played->as_number()->d;
  t.stalled_s = stalled->as_number()->d;
  if (!map_from(v.find("errors_by_status"), t.errors_by_status) ||
      !map_from(v.find("errors_by_reason"), t.errors_by_reason))
    return Error{"tally: errors"};
  if (!histogram_from(v.find("startup_us"), t.startup_us) ||
      !histogram_from(v.find("segment_us"), t.segment_us))
    return Error{"tally: histograms"};
  return t;
}

}  // namespace cdn::viewers
