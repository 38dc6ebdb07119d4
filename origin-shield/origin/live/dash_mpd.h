#pragma once
// A dynamic DASH MPD over a channel's CMAF segments (one file per track): one video AdaptationSet
// with a Representation per rendition and one audio AdaptationSet, each Representation with a
// SegmentTemplate ($Number$ = the HLS media sequence number) and a SegmentTimeline of the
// segments in the window, so keyframe-cut segments of varying length are exact. The clock:
// availabilityStartTime is the wall time of media time 0, UTCTiming names a time endpoint.
// Low-latency DASH whose segments keep one duration (the encoder's GOP) uses a SegmentTemplate
// with @duration instead (DashNumbering): a player computes the segment in progress from the
// clock, which a timeline of complete segments cannot tell it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cdn::live {

struct DashSegment {
  uint64_t number = 0;
  int64_t t = 0, d = 0;  // 90 kHz
};

// An SCTE-35 splice as a DASH event (EventStream urn:scte:scte35:2013:bin: the
// splice_info_section in base64).
struct DashEvent {
  uint32_t id = 0;
  int64_t t = 0;  // 90 kHz, on the segments' timeline
  int64_t d = 0;  // 0: none given
  std::string section;
};

struct DashRepresentation {
  std::string id;      // the rendition name
  std::string prefix;  // its path relative to the MPD, e.g. "720p/v-"
  std::string codecs;  // RFC 6381
  uint64_t bandwidth = 0;
  int width = 0, height = 0;          // video
  int sample_rate = 0, channels = 0;  // audio
  uint64_t init_id = 0;
  std::vector<DashSegment> segments;
};

// SegmentTemplate@duration addressing: segment `start_number` + k starts at media time
// `start_t` + k × `duration`, which is presentation time k × duration (availabilityStartTime is
// the wall time of `start_t`).
struct DashNumbering {
  int64_t duration = 0;  // 90 kHz
  uint64_t start_number = 0;
  int64_t start_t = 0;  // 90 kHz
};

struct DashManifest {
  int64_t availability_start_ms = 0;  // unix ms of media time 0
  int64_t published_ms = 0;
  double min_update_period_s = 2;
  double time_shift_buffer_s = 12;
  double max_segment_s = 2;
  std::string utc_timing_url;  // an http-iso time endpoint
  bool ended = false;          // the stream ended: no more updates promised
  // The whole presentation is listed (an ended stream still held from its first segment):
  // type="static" with mediaPresentationDuration, the timeline starting at presentation time 0.
  bool whole = false;
  double duration_s = 0;
  int64_t presentation_time_offset = 0;  // 90 kHz: media time at presentation time 0 (static)
  // Low-latency DASH (> 0): a segment may be asked for this long before its end
  // (availabilityTimeOffset, with availabilityTimeComplete="false": it is sent as it is written),
  // and the players' latency target (ServiceDescription).
  double availability_time_offset_s = 0;
  int64_t latency_target_ms = 0;
  std::optional<DashNumbering> numbering;  // dynamic only: @duration instead of a SegmentTimeline
  std::vector<DashRepresentation> video;
  std::optional<DashRepresentation> audio;
  std::vector<DashEvent> events;
};

std::string write_mpd(const DashManifest& m);

// @duration addressing for segments `segs` (a window, in order) of a timeline whose first segment
// is number `first`, when they keep to one grid: the most common duration, every segment starting
// within a tenth of it of where the grid puts it (an encoder whose GOP is a whole segment), numbers
// counting from `first` so availabilityStartTime stays put as the window slides. Otherwise
// (keyframes off the grid, a splice cutting a segment short) nullopt: only the exact
// SegmentTimeline describes them.
std::optional<DashNumbering> duration_numbering(const std::vector<DashSegment>& segs,
                                                uint64_t first);

}  // namespace cdn::live
