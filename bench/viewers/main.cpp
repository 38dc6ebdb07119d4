// cdn-viewers: simulated HLS players against an edge (see bench/viewers/README in the project
// README's benchmark section). The parent forks --procs player processes (one process's descriptor
// limit caps its connections), merges their per-second lines, samples the edge, prints a live line
// a second and writes the report.
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bench/viewers/options.h"
#include "bench/viewers/player_process.h"
#include "bench/viewers/run_report.h"

using namespace cdn::viewers;

namespace {

void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  return bool(f);
}

struct Child {
  pid_t pid = -1;
  int fd = -1;
  uint32_t proc = 0;
  std::string buffered;
};

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (!parsed) {
    std::fprintf(stderr, "cdn-viewers: %s\n%s", parsed.error().message.c_str(), usage());
    return 2;
  }
  const Options& opts = parsed.value();
  std::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  uint64_t per_proc = (opts.viewers + opts.procs - 1) / opts.procs;
  if (per_proc + 64 > lim.rlim_cur)
    std::fprintf(
        stderr,
        "cdn-viewers: warning: %llu viewers per process but only %llu descriptors; use --procs\n",
        (unsigned long long)per_proc, (unsigned long long)lim.rlim_cur);

  // The children start on this shared clock (uv_hrtime is CLOCK_MONOTONIC).
  const uint64_t start_ns = uv_hrtime() + 300'000'000;
  std::vector<Child> children;
  for (uint32_t p = 0; p < opts.procs; ++p) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      std::perror("cdn-viewers: pipe");
      return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("cdn-viewers: fork");
      return 1;
    }
    if (pid == 0) {
      close(fds[0]);
      for (auto& c : children) close(c.fd);
      int rc = 0;
      {
        PlayerProcess proc(opts, p, start_ns, fds[1]);
        rc = proc.run();
      }
      _exit(rc);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);  // poll() says which pipe has data; never block on another
    children.push_back(Child{pid, fds[0], p, {}});
  }

  RunReport report(opts);
  std::vector<int> pids;
  for (auto& c : children) pids.push_back(int(c.pid));
  report.set_player_pids(std::move(pids));
  report.start_probes();
  size_t open_pipes = children.size();
  bool bad_line = false;
  auto drain_rows = [&] {
    for (SecondRow& row : report.take_complete_rows()) {
      report.probe_edge(row);
      if (!opts.quiet) std::fprintf(stderr, "%s\n", RunReport::live_line(row).c_str());
      report.keep(row);
    }
  };
  while (open_pipes > 0) {
    std::vector<pollfd> pfds;
    for (auto& c : children)
      if (c.fd >= 0) pfds.push_back(pollfd{c.fd, POLLIN, 0});
    if (poll(pfds.data(), pfds.size(), 1000) < 0 && errno != EINTR) break;
    for (auto& c : children) {
      if (c.fd < 0) continue;
      char buf[65536];
      ssize_t n = read(c.fd, buf, sizeof buf);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        close(c.fd);
        c.fd = -1;
        --open_pipes;
        report.process_finished(c.proc);
        continue;
      }
      c.buffered.append(buf, size_t(n));
      size_t nl;
      while ((nl = c.buffered.find('\n')) != std::string::npos) {
        if (!report.add_line(c.buffered.substr(0, nl))) bad_line = true;
        c.buffered.erase(0, nl + 1);
      }
    }
    drain_rows();
  }
  drain_rows();
  int failed = 0;
  for (auto& c : children) {
    int st = 0;
    waitpid(c.pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ++failed;
  }
  rusage ru{};
  if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
    report.set_simulator_usage(double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                                   double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
                               double(ru.ru_maxrss) / 1024);  // ru_maxrss is in KiB
  std::string summary = report.summary_json();
  std::printf("%s\n", summary.c_str());
  if (!opts.out_json.empty() && !write_file(opts.out_json, summary + "\n"))
    std::fprintf(stderr, "cdn-viewers: cannot write %s\n", opts.out_json.c_str());
  if (!opts.out_series.empty() && !write_file(opts.out_series, report.series_tsv()))
    std::fprintf(stderr, "cdn-viewers: cannot write %s\n", opts.out_series.c_str());
  if (bad_line)
    std::fprintf(stderr, "cdn-viewers: a player process wrote a line the parent could not read\n");
  if (failed) std::fprintf(stderr, "cdn-viewers: %d player process(es) failed\n", failed);
  return failed || bad_line ? 1 : 0;
}
