#include "common/hls/parser.h"

#include <string>

#include "common/hls/attribute_list.h"
#include "common/hls/datetime.h"

namespace cdn::hls {
namespace {

// Splits into lines without copying; strips CR and trailing blanks, enforces the line bound.
class LineReader {
 public:
  LineReader(std::string_view text, size_t max_line) : text_(text), max_line_(max_line) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
  }
  // Returns false at the end; `too_long` is set when a line breaks the bound.
  bool next(std::string_view& line, bool& too_long) {
    if (pos_ >= text_.size()) return false;
    size_t nl = text_.find('\n', pos_);
    if (nl == std::string_view::npos) nl = text_.size();
    line = text_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    ++number_;
    too_long = line.size() > max_line_;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    return true;
  }
  size_t number() const { return number_; }

 private:
  std::string_view text_;
  size_t max_line_;
  size_t pos_ = 0;
  size_t number_ = 0;
};

Error line_error(size_t line, std::string_view what) {
  return Error{"line " + std::to_string(line) + ": " + std::string(what)};
}

// Splits "#EXT-X-NAME:value" into name and value.
void split_tag(std::string_view line, std::string_view& name, std::string_view& value) {
  size_t colon = line.find(':');
  name = line.substr(0, colon);
  value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
}

bool is_media_tag(std::string_view n) {
  return n == "#EXTINF" || n == "#EXT-X-TARGETDURATION" || n == "#EXT-X-MEDIA-SEQUENCE" ||
         n == "#EXT-X-DISCONTINUITY-SEQUENCE" || n == "#EXT-X-ENDLIST" ||
         n == "#EXT-X-PLAYLIST-TYPE" || n == "#EXT-X-DISCONTINUITY" || n == "#EXT-X-MAP" ||
         n == "#EXT-X-PROGRAM-DATE-TIME" || n == "#EXT-X-BYTERANGE";
}

bool is_master_tag(std::string_view n) {
  return n == "#EXT-X-STREAM-INF" || n == "#EXT-X-MEDIA" || n == "#EXT-X-I-FRAME-STREAM-INF" ||
         n == "#EXT-X-SESSION-DATA" || n == "#EXT-X-SESSION-KEY";
}

Result<std::string_view> check_header(LineReader& lines) {
  std::string_view line;
  bool too_long = false;
  if (!lines.next(line, too_long) || line != "#EXTM3U")
    return Error{"line 1: playlist must start with #EXTM3U"};
  return line;
}

std::optional<Key> parse_key(std::string_view value) {
  Key k;
  AttributeReader r(value);
  Attribute a;
  while (r.next(a)) {
    if (a.name == "METHOD") k.method = a.value;
    else if (a.name == "URI") k.uri = a.value;
    else if (a.name == "IV") k.iv = a.value;
    else if (a.name == "KEYFORMAT") k.keyformat = a.value;
    else if (a.name == "KEYFORMATVERSIONS") k.keyformatversions = a.value;
  }
  if (r.malformed() || k.method.empty()) return std::nullopt;
  if (k.method != "NONE" && k.uri.empty()) return std::nullopt;
  return k;
}

std::optional<Map> parse_map(std::string_view value) {
  Map m;
  AttributeReader r(value);
  Attribute a;
  while (r.next(a)) {
    if (a.name == "URI") m.uri = a.value;
    else if (a.name == "BYTERANGE") m.byterange = a.value;
  }
  if (r.malformed() || m.uri.empty()) return std::nullopt;
  return m;
}

std::optional<DateRange> parse_daterange(std::string_view value) {
  DateRange d;
  AttributeReader r(value);
  Attribute a;
  while (r.next(a)) {
    if (a.name == "ID") d.id = a.value;
    else if (a.name == "CLASS") d.klass = a.value;
    else if (a.name == "START-DATE") d.start_date = a.value;
    else if (a.name == "END-DATE") d.end_date = a.value;
    else if (a.name == "DURATION") d.duration = parse_decimal(a.value);
    else if (a.name == "PLANNED-DURATION") d.planned_duration = parse_decimal(a.value);
    else if (a.name == "SCTE35-CMD") d.scte35_cmd = a.value;
    else if (a.name == "SCTE35-OUT") d.scte35_out = a.value;
    else if (a.name == "SCTE35-IN") d.scte35_in = a.value;
    else if (a.name == "END-ON-NEXT") d.end_on_next = a.value == "YES";
    else if (a.name.substr(0, 2) == "X-")
      d.client_attributes.emplace_back(
          a.name, a.quoted ? "\"" + std::string(a.value) + "\"" : std::string(a.value));
  }
  if (r.malformed() || d.id.empty() || d.start_date.empty()) return std::nullopt;
  return d;
}

// EXTINF:<duration>,[<title>]
bool parse_extinf(std::string_view value, Segment& seg) {
  size_t comma = value.find(',');
  auto d = parse_decimal(value.substr(0, comma));
  if (!d) return false;
  seg.duration = *d;
  seg.title = comma == std::string_view::npos ? std::string() : std::string(value.substr(comma + 1));
  return true;
}

}  // namespace

