#pragma once
// HTTP-date (RFC 9110 §5.6.7): all three historical formats are accepted, only IMF-fixdate is sent.
#include <cstdint>
#include <string>
#include <string_view>

namespace cdn {

// IMF-fixdate, RFC 850 or asctime; unix seconds, or -1 when the value is not a valid date.
int64_t parse_http_date(std::string_view s);
// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(int64_t unix_s);

}  // namespace cdn
