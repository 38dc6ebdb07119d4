#include "tests/unit/live/ts_builder.h"

#include "origin-shield/origin/live/crc32.h"

namespace cdn::live::testing {

std::string finish_section(std::string s) {
  const size_t length = s.size() - 3 + 4;
  s[1] = char((uint8_t(s[1]) & 0xF0) | ((length >> 8) & 0x0F));
  s[2] = char(length & 0xFF);
  const uint32_t crc = crc32_mpeg2(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  for (int i = 3; i >= 0; --i) s.push_back(char((crc >> (8 * i)) & 0xFF));
  return s;
}

std::string make_pat_section(uint16_t program, uint16_t pmt_pid, uint8_t version) {
  BitWriter w;
  w.put(0x00, 8);
  w.put(0xB, 4);  // syntax=1, zero, reserved
  w.put(0, 12);   // length, set later
  w.put(1, 16);   // transport_stream_id
  w.put(3, 2);
  w.put(version, 5);
  w.put(1, 1);
  w.put(0, 8);
  w.put(0, 8);
  w.put(program, 16);
  w.put(7, 3);
  w.put(pmt_pid, 13);
  return finish_section(w.bytes());
}

std::string make_pmt_section(uint16_t program, uint16_t pcr_pid,
                             const std::vector<PmtStream>& streams, uint8_t version) {
  BitWriter w;
  w.put(0x02, 8);
  w.put(0xB, 4);
  w.put(0, 12);
  w.put(program, 16);
  w.put(3, 2);
  w.put(version, 5);
  w.put(1, 1);
  w.put(0, 8);
  w.put(0, 8);
  w.put(7, 3);
  w.put(pcr_pid, 13);
  w.put(0xF, 4);
  w.put(0, 12);
  for (auto& s : streams) {
    w.put(s.stream_type, 8);
    w.put(7, 3);
    w.put(s.pid, 13);
    w.put(0xF, 4);
    w.put(0, 12);
  }
  return finish_section(w.bytes());
}

namespace {

void splice_header(BitWriter& w, uint8_t command) {
  w.put(0xFC, 8);
  w.put(0, 1);
  w.put(0, 1);
  w.put(3, 2);
  w.put(0, 12);
  w.put(0, 8);   // protocol_version
  w.put(0, 1);   // encrypted
  w.put(0, 6);   // algorithm
  w.put(0, 33);  // pts_adjustment
  w.put(0xFF, 8);
  w.put(0xFFF, 12);
  w.put(0xFFF, 12);  // splice_command_length: legacy "unknown"
  w.put(command, 8);
}

void splice_time(BitWriter& w, std::optional<uint64_t> pts) {
  if (pts) {
    w.put(1, 1);
    w.put(0x3F, 6);
    w.put(*pts, 33);
  } else {
    w.put(0, 1);
    w.put(0x7F, 7);
  }
}

}  // namespace

std::string make_splice_insert(uint32_t event_id, bool out, std::optional<uint64_t> pts,
                               std::optional<uint64_t> duration, bool cancel) {
  BitWriter w;
  splice_header(w, 0x05);
  w.put(event_id, 32);
  w.put(cancel, 1);
  w.put(0x7F, 7);
  if (!cancel) {
    w.put(out, 1);
    w.put(1, 1);  // program_splice_flag
    w.put(duration.has_value(), 1);
    w.put(!pts.has_value(), 1);  // splice_immediate_flag
    w.put(0xF, 4);
    if (pts) splice_time(w, pts);
    if (duration) {
      w.put(1, 1);
      w.put(0x3F, 6);
      w.put(*duration, 33);
    }
    w.put(1, 16);
    w.put(0, 8);
    w.put(0, 8);
  }
  w.put(0, 16);  // descriptor_loop_length
  return finish_section(w.bytes());
}

std::string make_time_signal(uint32_t event_id, uint64_t pts, uint8_t segmentation_type,
                             std::optional<uint64_t> duration) {
  BitWriter d;  // segmentation_descriptor body after the tag and length
  d.put('C', 8);
  d.put('U', 8);
  d.put('E', 8);
  d.put('I', 8);
  d.put(event_id, 32);
  d.put(0, 1);
  d.put(0x7F, 7);
  d.put(1, 1);  // program_segmentation_flag
  d.put(duration.has_value(), 1);
  d.put(1, 1);  // delivery_not_restricted
  d.put(0x1F, 5);
  if (duration) d.put(*duration, 40);
  d.put(0, 8);  // upid type
  d.put(0, 8);  // upid length
  d.put(segmentation_type, 8);
  d.put(0, 8);
  d.put(0, 8);
  const std::string desc = d.bytes();
  BitWriter w;
  splice_header(w, 0x06);
  splice_time(w, pts);
  w.put(desc.size() + 2, 16);
  w.put(0x02, 8);
  w.put(desc.size(), 8);
  std::string s = w.bytes() + desc;
  return finish_section(s);
}

std::vector<Packet> packet_headers(const std::string& ts) {
  std::vector<Packet> out;
  for (size_t i = 0; i + kTsPacketSize <= ts.size(); i += kTsPacketSize) {
    const auto* p = reinterpret_cast<const uint8_t*>(ts.data() + i);
    out.push_back({uint16_t((p[1] & 0x1F) << 8 | p[2]), bool(p[1] & 0x40)});
  }
  return out;
}

namespace {

class ProbeListener : public TsDemuxer::Listener {
 public:
  SegmentProbe probe;
  PesLog log;
  bool saw_pes = false;
  void on_program(const PmtInfo& pmt, std::string_view, std::string_view) override {
    probe.program = pmt;
  }
  void on_pes_start(const PesStart& s) override {
    if (!saw_pes) probe.first_pes_is_video = s.kind == StreamKind::kVideo;
    saw_pes = true;
    log.pes.push_back(s);
    if (s.kind == StreamKind::kVideo && s.has_pts) probe.video_pts.push_back(s.pts);
  }
  void on_video_access_unit(uint16_t, bool keyframe, bool) override {
    if (!probe.first_video_keyframe) probe.first_video_keyframe = keyframe;
    log.video_keyframes.push_back(keyframe);
  }
  void on_splice(const SpliceInfo&, std::string_view) override {}
  void on_packet(const uint8_t*, PacketRole role) override {
    if (probe.first_roles.size() < 3) probe.first_roles.push_back(role);
  }
};

}  // namespace

SegmentProbe probe_segment(const std::string& ts) {
  ProbeListener l;
  TsDemuxer d(l);
  d.feed(ts);
  d.flush();
  l.probe.frame_ticks = d.media().frame_ticks;
  l.probe.cc_errors = d.stats().cc_errors;
  return l.probe;
}

PesLog log_pes(const std::string& ts) {
  ProbeListener l;
  TsDemuxer d(l);
  d.feed(ts);
  d.flush();
  return l.log;
}

}  // namespace cdn::live::testing
