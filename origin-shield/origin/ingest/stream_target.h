#pragma once
// Which rendition an SRT or RTMP publisher addresses, and with which key and role. One textual
// form for every protocol (the same as HTTP push's /ingest/ path):
//   <channel>/<rendition>?key=<stream_key>[&role=backup]
// SRT also accepts its access-control syntax: #!::r=<channel>/<rendition>,s=<stream_key>,m=publish
// (plus an optional role=backup element). The first form may arrive percent-encoded as a whole
// (ffmpeg 5.1 passes srt://...?streamid=<value> on without decoding it).
#include <optional>
#include <string>
#include <string_view>

namespace cdn::origin::ingest {

struct StreamTarget {
  std::string channel, rendition, key;
  bool backup = false;
};

// nullopt: not of either form, or an unknown role / a mode other than publish.
std::optional<StreamTarget> parse_stream_target(std::string_view text);

}  // namespace cdn::origin::ingest
