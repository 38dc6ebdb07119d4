#include "origin-shield/origin/package_cmaf.h"

#include <cmath>

#include "common/util/clock.h"
#include "origin-shield/origin/live_cmaf_store.h"
#include "origin-shield/origin/segment_store.h"

namespace cdn::origin {

namespace {

live::LlhlsConfig vod_config(double target_s) {
  live::LlhlsConfig c;
  c.target_duration_s = target_s;
  c.part_target_s = target_s;
  c.window_segments = size_t(1) << 40;  // the whole file is the window
  c.parts = false;                      // nobody waits at a live edge
  c.vod = true;
  return c;
}

live::CmafConfig packager_config(double target_s, bool per_track) {
  live::CmafConfig c;
  c.target_duration_s = target_s;
  // One fragment per segment as far as frames allow: parts only serve a live edge.
  c.part_target_s = target_s;
  c.per_track = per_track;
  return c;
}

}  // namespace

CmafVodWriter::CmafVodWriter(SegmentStore& db, std::string channel, std::string rendition,
                             double target_s, bool per_track)
    : db_(db),
      channel_(std::move(channel)),
      rendition_(std::move(rendition)),
      playlist_(vod_config(target_s)),
      packager_(packager_config(target_s, per_track), output()),
      clock_ms_(unix_now_ms()),
      media_zero_ms_(clock_ms_) {}

live::CmafPackager::Output CmafVodWriter::output() {
  live::CmafPackager::Output out;
  out.on_init = [this](const live::CmafInit& init) {
    db_.put(cmaf_key('i', channel_, rendition_, init.id), encode_cmaf_init(init));
  };
  out.on_chunk = [](const live::CmafChunk&) {};
  // The playlist's program dates run on from the packaging time, as the TS playlist's do.
  out.on_part = [this](const live::CmafPart& p) {
    clock_ms_ += std::llround(p.duration_s * 1000);
    playlist_.add_part(p, 0, parts_++, clock_ms_);
  };
  out.on_segment = [this](live::CmafSegment&& s) {
    playlist_.add_segment(s);
    const uint64_t msn = s.sequence;
    db_.put(cmaf_key('s', channel_, rendition_, msn),
            encode_cmaf_segment(stored_segment(std::move(s))));
    ++segments_;
  };
  return out;
}

void CmafVodWriter::finish() {
  packager_.flush(/*input_complete=*/true);
  if (segments_ == 0) return;
  playlist_.end();
  db_.put(cmaf_key('p', channel_, rendition_, std::nullopt),
          encode_cmaf_state({playlist_.serialize(), media_zero_ms_}));
}

void CmafVodWriter::remove_stored(SegmentStore& db, std::string_view channel,
                                  std::string_view rendition) {
  std::vector<std::string> keys;
  for (char kind : {'i', 's'})
    for (auto& k : db.keys(cmaf_key(kind, channel, rendition, std::nullopt) + "/"))
      keys.push_back(std::move(k));
  keys.push_back(cmaf_key('p', channel, rendition, std::nullopt));
  db.remove(std::move(keys));
}

}  // namespace cdn::origin
