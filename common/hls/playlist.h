#pragma once
// The HLS playlist model (RFC 8216). Plain data: the parser fills it, the writer prints it, and the
// live origin builds it from segmenter output.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cdn::hls {

// EXT-X-KEY. A tag applies to every following segment; the model keeps it on the segment where it
// appeared, which is what a round trip needs.
struct Key {
  std::string method;  // NONE, AES-128, SAMPLE-AES
  std::string uri;
  std::string iv;  // "0x..." as written
  std::string keyformat;
  std::string keyformatversions;
  bool operator==(const Key&) const = default;
};

// EXT-X-MAP (fMP4 init section). Same placement rule as Key.
struct Map {
  std::string uri;
  std::string byterange;
  bool operator==(const Map&) const = default;
};

// EXT-X-DATERANGE. Dates stay ISO-8601 text: the model never needs them as numbers.
struct DateRange {
  std::string id;
  std::string klass;  // CLASS
  std::string start_date;
  std::string end_date;
  std::optional<double> duration;
  std::optional<double> planned_duration;
  std::string scte35_cmd;  // hex "0x..." as in the tag
  std::string scte35_out;
  std::string scte35_in;
  bool end_on_next = false;
  // X-<client> attributes, value kept as written (quoted or not).
  std::vector<std::pair<std::string, std::string>> client_attributes;
  bool operator==(const DateRange&) const = default;
};

struct Segment {
  double duration = 0;  // EXTINF seconds
  std::string title;
  std::string uri;
  bool discontinuity = false;
  std::optional<int64_t> program_date_time_ms;  // EXT-X-PROGRAM-DATE-TIME, unix ms
  std::optional<Key> key;
  std::optional<Map> map;
  std::vector<DateRange> dateranges;  // printed before the segment
  bool cue_out = false;               // EXT-X-CUE-OUT[:DURATION]
  std::optional<double> cue_out_duration;
  bool cue_in = false;  // EXT-X-CUE-IN
  bool operator==(const Segment&) const = default;
};

enum class PlaylistType { kNone, kEvent, kVod };

struct MediaPlaylist {
  int version = 0;  // as parsed; the writer computes its own
  int target_duration = 0;
  uint64_t media_sequence = 0;
  uint64_t discontinuity_sequence = 0;
  PlaylistType type = PlaylistType::kNone;
  bool independent_segments = false;
  bool i_frames_only = false;
  bool endlist = false;
  std::vector<Segment> segments;
  bool operator==(const MediaPlaylist& o) const {
    // version is derived from content, so two equal playlists may disagree on it.
    return target_duration == o.target_duration && media_sequence == o.media_sequence &&
           discontinuity_sequence == o.discontinuity_sequence && type == o.type &&
           independent_segments == o.independent_segments && i_frames_only == o.i_frames_only &&
           endlist == o.endlist && segments == o.segments;
  }
};

struct Resolution {
  int width = 0;
  int height = 0;
  bool operator==(const Resolution&) const = default;
};

// EXT-X-STREAM-INF (uri on the next line) or EXT-X-I-FRAME-STREAM-INF (uri in URI=).
struct Variant {
  uint64_t bandwidth = 0;
  std::optional<uint64_t> average_bandwidth;
  std::optional<Resolution> resolution;
  std::string codecs;
  std::optional<double> frame_rate;
  std::string audio;  // GROUP-IDs
  std::string video;
  std::string subtitles;
  std::string closed_captions;  // a quoted group id, or NONE
  std::string uri;
  bool operator==(const Variant&) const = default;
};

// EXT-X-MEDIA.
struct Rendition {
  std::string type;  // AUDIO, VIDEO, SUBTITLES, CLOSED-CAPTIONS
  std::string group_id;
  std::string name;
  std::string language;
  std::string assoc_language;
  std::string uri;
  std::string instream_id;
  std::string characteristics;
  std::string channels;
  bool is_default = false;
  bool autoselect = false;
  bool forced = false;
  bool operator==(const Rendition&) const = default;
};

struct MasterPlaylist {
  int version = 0;
  bool independent_segments = false;
  std::vector<Rendition> media;
  std::vector<Variant> variants;
  std::vector<Variant> iframe_variants;
  bool operator==(const MasterPlaylist& o) const {
    return independent_segments == o.independent_segments && media == o.media &&
           variants == o.variants && iframe_variants == o.iframe_variants;
  }
};

}  // namespace cdn::hls
