#include "common/http/date.h"

#include "common/util/clock.h"

namespace cdn::http {

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
