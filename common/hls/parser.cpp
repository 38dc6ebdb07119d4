#include "common/hls/parser.h"

#include <string>

#include "common/hls/attribute_list.h"
#include "common/hls/datetime.h"

namespace cdn::hls {
namespace {

// One meaningful line of a playlist: a URI, or a tag split into name and value. Blank lines and
// comments are skipped; CR and trailing blanks are stripped; the line bound is enforced.
struct PlaylistLine {
  size_t number = 0;
  bool too_long = false;
  bool is_uri = false;
  std::string_view text;  // the URI, or the whole tag line
  std::string_view name;  // "#EXT-X-..." for tags
  std::string_view value;
};

class LineReader {
 public:
  LineReader(std::string_view text, size_t max_line) : text_(text), max_line_(max_line) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
  }
  bool next(PlaylistLine& out) {
    while (pos_ < text_.size()) {
      size_t nl = text_.find('\n', pos_);
      if (nl == std::string_view::npos) nl = text_.size();
      std::string_view line = text_.substr(pos_, nl - pos_);
      pos_ = nl + 1;
      out.number = ++number_;
      out.too_long = line.size() > max_line_;
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
        line.remove_suffix(1);
      if (out.too_long) return true;
      if (line.empty() || (line[0] == '#' && line.substr(0, 4) != "#EXT")) continue;
      out.text = line;
      out.is_uri = line[0] != '#';
      const size_t colon = line.find(':');
      out.name = out.is_uri ? std::string_view{} : line.substr(0, colon);
      out.value = colon == std::string_view::npos || out.is_uri ? std::string_view{}
                                                                 : line.substr(colon + 1);
      return true;
    }
    return false;
  }

 private:
  std::string_view text_;
  size_t max_line_;
  size_t pos_ = 0;
  size_t number_ = 0;
};

Error line_error(size_t line, std::string_view what) {
  return Error{"line " + std::to_string(line) + ": " + std::string(what)};
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

// Quoted-string attributes must arrive quoted: an unquoted value may hold a '"' that the writer
// could not put back, so the tag would mean something else after a round trip.
bool quoted(const Attribute& a, std::string& out) {
  if (!a.quoted) return false;
  out = a.value;
  return true;
}

Result<void> check_header(LineReader& lines) {
  PlaylistLine first;
  if (!lines.next(first) || first.number != 1 || first.too_long || first.text != "#EXTM3U")
    return Error{"line 1: playlist must start with #EXTM3U"};
  return {};
}

std::optional<Key> parse_key(std::string_view value) {
  Key k;
  AttributeReader r(value);
  Attribute a;
  bool ok = true;
  while (ok && r.next(a)) {
    if (a.name == "METHOD") k.method = a.value;
    else if (a.name == "URI") ok = quoted(a, k.uri);
    else if (a.name == "IV") k.iv = a.value;
    else if (a.name == "KEYFORMAT") ok = quoted(a, k.keyformat);
    else if (a.name == "KEYFORMATVERSIONS") ok = quoted(a, k.keyformatversions);
  }
  if (!ok || r.malformed() || k.method.empty()) return std::nullopt;
  if (k.method != "NONE" && k.uri.empty()) return std::nullopt;
  return k;
}

std::optional<Map> parse_map(std::string_view value) {
  Map m;
  AttributeReader r(value);
  Attribute a;
  bool ok = true;
  while (ok && r.next(a)) {
    if (a.name == "URI") ok = quoted(a, m.uri);
    else if (a.name == "BYTERANGE") ok = quoted(a, m.byterange);
  }
  if (!ok || r.malformed() || m.uri.empty()) return std::nullopt;
  return m;
}

std::optional<DateRange> parse_daterange(std::string_view value) {
  DateRange d;
  AttributeReader r(value);
  Attribute a;
  bool ok = true;
  while (ok && r.next(a)) {
    if (a.name == "ID") ok = quoted(a, d.id);
    else if (a.name == "CLASS") ok = quoted(a, d.klass);
    else if (a.name == "START-DATE") ok = quoted(a, d.start_date);
    else if (a.name == "END-DATE") ok = quoted(a, d.end_date);
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
  if (!ok || r.malformed() || d.id.empty() || d.start_date.empty()) return std::nullopt;
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
  PlaylistLine line;
  while (lines.next(line)) {
    const size_t n = line.number;
    if (line.too_long) return line_error(n, "line too long");
    if (line.is_uri) {
      if (!have_extinf) return line_error(n, "segment URI without #EXTINF");
      if (pl.segments.size() >= limits.max_segments) return line_error(n, "too many segments");
      pending.uri = line.text;
      pl.segments.push_back(std::move(pending));
      pending = Segment{};
      have_extinf = false;
      continue;
    }
    const std::string_view name = line.name, value = line.value;
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
  bool have_bw = false, ok = true;
  AttributeReader r(value);
  Attribute a;
  while (ok && r.next(a)) {
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
      ok = quoted(a, v.codecs);
    } else if (a.name == "FRAME-RATE") {
      v.frame_rate = parse_decimal(a.value);
      if (!v.frame_rate) return std::nullopt;
    } else if (a.name == "AUDIO") {
      ok = quoted(a, v.audio);
    } else if (a.name == "VIDEO") {
      ok = quoted(a, v.video);
    } else if (a.name == "SUBTITLES") {
      ok = quoted(a, v.subtitles);
    } else if (a.name == "CLOSED-CAPTIONS") {
      v.closed_captions = a.quoted ? "\"" + std::string(a.value) + "\"" : std::string(a.value);
    } else if (a.name == "URI") {
      ok = quoted(a, v.uri);
    }
  }
  if (!ok || r.malformed() || !have_bw) return std::nullopt;
  return v;
}

std::optional<Rendition> parse_media_tag(std::string_view value) {
  Rendition m;
  AttributeReader r(value);
  Attribute a;
  bool ok = true;
  while (ok && r.next(a)) {
    if (a.name == "TYPE") m.type = a.value;
    else if (a.name == "GROUP-ID") ok = quoted(a, m.group_id);
    else if (a.name == "NAME") ok = quoted(a, m.name);
    else if (a.name == "LANGUAGE") ok = quoted(a, m.language);
    else if (a.name == "ASSOC-LANGUAGE") ok = quoted(a, m.assoc_language);
    else if (a.name == "URI") ok = quoted(a, m.uri);
    else if (a.name == "INSTREAM-ID") ok = quoted(a, m.instream_id);
    else if (a.name == "CHARACTERISTICS") ok = quoted(a, m.characteristics);
    else if (a.name == "CHANNELS") ok = quoted(a, m.channels);
    else if (a.name == "DEFAULT") m.is_default = a.value == "YES";
    else if (a.name == "AUTOSELECT") m.autoselect = a.value == "YES";
    else if (a.name == "FORCED") m.forced = a.value == "YES";
  }
  if (!ok || r.malformed() || m.type.empty() || m.group_id.empty() || m.name.empty())
    return std::nullopt;
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
  PlaylistLine line;
  while (lines.next(line)) {
    const size_t n = line.number;
    if (line.too_long) return line_error(n, "line too long");
    if (line.is_uri) {
      if (!pending) return line_error(n, "URI without #EXT-X-STREAM-INF");
      pending->uri = line.text;
      pl.variants.push_back(std::move(*pending));
      pending.reset();
      continue;
    }
    const std::string_view name = line.name, value = line.value;
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
