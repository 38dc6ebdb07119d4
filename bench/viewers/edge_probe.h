#pragma once
// The edge as the simulator sees it from outside: CPU seconds and RSS of its process from
// /proc/<pid>, and its /healthz JSON (plain HTTP on the admin listener, one short blocking GET a
// second from the parent process, which runs no players).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cdn::viewers {

struct ProcUsage {
  double cpu_s = 0;  // user + system
  uint64_t rss_kib = 0;
  // Seconds its threads waited runnable for a CPU (schedstat): on a shared machine, what the
  // edge wanted and did not get, which its CPU seconds cannot show.
  double runqueue_wait_s = 0;
};

// The parts of /proc/<pid>/stat and /proc/<pid>/status, parsed (separately testable).
std::optional<double> cpu_seconds_from_stat(std::string_view stat, long ticks_per_s);
std::optional<uint64_t> rss_kib_from_status(std::string_view status);
// /proc/<pid>/task/<tid>/schedstat: "<on-cpu ns> <run-queue wait ns> <timeslices>".
std::optional<double> runqueue_wait_from_schedstat(std::string_view schedstat);
std::optional<ProcUsage> read_proc_usage(int pid);

// GET of an http:// URL; the body of a 200, or nothing (no answer within timeout_ms, not 200).
std::optional<std::string> http_get_body(const std::string& url, int timeout_ms);

}  // namespace cdn::viewers
