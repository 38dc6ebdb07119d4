#pragma once
#include <cstdint>
#include <string>

namespace cdn::http {

// IMF-fixdate (RFC 9110 §5.6.7).
std::string format_http_date(int64_t unix_s);
// The current Date value, formatted once per second per thread.
const std::string& current_http_date();

}  // namespace cdn::http
