#include "common/obs/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/obs/log.h"

namespace cdn::obs {
namespace {

int open_file(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

void add_field(std::string& out, const char* key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":";
  append_json_string(out, value);
}

void add_number(std::string& out, const char* key, const std::string& number) {
  out += ",\"";
  out += key;
  out += "\":";
  out += number;
}

}  // namespace

std::string to_json(const AccessRecord& r) {
  std::string out = "{\"ts\":\"" + rfc3339_ms(r.ts_ms) + "\"";
  add_field(out, "client", r.client);
  add_field(out, "method", r.method);
  add_field(out, "host", r.host);
  add_field(out, "path", r.path);
  add_field(out, "protocol", r.protocol);
  add_number(out, "status", std::to_string(r.status));
  add_number(out, "bytes_sent", std::to_string(r.bytes_sent));
  char dur[48] = "0";
  if (std::isfinite(r.duration_ms)) std::snprintf(dur, sizeof dur, "%.3f", r.duration_ms);
  add_number(out, "duration_ms", dur);
  add_field(out, "cache", r.cache);
  add_field(out, "upstream", r.upstream);
  add_field(out, "reason", r.reason);
  add_field(out, "tier", r.tier);
  add_field(out, "service", r.service);
  add_field(out, "user_agent", r.user_agent);
  out += '}';
  return out;
}

Result<std::unique_ptr<AccessLog>> AccessLog::open(const std::string& path, size_t max_queue) {
  int fd = -1;
  if (path == "-") {
    fd = 1;
  } else if (path != "off") {
    if (path.empty()) return make_error("access_log: empty path (use \"-\" or \"off\")");
    fd = open_file(path);
    if (fd < 0) return make_error("access_log: cannot open " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<AccessLog>(new AccessLog(path, fd, max_queue == 0 ? 1 : max_queue));
}

AccessLog::AccessLog(std::string path, int fd, size_t max_queue)
    : path_(std::move(path)), enabled_(fd >= 0), rotatable_(fd >= 0 && path_ != "-"), fd_(fd), max_queue_(max_queue) {
  if (enabled_) writer_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
  if (writer_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_one();
    writer_.join();
  }
  if (rotatable_) ::close(fd_);
}

void AccessLog::write(std::string line) {
  if (!enabled_) return;
  if (line.empty() || line.back() != '\n') line += '\n';
  {
    std::lock_guard lock(mu_);
    if (lines_queued_ >= max_queue_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(line));
    ++lines_queued_;
    ++enqueued_;
  }
  wake_.notify_one();
}

void AccessLog::reopen() {
  if (!rotatable_) return;
  {
    std::lock_guard lock(mu_);
    queue_.emplace_back();
    ++enqueued_;
  }
  wake_.notify_one();
}

void AccessLog::flush() {
  if (!enabled_) return;
  std::unique_lock lock(mu_);
  const uint64_t target = enqueued_;
  idle_.wait(lock, [&] { return done_ >= target; });
}

void AccessLog::run() {
  std::deque<std::string> batch;
  std::string buf;
  while (true) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and drained
      batch.swap(queue_);
      lines_queued_ = 0;
    }
    // Write runs of lines with one write(); a marker (empty entry) reopens the file in between.
    auto flush_buf = [&](size_t lines) {
      if (!buf.empty() && !write_all(fd_, buf))
        write_errors_.fetch_add(lines, std::memory_order_relaxed);
      buf.clear();
    };
    size_t lines = 0;
    for (std::string& entry : batch) {
      if (!entry.empty()) {
        buf += entry;
        ++lines;
        continue;
      }
      flush_buf(lines);
      lines = 0;
      int fd = open_file(path_);
      if (fd >= 0) {
        ::close(fd_);
        fd_ = fd;
      } else {  // keep writing to the old file rather than losing lines
        log(Level::Error, "access log reopen failed", {{"path", path_}, {"error", std::strerror(errno)}});
      }
    }
    flush_buf(lines);
    const uint64_t n = batch.size();
    batch.clear();
    {
      std::lock_guard lock(mu_);
      done_ += n;
    }
    idle_.notify_all();
  }
}

}  // namespace cdn::obs
