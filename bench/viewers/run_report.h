#pragma once
// The parent's view of a run: the player processes' per-second lines merged by second (a second
// is complete once every process still running reported it), the edge's usage sampled as each
// second completes, and the final report (JSON) and per-second series (TSV for the plot).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/viewers/edge_probe.h"
#include "bench/viewers/options.h"
#include "bench/viewers/tally.h"

namespace cdn::viewers {

struct SecondRow {
  uint64_t t = 0;
  uint64_t playing = 0, active = 0;
  uint32_t reported = 0;  // processes that reported this second
  Tally tally;
  double edge_cpu_pct = -1;  // share of one core over the second; -1 when not measured
  double edge_cpu_s = -1;    // CPU seconds the edge used since the previous row
  double sim_cpu_s = -1;     // CPU seconds the player processes used since the previous row
  double edge_rss_mib = -1;
  double edge_wait_pct = -1;      // run-queue wait over the second, % of one CPU
  int64_t edge_connections = -1;  // /healthz active_connections
};

class RunReport {
 public:
  explicit RunReport(const Options& o) : opts_(o), last_t_(o.procs, 0), done_(o.procs, false) {}
  // One line from a player process; false when it is not a line we understand.
  bool add_line(const std::string& line);
  void process_finished(uint32_t proc) {
    if (proc < done_.size()) done_[proc] = true;
  }
  // Rows that every running process has reported, in order (each returned once).
  std::vector<SecondRow> take_complete_rows();
  // The usage counters' starting point, read before the first second: the first row then has
  // its CPU seconds too.
  void start_probes();
  // Adds the edge's usage to a completed row and remembers it for the summary.
  void probe_edge(SecondRow& row);
  void keep(const SecondRow& row) { rows_.push_back(row); }
  // The player processes, whose CPU each row also reads from /proc.
  void set_player_pids(std::vector<int> pids) { player_pids_ = std::move(pids); }

  // CPU seconds the player processes used (the simulator must not be the bottleneck) and the
  // largest one's peak RSS.
  void set_simulator_usage(double cpu_s, double max_rss_mib) {
    simulator_cpu_s_ = cpu_s;
    simulator_rss_mib_ = max_rss_mib;
  }
  const Tally& total() const { return total_; }
  const std::vector<SecondRow>& rows() const { return rows_; }
  std::string summary_json() const;
  std::string series_tsv() const;
  static std::string live_line(const SecondRow& r);

 private:
  const Options& opts_;
  std::map<uint64_t, SecondRow> pending_;
  std::vector<SecondRow> rows_;
  Tally total_;
  std::vector<uint64_t> last_t_;  // per process: the last second it reported
  std::vector<bool> done_;        // per process: its output ended
  uint32_t finals_ = 0;
  double seconds_ = 0;
  double simulator_cpu_s_ = -1;
  double simulator_rss_mib_ = -1;
  // Edge usage.
  std::optional<ProcUsage> first_usage_, last_usage_;
  double last_usage_at_ = 0, first_usage_at_ = 0;
  uint64_t rss_peak_kib_ = 0;
  std::string last_healthz_;
  std::vector<int> player_pids_;
  double last_sim_cpu_s_ = -1;
};

}  // namespace cdn::viewers
