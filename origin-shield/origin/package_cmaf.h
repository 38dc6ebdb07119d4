#pragma once
// fMP4 HLS and DASH for packaged VOD (`cdn-origin package --formats fmp4,dash`): the live CMAF
// packager run over a file, each init and media segment written to the store as it is made (the
// keys of live_cmaf_store.h, so the origin serves the package as it serves an ended live fMP4
// stream), and an fMP4 playlist listing every segment (no live window: a VOD may be hours long).
// Memory: the segment in progress plus what the store's writer has queued (the caller flushes).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "origin-shield/origin/live/cmaf_packager.h"
#include "origin-shield/origin/live/llhls_playlist.h"

namespace cdn::origin {

class SegmentStore;

class CmafVodWriter {
 public:
  // per_track: DASH's one file per track as well.
  CmafVodWriter(SegmentStore& db, std::string channel, std::string rendition, double target_s,
                bool per_track);

  void feed(std::string_view ts) { packager_.feed(ts); }
  // The end of the file: the last segment is completed, the playlist ended and stored.
  void finish();
  uint64_t segments() const { return segments_; }

  // Drops whatever fMP4 output the rendition held (packaging again replaces it; a package
  // without fmp4 must not leave an older one served).
  static void remove_stored(SegmentStore& db, std::string_view channel, std::string_view rendition);

 private:
  live::CmafPackager::Output output();

  SegmentStore& db_;
  const std::string channel_, rendition_;
  live::LlhlsPlaylist playlist_;
  live::CmafPackager packager_;
  int64_t clock_ms_, media_zero_ms_;
  uint64_t parts_ = 0, segments_ = 0;
};

}  // namespace cdn::origin
