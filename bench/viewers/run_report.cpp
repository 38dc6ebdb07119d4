#include "bench/viewers/run_report.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "bench/viewers/cost.h"

namespace cdn::viewers {

namespace json = auth::json;

namespace {
double mono_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double mbit(uint64_t bytes, double seconds) {
  return seconds > 0 ? double(bytes) * 8 / 1e6 / seconds : 0;
}
double ms(uint64_t us) {
  return double(us) / 1000;
}
}  // namespace

bool RunReport::add_line(const std::string& line) {
  auto v = json::parse(line, json::Limits{16u << 20, 16});
  if (!v || !v->as_object()) return false;
  const json::Value* tally = v->find("tally");
  if (!tally) return false;
  auto t = tally_from_json(*tally);
  if (!t) return false;
  if (const json::Value* fin = v->find("final"); fin && fin->as_bool() && *fin->as_bool()) {
    total_.merge(t.value());
    ++finals_;
    if (const json::Value* s = v->find("seconds"); s && s->as_number())
      seconds_ = std::max(seconds_, s->as_number()->d);
    return true;
  }
  const json::Value* proc = v->find("proc");
  if (!proc || !proc->as_int() || *proc->as_int() < 0 || size_t(*proc->as_int()) >= last_t_.size())
    return false;
  const json::Value* sec = v->find("t");
  const json::Value* playing = v->find("playing");
  const json::Value* active = v->find("active");
  if (!sec || !sec->as_int() || !playing || !playing->as_int() || !active || !active->as_int())
    return false;
  SecondRow& row = pending_[uint64_t(*sec->as_int())];
  row.t = uint64_t(*sec->as_int());
  row.playing += uint64_t(*playing->as_int());
  row.active += uint64_t(*active->as_int());
  row.tally.merge(t.value());
  ++row.reported;
  last_t_[size_t(*proc->as_int())] = row.t;
  return true;
}

std::vector<SecondRow> RunReport::take_complete_rows() {
  // A process reports its seconds in order, so second t is complete once every process reported
  // t or ended.
  std::vector<SecondRow> out;
  while (!pending_.empty()) {
    auto it = pending_.begin();
    for (size_t p = 0; p < last_t_.size(); ++p)
      if (!done_[p] && last_t_[p] < it->first) return out;
    out.push_back(std::move(it->second));
    pending_.erase(it);
  }
  return out;
}

void RunReport::start_probes() {
  SecondRow baseline;
  probe_edge(baseline);
}

void RunReport::probe_edge(SecondRow& row) {
  double now = mono_s();
  if (opts_.edge_pid > 0) {
    if (auto u = read_proc_usage(opts_.edge_pid)) {
      if (last_usage_ && now > last_usage_at_) {
        row.edge_cpu_pct = 100 * (u->cpu_s - last_usage_->cpu_s) / (now - last_usage_at_);
        row.edge_wait_pct =
            100 * (u->runqueue_wait_s - last_usage_->runqueue_wait_s) / (now - last_usage_at_);
        row.edge_cpu_s = u->cpu_s - last_usage_->cpu_s;
      }
      if (!first_usage_) {
        first_usage_ = u;
        first_usage_at_ = now;
      }
      last_usage_ = u;
      last_usage_at_ = now;
      row.edge_rss_mib = double(u->rss_kib) / 1024;
      rss_peak_kib_ = std::max(rss_peak_kib_, u->rss_kib);
    }
  }
  if (!player_pids_.empty()) {
    // A process that already ended is missing from the sum: only the full sums are kept.
    double sum = 0;
    bool all = true;
    for (int pid : player_pids_) {
      auto u = read_proc_usage(pid);
      all = all && u;
      if (u) sum += u->cpu_s;
    }
    if (all && last_sim_cpu_s_ >= 0) row.sim_cpu_s = sum - last_sim_cpu_s_;
    last_sim_cpu_s_ = all ? sum : -1;
  }
  if (!opts_.healthz.empty()) {
    if (auto body = http_get_body(opts_.healthz, 500)) {
      last_healthz_ = *body;
      if (auto v = json::parse(*body);
          v && v->find("active_connections") && v->find("active_connections")->as_int())
        row.edge_connections = *v->find("active_connections")->as_int();
    }
  }
}

std::string RunReport::live_line(const SecondRow& r) {
  char buf[512];
  std::snprintf(
      buf, sizeof buf,
      "t=%3llus playing %6llu  joins/s %5llu  seg/s %6llu  egress %7.1f Mbit/s  seg p99 %6.0f ms  "
      "stalls %4llu  errors %4llu",
      (unsigned long long)r.t, (unsigned long long)r.playing, (unsigned long long)r.tally.joins,
      (unsigned long long)r.tally.segments, mbit(r.tally.wire_bytes, 1),
      ms(r.tally.segment_us.percentile(99)), (unsigned long long)r.tally.stalls,
      (unsigned long long)r.tally.errors());
  std::string s = buf;
  if (r.edge_cpu_pct >= 0) {
    std::snprintf(buf, sizeof buf, "  edge cpu %5.1f%% (waited %5.1f%%) rss %6.1f MiB",
                  r.edge_cpu_pct, std::max(0.0, r.edge_wait_pct), r.edge_rss_mib);
    s += buf;
  }
  if (r.edge_connections >= 0) s += "  conns " + std::to_string(r.edge_connections);
  return s;
}

std::string RunReport::series_tsv() const {
  std::string s =
      "t\tplaying\tjoins\tsegments\tegress_mbit_s\tsegment_p99_ms\tstartup_p99_"
      "ms\tstalls\terrors\tedge_cpu_pct\tedge_rss_"
      "mib\tedge_wait_pct\n";
  char buf[256];
  for (const SecondRow& r : rows_) {
    std::snprintf(buf, sizeof buf,
                  "%llu\t%llu\t%llu\t%llu\t%.3f\t%.1f\t%.1f\t%llu\t%llu\t%.1f\t%.1f\t%.1f\n",
                  (unsigned long long)r.t, (unsigned long long)r.playing,
                  (unsigned long long)r.tally.joins, (unsigned long long)r.tally.segments,
                  mbit(r.tally.wire_bytes, 1), ms(r.tally.segment_us.percentile(99)),
                  ms(r.tally.startup_us.percentile(99)), (unsigned long long)r.tally.stalls,
                  (unsigned long long)r.tally.errors(), std::max(0.0, r.edge_cpu_pct),
                  std::max(0.0, r.edge_rss_mib), std::max(0.0, r.edge_wait_pct));
    s += buf;
  }
  return s;
}

namespace {
json::Value latency_json(const Histogram& h) {
  json::Object o;
  o.push_back({"count", json_uint(h.count())});
  o.push_back({"p50", json_real(ms(h.percentile(50)))});
  o.push_back({"p99", json_real(ms(h.percentile(99)))});
  o.push_back({"max", json_real(ms(h.max()))});
  o.push_back({"mean", json_real(h.mean() / 1000)});
  return json::Value{std::move(o)};
}
json::Value counts_json(const std::map<std::string, uint64_t>& m) {
  json::Object o;
  for (auto& [k, v] : m) o.push_back({k, json_uint(v)});
  return json::Value{std::move(o)};
}
}  // namespace

std::string RunReport::summary_json() const {
  const Tally& t = total_;
  uint64_t peak_playing = 0, peak_joins = 0;
  double peak_egress = 0;
  for (const SecondRow& r : rows_) {
    peak_playing = std::max(peak_playing, r.playing);
    peak_joins = std::max(peak_joins, r.tally.joins);
    peak_egress = std::max(peak_egress, mbit(r.tally.wire_bytes, 1));
  }
  double secs = seconds_ > 0 ? seconds_ : double(rows_.size());
  json::Object o;
  o.push_back({"url", json::Value{opts_.url}});
  o.push_back({"tls", json::Value{opts_.tls}});
  o.push_back({"tokens", json::Value{!opts_.token_key.empty()}});
  o.push_back({"viewers", json_uint(opts_.viewers)});
  o.push_back({"procs", json_uint(opts_.procs)});
  o.push_back({"ramp_s", json_real(opts_.ramp_s)});
  o.push_back({"duration_s", json_real(secs)});
  o.push_back({"session_mean_s", json_real(opts_.session_mean_s)});
  if (simulator_cpu_s_ >= 0) o.push_back({"simulator_cpu_s", json_real(simulator_cpu_s_)});
  if (simulator_rss_mib_ >= 0)
    o.push_back({"simulator_process_rss_mib_peak", json_real(simulator_rss_mib_)});
  o.push_back({"all_processes_reported", json::Value{finals_ == opts_.procs}});
  o.push_back({"peak_playing", json_uint(peak_playing)});
  o.push_back(
      {"final_playing", json_uint(rows_.size() >= 2 ? rows_[rows_.size() - 2].playing : 0)});
  o.push_back({"joins", json_uint(t.joins)});
  o.push_back({"leaves", json_uint(t.leaves)});
  o.push_back({"joins_per_s_peak", json_uint(peak_joins)});
  o.push_back({"segments", json_uint(t.segments)});
  o.push_back({"segments_per_s", json_real(secs > 0 ? double(t.segments) / secs : 0)});
  o.push_back({"segment_bytes", json_uint(t.segment_bytes)});
  o.push_back({"playlists", json_uint(t.playlists)});
  o.push_back({"blocking_reloads", json_uint(t.blocking_reloads)});
  o.push_back({"wire_bytes", json_uint(t.wire_bytes)});
  o.push_back({"egress_mbit_s_mean", json_real(mbit(t.wire_bytes, secs))});
  o.push_back({"egress_mbit_s_peak", json_real(peak_egress)});
  o.push_back({"connects", json_uint(t.connects)});
  o.push_back({"tls_resumed", json_uint(t.tls_resumed)});
  o.push_back({"startup_ms", latency_json(t.startup_us)});
  o.push_back({"segment_ms", latency_json(t.segment_us)});
  o.push_back({"played_s", json_real(t.played_s)});
  o.push_back({"stalled_s", json_real(t.stalled_s)});
  o.push_back({"stalls", json_uint(t.stalls)});
  o.push_back({"rebuffer_ratio", json_real(t.rebuffer_ratio())});
  o.push_back({"missed_segments", json_uint(t.missed_segments)});
  o.push_back({"discontinuities", json_uint(t.discontinuities)});
  json::Object err;
  err.push_back({"total", json_uint(t.errors())});
  err.push_back({"by_status", counts_json(t.errors_by_status)});
  err.push_back({"by_reason", counts_json(t.errors_by_reason)});
  o.push_back({"errors", json::Value{std::move(err)}});
  if (opts_.edge_pid > 0 || !opts_.healthz.empty()) {
    json::Object e;
    if (opts_.edge_pid > 0) e.push_back({"pid", json_uint(uint64_t(opts_.edge_pid))});
    if (first_usage_ && last_usage_) {
      double cpu = last_usage_->cpu_s - first_usage_->cpu_s;
      double k = double(opts_.viewers) / 1000;
      e.push_back({"cpu_s", json_real(cpu)});
      double span = last_usage_at_ - first_usage_at_;
      e.push_back({"runqueue_wait_s",
                   json_real(last_usage_->runqueue_wait_s - first_usage_->runqueue_wait_s)});
      e.push_back(
          {"runqueue_wait_share",
           json_real(span > 0
                         ? (last_usage_->runqueue_wait_s - first_usage_->runqueue_wait_s) / span
                         : 0)});
      e.push_back({"cpu_share_of_one_core", json_real(last_usage_at_ > first_usage_at_
                                                          ? cpu / (last_usage_at_ - first_usage_at_)
                                                          : 0)});
      e.push_back({"cpu_s_per_1000_viewers", json_real(cpu / k)});
      e.push_back({"rss_mib_start", json_real(double(first_usage_->rss_kib) / 1024)});
      e.push_back({"rss_mib_peak", json_real(double(rss_peak_kib_) / 1024)});
      e.push_back({"rss_mib_end", json_real(double(last_usage_->rss_kib) / 1024)});
      e.push_back({"rss_mib_per_1000_viewers", json_real(double(rss_peak_kib_) / 1024 / k)});
      e.push_back({"rss_growth_mib_per_1000_viewers",
                   json_real((double(rss_peak_kib_) - double(first_usage_->rss_kib)) / 1024 / k)});
    }
    o.push_back({"cost", costs_json(split_costs(rows_, opts_.viewers))});
    if (!last_healthz_.empty()) {
      if (auto h = json::parse(last_healthz_)) e.push_back({"healthz", std::move(h.value())});
    }
    o.push_back({"edge", json::Value{std::move(e)}});
  }
  return json::serialize(json::Value{std::move(o)});
}

}  // namespace cdn::viewers
