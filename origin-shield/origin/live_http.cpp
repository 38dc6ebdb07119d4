#include "origin-shield/origin/live_http.h"

#include <cstdio>
#include <functional>

#include "common/obs/metrics.h"
#include "origin-shield/origin/vod_handler.h"

namespace cdn::origin {

void count_live_error(std::string_view reason) {
  // A lookup per error, not per request: errors are rare and their reasons few.
  obs::metrics()
      .counter("cdn_live_errors_total", "Live ingest and serving errors by reason",
               {{"reason", std::string(reason)}})
      .inc();
}

void reject_live(const std::shared_ptr<http::Exchange>& ex, int status, const char* reason) {
  http::Headers h;
  add_cors(h);
  ex->log.reason = reason;
  count_live_error(reason);
  ex->respond_error(status, reason, std::move(h));
}

std::string quoted_hash(std::string_view body) {
  char buf[32];
  snprintf(buf, sizeof buf, "\"%016zx\"", std::hash<std::string_view>{}(body));
  return buf;
}

}  // namespace cdn::origin
