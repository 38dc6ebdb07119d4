#pragma once
// What the live origin's ingest and serving answer alike: errors (the short error body with CORS
// headers, counted in cdn_live_errors_total{reason}) and playlist validators.
#include <memory>
#include <string>
#include <string_view>

#include "common/http/exchange.h"

namespace cdn::origin {

// Counts one error in cdn_live_errors_total{reason} (inputs without an HTTP answer: SRT, RTMP).
void count_live_error(std::string_view reason);
void reject_live(const std::shared_ptr<http::Exchange>& ex, int status, const char* reason);
// A strong ETag for a generated body (playlists).
std::string quoted_hash(std::string_view body);

}  // namespace cdn::origin
