#pragma once
// `cdn-origin package INPUT.ts --channel NAME [--rendition NAME] [--config FILE | --store DIR]
//  [--target-duration SECONDS] [--formats ts,fmp4,dash]`: segments an MPEG-TS file with the live
// segmenter (ts) and the live CMAF packager (fmp4, dash: package_cmaf.h) and stores it in the live
// store as VOD (playlists with every segment and EXT-X-ENDLIST, a static DASH MPD), served by
// cdn-origin at /live/<channel>/master.m3u8, /live/<channel>/<rendition>/index.m3u8 (fMP4:
// index-fmp4.m3u8 beside TS, master-fmp4.m3u8) and /live/<channel>/manifest.mpd.
// Formats: --formats, else the channel's in the config (llhls as fmp4, lldash as dash), else ts.
// RocksDB allows one writer: run it while cdn-origin is stopped (a running origin picks the
// package up at its next start), or ask the running origin: POST /admin/package (live_packager.h).
#include <cstdint>
#include <functional>
#include <string>

#include "common/util/result.h"
#include "origin-shield/origin/live_config.h"

namespace cdn::origin {

class SegmentStore;

struct PackageRequest {
  std::string input;  // an MPEG-TS file
  std::string channel, rendition = "vod";
  double target_s = 2.0;
  LiveFormats formats;  // ts, fmp4, dash (vod_formats.h)
};

struct PackageProgress {
  uint64_t bytes_done = 0, bytes_total = 0, segments = 0;
};

struct PackageResult {
  uint64_t segments = 0;
  double longest_s = 0;
  int target_duration = 0;
};

// Packages req.input into `db` as VOD in req.formats, replacing what the rendition held; `progress`
// after every chunk read (false: stop, an error). Blocks for the whole file (a job thread or the
// command line).
Result<PackageResult> package_file(SegmentStore& db, const PackageRequest& req,
                                   const std::function<bool(const PackageProgress&)>& progress);

// argv[0] is "package".
int package_main(int argc, char** argv);

}  // namespace cdn::origin