Result<MediaPlaylist> parse_media(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.max_bytes) return Error{"playlist too large"};
  LineReader lines(text, limits.max_line_bytes);
  if (auto h = check_header(lines); !h) return h.error();
  MediaPlaylist pl;
  Segment pending;
  bool have_extinf = false, have_target = false;
  std::string_view line;
  bool too_long = false;
  while (lines.next(line, too_long)) {
    const size_t n = lines.number();
    if (too_long) return line_error(n, "line too long");
    if (line.empty()) continue;
    if (line[0] != '#') {
      if (!have_extinf) return line_error(n, "segment URI without #EXTINF");
      if (pl.segments.size() >= limits.max_segments) return line_error(n, "too many segments");
      pending.uri = line;
      pl.segments.push_back(std::move(pending));
      pending = Segment{};
      have_extinf = false;
      continue;
    }
    if (line.substr(0, 4) != "#EXT") continue;  // comment
    std::string_view name, value;
    split_tag(line, name, value);
    if (is_master_tag(name)) return line_error(n, "master playlist tag in a media playlist");
    if (name == "#EXTINF") {
      if (!parse_extinf(value, pending)) return line_error(n, "bad #EXTINF duration");
      have_extinf = true;
    } else if (name == "#EXT-X-TARGETDURATION") {
      auto v = parse_unsigned(value);
      if (!v || *v > 86400) return line_error(n, "bad #EXT-X-TARGETDURATION");
      pl.target_duration = int(*v);
      have_target = true;
    } else if (name == "#EXT-X-MEDIA-SEQUENCE") {
      auto v = parse_unsigned(value);
      if (!v) return line_error(n, "bad #EXT-X-MEDIA-SEQUENCE");
      pl.media_sequence = *v;
    } else if (name == "#EXT-X-DISCONTINUITY-SEQUENCE") {
      auto v = parse_unsigned(value);
      if (!v) return line_error(n, "bad #EXT-X-DISCONTINUITY-SEQUENCE");
      pl.discontinuity_sequence = *v;
    } else if (name == "#EXT-X-VERSION") {
      auto v = parse_unsigned(value);
      if (!v || *v > 100) return line_error(n, "bad #EXT-X-VERSION");
      pl.version = int(*v);
    } else if (name == "#EXT-X-PLAYLIST-TYPE") {
      if (value == "EVENT") pl.type = PlaylistType::kEvent;
      else if (value == "VOD") pl.type = PlaylistType::kVod;
      else return line_error(n, "bad #EXT-X-PLAYLIST-TYPE");
    } else if (name == "#EXT-X-ENDLIST") {
      pl.endlist = true;
    } else if (name == "#EXT-X-INDEPENDENT-SEGMENTS") {
      pl.independent_segments = true;
    } else if (name == "#EXT-X-I-FRAMES-ONLY") {
      pl.i_frames_only = true;
    } else if (name == "#EXT-X-DISCONTINUITY") {
      pending.discontinuity = true;
    } else if (name == "#EXT-X-PROGRAM-DATE-TIME") {
      auto t = parse_iso8601_ms(value);
      if (!t) return line_error(n, "bad #EXT-X-PROGRAM-DATE-TIME");
      pending.program_date_time_ms = *t;
    } else if (name == "#EXT-X-KEY") {
      auto k = parse_key(value);
      if (!k) return line_error(n, "bad #EXT-X-KEY");
      pending.key = std::move(*k);
    } else if (name == "#EXT-X-MAP") {
      auto m = parse_map(value);
      if (!m) return line_error(n, "bad #EXT-X-MAP");
      pending.map = std::move(*m);
    } else if (name == "#EXT-X-DATERANGE") {
      auto d = parse_daterange(value);
      if (!d) return line_error(n, "bad #EXT-X-DATERANGE");
      if (pending.dateranges.size() >= 64) return line_error(n, "too many #EXT-X-DATERANGE");
      pending.dateranges.push_back(std::move(*d));
    } else if (name == "#EXT-X-CUE-OUT") {
      pending.cue_out = true;
      // Both conventions exist in the wild: "CUE-OUT:30" and "CUE-OUT:DURATION=30".
      std::string_view v = value.substr(0, 9) == "DURATION=" ? value.substr(9) : value;
      if (!v.empty()) pending.cue_out_duration = parse_decimal(v);
    } else if (name == "#EXT-X-CUE-IN") {
      pending.cue_in = true;
    }
  }
  if (!have_target) return Error{"missing #EXT-X-TARGETDURATION"};
  if (have_extinf) return Error{"#EXTINF without a segment URI at end of playlist"};
  return pl;
}

