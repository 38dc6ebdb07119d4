#pragma once
// An SRT caller URL as a rendition's `srt_pull` gives it:
//   srt://HOST:PORT[?streamid=S&passphrase=P&latency=DURATION]
// (the streamid and passphrase percent-decoded; latency like every config duration: 200ms, 1s).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/config/parse_units.h"
#include "common/util/result.h"

namespace cdn::origin::ingest {

struct SrtPullUrl {
  config::HostPort address;
  std::string streamid, passphrase;
  std::optional<int64_t> latency_ms;
  std::string text;        // as configured, for logs (without the passphrase)
  std::string configured;  // as configured (kept with a channel defined through the admin API)
  bool operator==(const SrtPullUrl&) const = default;
};

Result<SrtPullUrl> parse_srt_url(std::string_view url);

}  // namespace cdn::origin::ingest
