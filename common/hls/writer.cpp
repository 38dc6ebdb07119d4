#include "common/hls/writer.h"

#include "common/hls/attribute_list.h"
#include "common/hls/datetime.h"

namespace cdn::hls {
namespace {

// Appends ",NAME=value" (or "NAME=value" first) to an attribute list being built.
class AttrWriter {
 public:
  explicit AttrWriter(std::string& out) : out_(out) {}
  void raw(std::string_view name, std::string_view value) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += name;
    out_ += '=';
    out_ += value;
  }
  void quoted(std::string_view name, std::string_view value) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += name;
    out_ += "=\"";
    out_ += value;
    out_ += '"';
  }
  void quoted_if(std::string_view name, std::string_view value) {
    if (!value.empty()) quoted(name, value);
  }
  void raw_if(std::string_view name, std::string_view value) {
    if (!value.empty()) raw(name, value);
  }
  void yes_if(std::string_view name, bool v) {
    if (v) raw(name, "YES");
  }

 private:
  std::string& out_;
  bool first_ = true;
};

void write_key(std::string& out, const Key& k) {
  out += "#EXT-X-KEY:";
  AttrWriter a(out);
  a.raw("METHOD", k.method);
  a.quoted_if("URI", k.uri);
  a.raw_if("IV", k.iv);
  a.quoted_if("KEYFORMAT", k.keyformat);
  a.quoted_if("KEYFORMATVERSIONS", k.keyformatversions);
  out += '\n';
}

void write_daterange(std::string& out, const DateRange& d) {
  out += "#EXT-X-DATERANGE:";
  AttrWriter a(out);
  a.quoted("ID", d.id);
  a.quoted_if("CLASS", d.klass);
  a.quoted("START-DATE", d.start_date);
  a.quoted_if("END-DATE", d.end_date);
  if (d.duration) a.raw("DURATION", format_decimal(*d.duration));
  if (d.planned_duration) a.raw("PLANNED-DURATION", format_decimal(*d.planned_duration));
  for (auto& [name, value] : d.client_attributes) a.raw(name, value);
  a.raw_if("SCTE35-CMD", d.scte35_cmd);
  a.raw_if("SCTE35-OUT", d.scte35_out);
  a.raw_if("SCTE35-IN", d.scte35_in);
  a.yes_if("END-ON-NEXT", d.end_on_next);
  out += '\n';
}

void write_segment(std::string& out, const Segment& s) {
  if (s.discontinuity) out += "#EXT-X-DISCONTINUITY\n";
  if (s.key) write_key(out, *s.key);
  if (s.map) {
    out += "#EXT-X-MAP:";
    AttrWriter a(out);
    a.quoted("URI", s.map->uri);
    a.quoted_if("BYTERANGE", s.map->byterange);
    out += '\n';
  }
  if (s.program_date_time_ms) {
    out += "#EXT-X-PROGRAM-DATE-TIME:";
    out += format_iso8601_ms(*s.program_date_time_ms);
    out += '\n';
  }
  write_segment_cues(out, s);
  out += "#EXTINF:";
  out += format_decimal(s.duration);
  out += ',';
  out += s.title;
  out += '\n';
  out += s.uri;
  out += '\n';
}

void write_stream_inf_attrs(std::string& out, const Variant& v, bool iframe) {
  AttrWriter a(out);
  a.raw("BANDWIDTH", std::to_string(v.bandwidth));
  if (v.average_bandwidth) a.raw("AVERAGE-BANDWIDTH", std::to_string(*v.average_bandwidth));
  a.quoted_if("CODECS", v.codecs);
  if (v.resolution)
    a.raw("RESOLUTION",
          std::to_string(v.resolution->width) + "x" + std::to_string(v.resolution->height));
  if (v.frame_rate && !iframe) a.raw("FRAME-RATE", format_decimal(*v.frame_rate));
  a.quoted_if("AUDIO", v.audio);
  a.quoted_if("VIDEO", v.video);
  a.quoted_if("SUBTITLES", v.subtitles);
  a.raw_if("CLOSED-CAPTIONS", v.closed_captions);
  if (iframe) a.quoted("URI", v.uri);
}

}  // namespace

