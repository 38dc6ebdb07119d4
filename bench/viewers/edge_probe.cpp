#include "bench/viewers/edge_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/net/address.h"

namespace cdn::viewers {

std::optional<double> cpu_seconds_from_stat(std::string_view stat, long ticks_per_s) {
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_s <= 0) return std::nullopt;
  std::istringstream in{std::string(stat.substr(close + 1))};
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && (in >> field); ++i) {  // field 3 is the state
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  if (!in) return std::nullopt;
  return double(utime + stime) / double(ticks_per_s);
}

std::optional<uint64_t> rss_kib_from_status(std::string_view status) {
  size_t at = status.find("\nVmRSS:");
  if (at == std::string_view::npos) return std::nullopt;
  return std::strtoull(std::string(status.substr(at + 7, 32)).c_str(), nullptr, 10);
}

std::optional<double> runqueue_wait_from_schedstat(std::string_view schedstat) {
  std::istringstream in{std::string(schedstat)};
  unsigned long long on_cpu = 0, waited = 0;
  if (!(in >> on_cpu >> waited)) return std::nullopt;
  return double(waited) / 1e9;
}

namespace {
std::optional<std::string> slurp(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}
}  // namespace

std::optional<ProcUsage> read_proc_usage(int pid) {
  auto stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  auto status = slurp("/proc/" + std::to_string(pid) + "/status");
  if (!stat || !status) return std::nullopt;
  auto cpu = cpu_seconds_from_stat(*stat, sysconf(_SC_CLK_TCK));
  auto rss = rss_kib_from_status("\n" + *status);
  if (!cpu || !rss) return std::nullopt;
  ProcUsage u{*cpu, *rss, 0};
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    if (auto st = slurp(task.path().string() + "/schedstat"))
      u.runqueue_wait_s += runqueue_wait_from_schedstat(*st).value_or(0);
  }
  return u;
}

std::optional<std::string> http_get_body(const std::string& url, int timeout_ms) {
  if (url.rfind("http://", 0) != 0) return std::nullopt;
  std::string rest = url.substr(7);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash),
              path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  auto addr = net::resolve_numeric(authority.substr(0, colon),
                                   uint16_t(std::atoi(authority.c_str() + colon + 1)));
  if (!addr) return std::nullopt;
  int fd = socket(addr->storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto wait = [&](short ev) {
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(
                       deadline - std::chrono::steady_clock::now())
                       .count());
    pollfd p{fd, ev, 0};
    return left > 0 && poll(&p, 1, left) == 1;
  };
  std::string resp;
  bool ok = false;
  if (connect(fd, addr->get(), addr->len) == 0 || errno == EINPROGRESS) {
    std::string req =
        "GET " + path + " HTTP/1.1\r\nHost: " + authority + "\r\nConnection: close\r\n\r\n";
    if (wait(POLLOUT) && send(fd, req.data(), req.size(), MSG_NOSIGNAL) == ssize_t(req.size())) {
      char buf[8192];
      while (wait(POLLIN)) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
          ok = n == 0;
          break;
        }
        if (resp.size() > (1u << 20)) break;
        resp.append(buf, size_t(n));
      }
    }
  }
  close(fd);
  if (!ok || resp.rfind("HTTP/1.1 200", 0) != 0) return std::nullopt;
  size_t body = resp.find("\r\n\r\n");
  if (body == std::string::npos) return std::nullopt;
  return resp.substr(body + 4);  // /healthz answers with Content-Length and closes: no chunking
}

}  // namespace cdn::viewers