namespace {

std::optional<Variant> parse_stream_inf(std::string_view value) {
  Variant v;
  bool have_bw = false;
  AttributeReader r(value);
  Attribute a;
  while (r.next(a)) {
    if (a.name == "BANDWIDTH") {
      auto b = parse_unsigned(a.value);
      if (!b) return std::nullopt;
      v.bandwidth = *b;
      have_bw = true;
    } else if (a.name == "AVERAGE-BANDWIDTH") {
      v.average_bandwidth = parse_unsigned(a.value);
      if (!v.average_bandwidth) return std::nullopt;
    } else if (a.name == "RESOLUTION") {
      size_t x = a.value.find('x');
      if (x == std::string_view::npos) return std::nullopt;
      auto w = parse_unsigned(a.value.substr(0, x)), h = parse_unsigned(a.value.substr(x + 1));
      if (!w || !h || *w > 65535 || *h > 65535) return std::nullopt;
      v.resolution = Resolution{int(*w), int(*h)};
    } else if (a.name == "CODECS") {
      v.codecs = a.value;
    } else if (a.name == "FRAME-RATE") {
      v.frame_rate = parse_decimal(a.value);
      if (!v.frame_rate) return std::nullopt;
    } else if (a.name == "AUDIO") {
      v.audio = a.value;
    } else if (a.name == "VIDEO") {
      v.video = a.value;
    } else if (a.name == "SUBTITLES") {
      v.subtitles = a.value;
    } else if (a.name == "CLOSED-CAPTIONS") {
      v.closed_captions = a.quoted ? "\"" + std::string(a.value) + "\"" : std::string(a.value);
    } else if (a.name == "URI") {
      v.uri = a.value;
    }
  }
  if (r.malformed() || !have_bw) return std::nullopt;
  return v;
}

std::optional<Rendition> parse_media_tag(std::string_view value) {
  Rendition m;
  AttributeReader r(value);
  Attribute a;
  while (r.next(a)) {
    if (a.name == "TYPE") m.type = a.value;
    else if (a.name == "GROUP-ID") m.group_id = a.value;
    else if (a.name == "NAME") m.name = a.value;
    else if (a.name == "LANGUAGE") m.language = a.value;
    else if (a.name == "ASSOC-LANGUAGE") m.assoc_language = a.value;
    else if (a.name == "URI") m.uri = a.value;
    else if (a.name == "INSTREAM-ID") m.instream_id = a.value;
    else if (a.name == "CHARACTERISTICS") m.characteristics = a.value;
    else if (a.name == "CHANNELS") m.channels = a.value;
    else if (a.name == "DEFAULT") m.is_default = a.value == "YES";
    else if (a.name == "AUTOSELECT") m.autoselect = a.value == "YES";
    else if (a.name == "FORCED") m.forced = a.value == "YES";
  }
  if (r.malformed() || m.type.empty() || m.group_id.empty() || m.name.empty()) return std::nullopt;
  return m;
}

}  // namespace

Result<MasterPlaylist> parse_master(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.max_bytes) return Error{"playlist too large"};
  LineReader lines(text, limits.max_line_bytes);
  if (auto h = check_header(lines); !h) return h.error();
  MasterPlaylist pl;
  std::optional<Variant> pending;
  size_t entries = 0;
  std::string_view line;
  bool too_long = false;
  while (lines.next(line, too_long)) {
    const size_t n = lines.number();
    if (too_long) return line_error(n, "line too long");
    if (line.empty()) continue;
    if (line[0] != '#') {
      if (!pending) return line_error(n, "URI without #EXT-X-STREAM-INF");
      pending->uri = line;
      pl.variants.push_back(std::move(*pending));
      pending.reset();
      continue;
    }
    if (line.substr(0, 4) != "#EXT") continue;
    std::string_view name, value;
    split_tag(line, name, value);
    if (is_media_tag(name)) return line_error(n, "media playlist tag in a master playlist");
    if (is_master_tag(name) && ++entries > limits.max_variants)
      return line_error(n, "too many variants");
    if (name == "#EXT-X-STREAM-INF") {
      if (pending) return line_error(n, "#EXT-X-STREAM-INF without a URI");
      pending = parse_stream_inf(value);
      if (!pending) return line_error(n, "bad #EXT-X-STREAM-INF");
    } else if (name == "#EXT-X-I-FRAME-STREAM-INF") {
      auto v = parse_stream_inf(value);
      if (!v || v->uri.empty()) return line_error(n, "bad #EXT-X-I-FRAME-STREAM-INF");
      pl.iframe_variants.push_back(std::move(*v));
    } else if (name == "#EXT-X-MEDIA") {
      auto m = parse_media_tag(value);
      if (!m) return line_error(n, "bad #EXT-X-MEDIA");
      pl.media.push_back(std::move(*m));
    } else if (name == "#EXT-X-VERSION") {
      auto v = parse_unsigned(value);
      if (!v || *v > 100) return line_error(n, "bad #EXT-X-VERSION");
      pl.version = int(*v);
    } else if (name == "#EXT-X-INDEPENDENT-SEGMENTS") {
      pl.independent_segments = true;
    }
  }
  if (pending) return Error{"#EXT-X-STREAM-INF without a URI at end of playlist"};
  if (pl.variants.empty() && pl.iframe_variants.empty()) return Error{"no variants"};
  return pl;
}

}  // namespace cdn::hls
