#pragma once
// MPEG-TS → access units for the CMAF packager: reassembles the primary video PES and the first
// AAC audio PES of the program, converts video from Annex B to 4-byte length-prefixed NAL units
// (parameter sets and access unit delimiters go to the init segment instead), and splits audio
// PES into raw AAC frames (ADTS headers dropped, their timestamps spread 1024 samples apart).
// Runs its own TsDemuxer over the same bytes as the TS segmenter, so the two outputs never
// depend on each other.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "origin-shield/origin/live/fmp4_writer.h"
#include "origin-shield/origin/live/ts_demuxer.h"

namespace cdn::live {

struct AccessUnit {
  bool video = true;
  bool keyframe = true;  // audio frames are all sync samples
  int64_t pts = 0;       // unwrapped 90 kHz
  int64_t dts = 0;
  std::string data;  // length-prefixed NAL units, or one raw AAC frame
};

struct AccessUnitStats {
  uint64_t video_units = 0;
  uint64_t audio_frames = 0;
  uint64_t dropped_units = 0;    // PES without a timestamp, or video before its parameter sets
  uint64_t bad_audio_bytes = 0;  // not ADTS (AC-3 is not packaged into fMP4)
};

class AccessUnitReader : private TsDemuxer::Listener {
 public:
  using Sink = std::function<void(AccessUnit&&)>;
  // An SCTE-35 splice, with its splice time placed on the units' timeline when it has one.
  using SpliceSink =
      std::function<void(const SpliceInfo&, std::string_view section, std::optional<int64_t>)>;
  explicit AccessUnitReader(Sink sink);
  void on_splice(SpliceSink sink) { splice_sink_ = std::move(sink); }

  void feed(std::string_view ts_bytes);
  // End of input: audio frames still being assembled are emitted (ADTS says where each ends); the
  // video access unit in progress is dropped, as nothing says whether the input stopped inside it,
  // unless `input_complete` (a whole file read to its end on a packet boundary): then it is whole.
  void flush(bool input_complete = false);

  // The tracks as known so far: video once an SPS and PPS were seen, audio once an ADTS header was.
  const fmp4::InitConfig& tracks() const { return tracks_; }
  bool has_video_stream() const { return video_pid_ != 0xFFFF; }
  bool has_audio_stream() const { return audio_pid_ != 0xFFFF; }
  const MediaInfo& media() const { return demuxer_.media(); }
  const AccessUnitStats& stats() const { return stats_; }
  int64_t frame_ticks() const { return demuxer_.media().frame_ticks; }

 private:
  struct Pending {
    bool active = false;
    bool keyframe = false;
    int64_t pts = 0, dts = 0;
    std::string es;  // elementary stream bytes of the PES
  };

  void on_program(const PmtInfo&, std::string_view, std::string_view) override;
  void on_pes_start(const PesStart& pes) override;
  void on_video_access_unit(uint16_t pid, bool keyframe, bool has_sps) override;
  void on_splice(const SpliceInfo& info, std::string_view section) override;
  void on_packet(const uint8_t* packet, PacketRole role) override;

  void finish_video();
  void finish_audio();
  void learn_parameter_set(unsigned type, std::string_view nal);

  Sink sink_;
  SpliceSink splice_sink_;
  TsDemuxer demuxer_;
  fmp4::InitConfig tracks_;
  AccessUnitStats stats_;
  uint16_t video_pid_ = 0xFFFF, audio_pid_ = 0xFFFF;
  Codec video_codec_ = Codec::kUnknown;
  Pending video_, audio_;
  bool skip_pes_header_ = false;  // the packet being appended starts a PES
};

}  // namespace cdn::live
