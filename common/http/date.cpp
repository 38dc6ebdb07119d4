#include "common/http/date.h"

#include <ctime>

#include "common/util/clock.h"

namespace cdn::http {

std::string format_http_date(int64_t unix_s) {
  time_t t = time_t(unix_s);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

const std::string& current_http_date() {
  thread_local int64_t cached_s = -1;
  thread_local std::string cached;
  int64_t now = unix_now();
  if (now != cached_s) {
    cached_s = now;
    cached = format_http_date(now);
  }
  return cached;
}

}  // namespace cdn::http