void write_segment_cues(std::string& out, const Segment& s) {
  for (auto& d : s.dateranges) write_daterange(out, d);
  if (s.cue_in) out += "#EXT-X-CUE-IN\n";
  if (s.cue_out) {
    out += "#EXT-X-CUE-OUT";
    if (s.cue_out_duration) out += ":" + format_decimal(*s.cue_out_duration);
    out += '\n';
  }
}

int required_version(const MediaPlaylist& p) {
  int v = 3;  // decimal EXTINF durations are always written
  for (auto& s : p.segments) {
    if (s.key && (!s.key->keyformat.empty() || !s.key->keyformatversions.empty()))
      v = std::max(v, 5);
    if (s.map) v = std::max(v, p.i_frames_only ? 5 : 6);
  }
  if (p.i_frames_only) v = std::max(v, 4);
  return v;
}

int required_version(const MasterPlaylist& p) {
  int v = 1;
  for (auto& m : p.media)
    if (m.instream_id.substr(0, 7) == "SERVICE") v = std::max(v, 7);
  return v;
}

std::string write(const MediaPlaylist& p) {
  std::string out;
  out.reserve(128 + p.segments.size() * 96);
  out += "#EXTM3U\n#EXT-X-VERSION:" + std::to_string(required_version(p)) + "\n";
  out += "#EXT-X-TARGETDURATION:" + std::to_string(p.target_duration) + "\n";
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(p.media_sequence) + "\n";
  if (p.discontinuity_sequence)
    out += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string(p.discontinuity_sequence) + "\n";
  if (p.type == PlaylistType::kEvent) out += "#EXT-X-PLAYLIST-TYPE:EVENT\n";
  if (p.type == PlaylistType::kVod) out += "#EXT-X-PLAYLIST-TYPE:VOD\n";
  if (p.independent_segments) out += "#EXT-X-INDEPENDENT-SEGMENTS\n";
  if (p.i_frames_only) out += "#EXT-X-I-FRAMES-ONLY\n";
  for (auto& s : p.segments) write_segment(out, s);
  if (p.endlist) out += "#EXT-X-ENDLIST\n";
  return out;
}

std::string write(const MasterPlaylist& p) {
  std::string out = "#EXTM3U\n#EXT-X-VERSION:" + std::to_string(required_version(p)) + "\n";
  if (p.independent_segments) out += "#EXT-X-INDEPENDENT-SEGMENTS\n";
  for (auto& m : p.media) {
    out += "#EXT-X-MEDIA:";
    AttrWriter a(out);
    a.raw("TYPE", m.type);
    a.quoted("GROUP-ID", m.group_id);
    a.quoted("NAME", m.name);
    a.quoted_if("LANGUAGE", m.language);
    a.quoted_if("ASSOC-LANGUAGE", m.assoc_language);
    a.yes_if("DEFAULT", m.is_default);
    a.yes_if("AUTOSELECT", m.autoselect);
    a.yes_if("FORCED", m.forced);
    a.quoted_if("INSTREAM-ID", m.instream_id);
    a.quoted_if("CHARACTERISTICS", m.characteristics);
    a.quoted_if("CHANNELS", m.channels);
    a.quoted_if("URI", m.uri);
    out += '\n';
  }
  for (auto& v : p.variants) {
    out += "#EXT-X-STREAM-INF:";
    write_stream_inf_attrs(out, v, false);
    out += '\n';
    out += v.uri;
    out += '\n';
  }
  for (auto& v : p.iframe_variants) {
    out += "#EXT-X-I-FRAME-STREAM-INF:";
    write_stream_inf_attrs(out, v, true);
    out += '\n';
  }
  return out;
}

}  // namespace cdn::hls
