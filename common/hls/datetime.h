#pragma once
// EXT-X-PROGRAM-DATE-TIME and DATERANGE dates: ISO 8601 with a zone, kept as unix milliseconds.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cdn::hls {

// "2026-11-21T05:25:33.120Z"
std::string format_iso8601_ms(int64_t unix_ms);
// Accepts an optional fraction and Z or ±hh:mm / ±hhmm.
std::optional<int64_t> parse_iso8601_ms(std::string_view s);

}  // namespace cdn::hls
