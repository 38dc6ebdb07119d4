#include "origin-shield/origin/live/fmp4_writer.h"

#include "origin-shield/origin/live/fmp4_box.h"

namespace cdn::live::fmp4 {
namespace {

constexpr uint32_t kSyncFlags = 0x02000000;     // depends on no other sample
constexpr uint32_t kNonSyncFlags = 0x01010000;  // depends on others, not a sync sample

void matrix(BoxWriter& w) {
  for (uint32_t v : {0x00010000u, 0u, 0u, 0u, 0x00010000u, 0u, 0u, 0u, 0x40000000u}) w.u32(v);
}

void ftyp(BoxWriter& w) {
  w.open("ftyp");
  w.fourcc("iso6");
  w.u32(0);
  for (auto& b : {"iso6", "cmfc", "mp41"}) w.bytes(std::string_view(b, 4));
  w.close();
}

void mvhd(BoxWriter& w, uint32_t next_track_id) {
  w.open_full("mvhd", 0, 0);
  w.u32(0);  // creation time
  w.u32(0);  // modification time
  w.u32(1000);
  w.u32(0);           // duration: unknown (fragmented)
  w.u32(0x00010000);  // rate 1.0
  w.u16(0x0100);      // volume 1.0
  w.zeros(10);
  matrix(w);
  w.zeros(24);
  w.u32(next_track_id);
}

void tkhd(BoxWriter& w, uint32_t track_id, bool audio, int width, int height) {
  w.open_full("tkhd", 0, 0x000003);  // enabled, in movie
  w.u32(0);
  w.u32(0);
  w.u32(track_id);
  w.u32(0);
  w.u32(0);  // duration
  w.zeros(8);
  w.u16(0);  // layer
  w.u16(0);  // alternate group
  w.u16(audio ? 0x0100 : 0);
  w.u16(0);
  matrix(w);
  w.u32(uint32_t(width) << 16);
  w.u32(uint32_t(height) << 16);
  w.close();
}

void mdhd_hdlr(BoxWriter& w, bool audio) {
  w.open_full("mdhd", 0, 0);
  w.u32(0);
  w.u32(0);
  w.u32(kTimescale);
  w.u32(0);
  w.u16(0x55C4);  // "und"
  w.u16(0);
  w.close();
  w.open_full("hdlr", 0, 0);
  w.u32(0);
  w.bytes(audio ? "soun" : "vide");
  w.zeros(12);
  w.bytes(audio ? std::string_view("SoundHandler\0", 13) : std::string_view("VideoHandler\0", 13));
  w.close();
}

void dinf(BoxWriter& w) {
  w.open("dinf");
  w.open_full("dref", 0, 0);
  w.u32(1);
  w.open_full("url ", 0, 1);  // media in the same file
  w.close();
  w.close();
  w.close();
}

void empty_sample_tables(BoxWriter& w) {
  const auto empty_table = [&w](const char(&type)[5]) {
    w.open_full(type, 0, 0);
    w.u32(0);  // entry count
    w.close();
  };
  empty_table("stts");
  empty_table("stsc");
  empty_table("stco");
  w.open_full("stsz", 0, 0);
  w.u32(0);
  w.u32(0);
  w.close();
}

void visual_entry_head(BoxWriter& w, const VideoTrack& v) {
  w.zeros(6);
  w.u16(1);  // data_reference_index
  w.zeros(16);
  w.u16(uint16_t(v.width));
  w.u16(uint16_t(v.height));
  w.u32(0x00480000);  // 72 dpi
  w.u32(0x00480000);
  w.u32(0);
  w.u16(1);     // frame count
  w.zeros(32);  // compressor name
  w.u16(0x0018);
  w.u16(0xFFFF);
}

void avcc(BoxWriter& w, const VideoTrack& v) {
  w.open("avcC");
  w.u8(1);
  const auto at = [&](size_t i) { return v.sps.size() > i ? uint8_t(v.sps[i]) : uint8_t(0); };
  w.u8(at(1));  // profile_idc
  w.u8(at(2));  // constraint flags
  w.u8(at(3));  // level_idc
  w.u8(0xFF);   // 4-byte NAL lengths
  w.u8(0xE1);   // one SPS
  w.u16(uint16_t(v.sps.size()));
  w.bytes(v.sps);
  w.u8(1);
  w.u16(uint16_t(v.pps.size()));
  w.bytes(v.pps);
  const uint8_t profile = at(1);
  if (profile == 100 || profile == 110 || profile == 122 || profile == 144) {
    w.u8(0xFD);  // 4:2:0 (what the encoders we ingest send; the SPS carries the truth)
    w.u8(0xF8);  // 8-bit luma
    w.u8(0xF8);  // 8-bit chroma
    w.u8(0);     // no SPS extensions
  }
  w.close();
}

// profile_tier_level's 12 general bytes follow the SPS's 2-byte NAL header and one byte of ids;
// emulation prevention bytes are removed first.
std::string hevc_general_ptl(const std::string& sps) {
  std::string rbsp;
  int zeros = 0;
  for (size_t i = 2; i < sps.size() && rbsp.size() < 13; ++i) {
    const uint8_t b = uint8_t(sps[i]);
    if (zeros >= 2 && b == 3) {
      zeros = 0;
      continue;
    }
    zeros = b == 0 ? zeros + 1 : 0;
    rbsp.push_back(char(b));
  }
  rbsp.resize(13, '\0');
  return rbsp.substr(1);
}

void hvcc(BoxWriter& w, const VideoTrack& v) {
  w.open("hvcC");
  w.u8(1);
  w.bytes(hevc_general_ptl(v.sps));  // profile space/tier/idc, compat flags, constraints, level
  w.u16(0xF000);                     // min_spatial_segmentation_idc 0
  w.u8(0xFC);                        // parallelism unknown
  w.u8(0xFD);                        // 4:2:0
  w.u8(0xF8);
  w.u8(0xF8);
  w.u16(0);    // avg frame rate unknown
  w.u8(0x0F);  // 1 temporal layer, nested, 4-byte NAL lengths
  w.u8(3);
  const std::pair<uint8_t, const std::string*> arrays[] = {
      {32, &v.vps}, {33, &v.sps}, {34, &v.pps}};
  for (auto& [type, nal] : arrays) {
    w.u8(0x80 | type);  // array_completeness
    w.u16(1);
    w.u16(uint16_t(nal->size()));
    w.bytes(*nal);
  }
  w.close();
}

void esds(BoxWriter& w, const AudioTrack& a) {
  const auto asc = uint8_t(a.audio_specific_config.size());
  const uint8_t dec_len = uint8_t(13 + 2 + asc);
  w.open_full("esds", 0, 0);
  w.u8(0x03);  // ES_Descriptor
  w.u8(uint8_t(3 + 2 + dec_len + 3));
  w.u16(0);  // ES_ID
  w.u8(0);
  w.u8(0x04);  // DecoderConfigDescriptor
  w.u8(dec_len);
  w.u8(0x40);  // MPEG-4 audio
  w.u8(0x15);  // audio stream
  w.u24(0);
  w.u32(0);
  w.u32(0);
  w.u8(0x05);  // DecoderSpecificInfo
  w.u8(asc);
  w.bytes(a.audio_specific_config);
  w.u8(0x06);  // SLConfigDescriptor
  w.u8(1);
  w.u8(0x02);
  w.close();
}

void stsd(BoxWriter& w, const InitConfig& c, bool audio) {
  w.open_full("stsd", 0, 0);
  w.u32(1);
  if (audio) {
    const AudioTrack& a = *c.audio;
    w.open("mp4a");
    w.zeros(6);
    w.u16(1);
    w.zeros(8);
    w.u16(uint16_t(a.channels));
    w.u16(16);
    w.u32(0);
    w.u32(uint32_t(a.sample_rate) << 16);
    esds(w, a);
    w.close();
  } else {
    const VideoTrack& v = *c.video;
    const bool hevc = v.codec == Codec::kHevc;
    w.open(hevc ? "hvc1" : "avc1");
    visual_entry_head(w, v);
    hevc ? hvcc(w, v) : avcc(w, v);
    w.close();
  }
  w.close();
}

void trak(BoxWriter& w, const InitConfig& c, bool audio) {
  const uint32_t id = audio ? c.audio_track_id() : c.video_track_id();
  w.open("trak");
  tkhd(w, id, audio, audio ? 0 : c.video->width, audio ? 0 : c.video->height);
  w.open("mdia");
  mdhd_hdlr(w, audio);
  w.open("minf");
  if (audio) {
    w.open_full("smhd", 0, 0);
    w.u32(0);
  } else {
    w.open_full("vmhd", 0, 1);
    w.zeros(8);
  }
  w.close();
  dinf(w);
  w.open("stbl");
  stsd(w, c, audio);
  empty_sample_tables(w);
  w.close();  // stbl
  w.close();  // minf
  w.close();  // mdia
  w.close();  // trak
}

void trex(BoxWriter& w, uint32_t track_id) {
  w.open_full("trex", 0, 0);
  w.u32(track_id);
  w.u32(1);
  w.u32(0);
  w.u32(0);
  w.u32(0);
  w.close();
}

}  // namespace

std::string write_init(const InitConfig& c) {
  std::string out;
  BoxWriter w(out);
  ftyp(w);
  w.open("moov");
  mvhd(w, uint32_t(1 + bool(c.video) + bool(c.audio)));
  w.close();
  if (c.video) trak(w, c, false);
  if (c.audio) trak(w, c, true);
  w.open("mvex");
  if (c.video) trex(w, c.video_track_id());
  if (c.audio) trex(w, c.audio_track_id());
  w.close();
  w.close();
  return out;
}

std::string write_styp() {
  std::string out;
  BoxWriter w(out);
  w.open("styp");
  w.fourcc("msdh");
  w.u32(0);
  for (auto& b : {"msdh", "msix", "cmfs"}) w.bytes(std::string_view(b, 4));
  w.close();
  return out;
}

std::string write_fragment(uint32_t sequence_number, const std::vector<TrackRun>& runs) {
  std::string out;
  BoxWriter w(out);
  w.open("moof");
  w.open_full("mfhd", 0, 0);
  w.u32(sequence_number);
  w.close();
  std::vector<size_t> offset_at;
  for (const TrackRun& r : runs) {
    if (r.samples.empty()) continue;
    w.open("traf");
    w.open_full("tfhd", 0, 0x020000);  // default-base-is-moof
    w.u32(r.track_id);
    w.close();
    w.open_full("tfdt", 1, 0);
    w.u64(r.base_decode_time);
    w.close();
    // data offset, durations, sizes, flags, composition offsets (version 1: signed)
    w.open_full("trun", 1, 0x000F01);
    w.u32(uint32_t(r.samples.size()));
    offset_at.push_back(w.size());
    w.u32(0);
    for (const Sample& s : r.samples) {
      w.u32(s.duration);
      w.u32(s.size);
      w.u32(s.sync ? kSyncFlags : kNonSyncFlags);
      w.u32(uint32_t(s.composition_offset));
    }
    w.close();
    w.close();
  }
  w.close();  // moof
  size_t data_at = out.size() + 8;
  size_t i = 0;
  for (const TrackRun& r : runs) {
    if (r.samples.empty()) continue;
    w.patch_u32(offset_at[i++], uint32_t(data_at));
    data_at += r.data.size();
  }
  w.open("mdat");
  for (const TrackRun& r : runs)
    if (!r.samples.empty()) w.bytes(r.data);
  w.close();
  return out;
}

}  // namespace cdn::live::fmp4
