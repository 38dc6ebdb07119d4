#pragma once
// A rendition's fMP4/CMAF output beside its TS segments: the packager fed the same ingest bytes,
// the fMP4 (LL-HLS) playlist, and the init segments, segments and parts kept in memory for the
// live window. Runs under the rendition's ingest lock; serving reads only published snapshots.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/bytes.h"
#include "origin-shield/origin/live/cmaf_packager.h"
#include "origin-shield/origin/live/llhls_playlist.h"

namespace cdn::origin {

struct CmafStoredSegment {
  Bytes muxed, video, audio;         // video/audio: per track, when DASH is on
  int64_t t = 0, d = 0;              // first decode time and duration, 90 kHz
  int64_t audio_t = 0, audio_d = 0;  // the audio file's (DASH)
  uint64_t init_id = 0;
  std::vector<live::Cue> cues;  // SCTE-35 splice points on its start (DASH events)
};

// An object still being written (the part or the segment in progress): its chunks so far, in
// order, each a moof/mdat fragment (a segment's lists start with its styp). Served while written.
struct CmafGrowing {
  uint64_t number = 0;  // the part's number (this session's) or the segment's msn
  std::vector<Bytes> muxed, video, audio;  // video/audio: per track (DASH)
};

// What serving needs of a rendition's fMP4 output at one instant. Never changed once published.
struct CmafSnapshot {
  std::shared_ptr<const live::LlhlsPlaylist> playlist;
  std::map<uint64_t, live::CmafInit> inits;        // by init id
  std::map<uint64_t, CmafStoredSegment> segments;  // by msn
  // DASH: wall-clock unix ms at media time 0 of this session (availabilityStartTime), 0 = none.
  int64_t media_zero_ms = 0;
  uint64_t session = 0;             // parts are numbered within an encoder session
  std::map<uint64_t, Bytes> parts;  // this session's, by number
  uint64_t next_part = 0;           // the number the next part will get (the preload hint)
  CmafGrowing part_growing;         // part next_part, when it has chunks
  std::optional<CmafGrowing> segment_growing;  // the segment in progress, once it has chunks
  bool ended = false;
  int64_t modified_s = 0;
};

// Where the output is persisted (the store): values for kind 'i' (init, by id), 's' (segment, by
// msn) and 'p' (the playlist state, no number); removals by kind and numbers. Unset: not stored.
struct CmafPersist {
  std::function<void(char kind, std::optional<uint64_t> number, std::string value)> put;
  std::function<void(char kind, std::vector<uint64_t> numbers)> remove;
};

struct CmafRestored;

struct CmafOutputSettings {
  live::LlhlsConfig playlist;
  bool per_track = false;  // DASH: one file per track as well
  size_t memory_segments = 10;
  CmafPersist persist;
};

// Chunks per part: what a preload-hinted part's (or a low-latency DASH segment's) early request
// gets at a time.
constexpr int kChunksPerPart = 4;

class CmafOutput {
 public:
  explicit CmafOutput(CmafOutputSettings settings);

  // A new encoder session (input takeover): its msn starts at `first_sequence` or later.
  void start(uint64_t first_sequence, bool discontinuity);
  void feed(std::string_view ts_bytes);
  void flush();  // the input ended: its part and segment in progress are completed
  void end();    // EXT-X-ENDLIST
  uint64_t next_sequence() const;
  // Startup: what the store kept (before any start()).
  void restore(CmafRestored&& stored);

  // A snapshot when something changed since the last call, else nullptr.
  std::shared_ptr<const CmafSnapshot> take_changes();

 private:
  void on_chunk(const live::CmafChunk& chunk);
  void on_part(const live::CmafPart& part);
  void on_segment(live::CmafSegment&& seg);
  void persist_state();

  const CmafOutputSettings settings_;
  std::unique_ptr<live::CmafPackager> packager_;
  live::LlhlsPlaylist playlist_;
  uint64_t next_sequence_ = 0;
  uint64_t session_ = 0, next_part_ = 0;
  std::map<uint64_t, live::CmafInit> inits_;
  std::map<uint64_t, CmafStoredSegment> segments_;
  std::map<uint64_t, Bytes> parts_;
  CmafGrowing part_growing_;
  std::optional<CmafGrowing> segment_growing_;
  int64_t media_zero_ms_ = 0;
  std::map<uint64_t, uint64_t> first_part_of_;  // msn → its first part's number (this session)
  bool changed_ = false;
};

}  // namespace cdn::origin
