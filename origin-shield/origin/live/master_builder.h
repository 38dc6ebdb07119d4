#pragma once
// Master playlist for a channel from what its renditions measured: bitrate from segment sizes and
// durations, resolution and codecs from the elementary streams.
#include <cstdint>
#include <string>
#include <vector>

#include "common/hls/playlist.h"
#include "origin-shield/origin/live/ts_demuxer.h"

namespace cdn::live {

struct RenditionSummary {
  std::string uri;  // relative to the master, e.g. "720p/index.m3u8"
  uint64_t peak_bandwidth = 0;
  uint64_t average_bandwidth = 0;
  MediaInfo media;
};

// Variants keep the given order (players start with the first). Renditions that have not yet
// measured a bitrate are left out: a variant without BANDWIDTH is invalid.
hls::MasterPlaylist build_master(const std::vector<RenditionSummary>& renditions);

}  // namespace cdn::live
