#pragma once
// MPEG-TS demultiplexer for one single-program stream, push style: bytes in any chunking, events
// out through a Listener. It finds the program (PAT/PMT with CRC), PES starts with unwrapped
// timestamps, whether each video access unit is a keyframe (from its NAL units), SCTE-35 splice
// sections, and the codec parameters for the master playlist. It never allocates per packet.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "origin-shield/origin/live/nal.h"
#include "origin-shield/origin/live/psi.h"
#include "origin-shield/origin/live/scte35.h"
#include "origin-shield/origin/live/timestamp.h"
#include "origin-shield/origin/live/ts_packet.h"

namespace cdn::live {

enum class PacketRole : uint8_t { kOther, kPat, kPmt, kVideo, kAudio, kScte35, kNull };

struct PesStart {
  uint16_t pid = 0;
  StreamKind kind = StreamKind::kOther;
  bool has_pts = false;
  int64_t pts = 0;  // unwrapped 90 kHz
  int64_t dts = 0;  // == pts when the PES has no DTS
  bool random_access = false;
};

struct MediaInfo {
  Codec video_codec = Codec::kUnknown;
  int width = 0;
  int height = 0;
  std::string video_codec_string;
  int64_t frame_ticks = 0;  // 90 kHz frame duration seen between video DTS values
  Codec audio_codec = Codec::kUnknown;
  int sample_rate = 0;
  int channels = 0;
  std::string audio_codec_string;

  double frame_rate() const { return frame_ticks > 0 ? double(kTimestampHz) / frame_ticks : 0; }
  // "avc1.64001f,mp4a.40.2": what EXT-X-STREAM-INF CODECS wants.
  std::string codecs() const;
};

struct DemuxStats {
  uint64_t packets = 0;
  uint64_t sync_losses = 0;
  uint64_t skipped_bytes = 0;  // bytes thrown away while looking for sync
  uint64_t truncated_bytes = 0;
  uint64_t invalid_packets = 0;
  uint64_t transport_errors = 0;
  uint64_t cc_errors = 0;
  uint64_t crc_errors = 0;
  uint64_t pes_errors = 0;
  uint64_t program_changes = 0;
};

class TsDemuxer {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // A new or changed program; the raw sections are kept for re-emission.
    virtual void on_program(const PmtInfo&, std::string_view pat_section,
                            std::string_view pmt_section) = 0;
    virtual void on_pes_start(const PesStart&) = 0;
    // The access unit whose PES started last on `pid` is (not) a keyframe. Comes in the packet
    // holding its first slice, which may be a later packet than the PES start.
    virtual void on_video_access_unit(uint16_t pid, bool keyframe, bool has_sps) = 0;
    virtual void on_splice(const SpliceInfo&, std::string_view section) = 0;
    // Every packet, after the events it caused.
    virtual void on_packet(const uint8_t* packet, PacketRole role) = 0;
  };

  explicit TsDemuxer(Listener& listener);

  void feed(std::string_view bytes);
  // End of input: a trailing partial packet is dropped (and counted).
  void flush();

  DemuxStats stats() const;
  const MediaInfo& media() const { return media_; }
  const std::optional<PmtInfo>& program() const { return pmt_; }
  // Splice times are placed on the same timeline as PES timestamps.
  int64_t place_timestamp(uint64_t ts33) const { return unwrapper_.peek(ts33); }

 private:
  size_t process(const uint8_t* p, size_t n);
  void on_packet(const uint8_t* p);
  void on_pat_section(const uint8_t* s, size_t n);
  void on_pmt_section(const uint8_t* s, size_t n);
  void on_pes_packet(const uint8_t* p, const TsHeader& h, PacketRole role);
  void finish_video_scan();
  void learn_sps();
  void learn_audio(const uint8_t* es, size_t n);

  Listener& listener_;
  DemuxStats stats_;
  MediaInfo media_;
  std::string carry_;  // bytes of a packet split across feed() calls
  bool in_sync_ = false;

  std::array<uint8_t, kMaxPid + 1> role_{};  // PacketRole per PID
  std::array<uint8_t, kMaxPid + 1> cc_{};    // last continuity counter, 0xFF = none yet

  SectionAssembler pat_asm_{1024};
  SectionAssembler pmt_asm_{1024};
  SectionAssembler scte_asm_{4096};
  std::string pat_section_;
  std::string pmt_section_;
  std::optional<PatInfo> pat_;
  std::optional<PmtInfo> pmt_;
  uint16_t video_pid_ = 0xFFFF;
  uint16_t audio_pid_ = 0xFFFF;

  TimestampUnwrapper unwrapper_;
  NalScanner scanner_;
  bool scanning_ = false;
  bool has_video_dts_ = false;
  int64_t last_video_dts_ = 0;
  std::vector<uint8_t> last_sps_;
};

}  // namespace cdn::live
