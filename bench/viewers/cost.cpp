#include "bench/viewers/cost.h"

namespace cdn::viewers {

namespace json = auth::json;

namespace {

void add(CostWindow& w, const SecondRow& r) {
  if (w.seconds++ == 0) w.first_t = r.t;
  w.last_t = r.t;
  w.edge_cpu_s += r.edge_cpu_s;
  if (r.sim_cpu_s >= 0) {
    w.sim_cpu_s += r.sim_cpu_s;
    w.sim_measured = true;
  }
  w.joins += r.tally.joins;
  w.segments += r.tally.segments;
  w.playlists += r.tally.playlists;
}

double per(double cpu_s, uint64_t n, double unit) {
  return n ? cpu_s * unit / double(n) : 0;
}

// A join's own cost: the flash crowd's CPU less what its segments would cost at the steady rate.
double net_per_join_ms(double cpu_s, const CostWindow& w, double steady_s_per_segment) {
  return w.joins ? (cpu_s - steady_s_per_segment * double(w.segments)) * 1e3 / double(w.joins) : 0;
}

json::Value window_json(const CostWindow& w, const CostWindow* steady) {
  bool per_join = steady != &w;
  json::Object o;
  o.push_back({"from_s", json_uint(w.first_t)});
  o.push_back({"to_s", json_uint(w.last_t)});
  o.push_back({"joins", json_uint(w.joins)});
  o.push_back({"segments", json_uint(w.segments)});
  o.push_back({"playlists", json_uint(w.playlists)});
  o.push_back({"edge_cpu_s", json_real(w.edge_cpu_s)});
  if (per_join) o.push_back({"edge_cpu_ms_per_join", json_real(per(w.edge_cpu_s, w.joins, 1e3))});
  if (per_join && steady && steady->segments)
    o.push_back({"edge_cpu_ms_per_join_less_segments",
                 json_real(net_per_join_ms(w.edge_cpu_s, w,
                                           steady->edge_cpu_s / double(steady->segments)))});
  o.push_back({"edge_cpu_us_per_segment", json_real(per(w.edge_cpu_s, w.segments, 1e6))});
  if (w.sim_measured) {
    o.push_back({"simulator_cpu_s", json_real(w.sim_cpu_s)});
    if (per_join)
      o.push_back({"simulator_cpu_ms_per_join", json_real(per(w.sim_cpu_s, w.joins, 1e3))});
    if (per_join && steady && steady->segments && steady->sim_measured)
      o.push_back({"simulator_cpu_ms_per_join_less_segments",
                   json_real(net_per_join_ms(w.sim_cpu_s, w,
                                             steady->sim_cpu_s / double(steady->segments)))});
    o.push_back({"simulator_cpu_us_per_segment", json_real(per(w.sim_cpu_s, w.segments, 1e6))});
  }
  return json::Value{std::move(o)};
}

}  // namespace

Costs split_costs(const std::vector<SecondRow>& rows, uint64_t viewers, uint64_t settle_s) {
  Costs c;
  size_t first_join = rows.size(), last_join = rows.size(), all_playing = rows.size();
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].tally.joins > 0) {
      if (first_join == rows.size()) first_join = i;
      last_join = i;
    }
    if (first_join != rows.size() && all_playing == rows.size() && rows[i].playing >= viewers)
      all_playing = i;
  }
  if (first_join == rows.size()) return c;
  size_t flash_end = all_playing != rows.size() ? all_playing : last_join;
  CostWindow flash, steady;
  for (size_t i = first_join; i <= flash_end; ++i)
    if (rows[i].edge_cpu_s >= 0) add(flash, rows[i]);
  // The last row is the one in which the viewers leave: not steady.
  for (size_t i = flash_end + 1 + settle_s; i + 1 < rows.size(); ++i)
    if (rows[i].edge_cpu_s >= 0) add(steady, rows[i]);
  if (flash.seconds) c.flash = flash;
  if (steady.seconds) c.steady = steady;
  return c;
}

json::Value costs_json(const Costs& c) {
  json::Object o;
  const CostWindow* steady = c.steady ? &*c.steady : nullptr;
  if (c.flash) o.push_back({"flash_crowd", window_json(*c.flash, steady)});
  if (c.steady) o.push_back({"steady", window_json(*c.steady, steady)});
  return json::Value{std::move(o)};
}

}  // namespace cdn::viewers
