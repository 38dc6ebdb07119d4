#pragma once
// Program-specific information: PAT and PMT sections, their reassembly across packets, and the
// reverse (a section packed into packets), which the segmenter uses to start every segment.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cdn::live {

enum class Codec : uint8_t { kUnknown, kH264, kHevc, kAac, kAc3, kScte35 };
enum class StreamKind : uint8_t { kOther, kVideo, kAudio, kScte35 };

StreamKind kind_of(Codec c);
const char* codec_name(Codec c);

struct PatInfo {
  uint16_t transport_stream_id = 0;
  uint8_t version = 0;
  uint16_t program_number = 0;  // the first program; single-program streams are what we ingest
  uint16_t pmt_pid = 0;
};

struct EsInfo {
  uint16_t pid = 0;
  uint8_t stream_type = 0;
  Codec codec = Codec::kUnknown;
  StreamKind kind = StreamKind::kOther;
};

struct PmtInfo {
  uint16_t pid = 0;  // where it was found (from the PAT)
  uint16_t program_number = 0;
  uint8_t version = 0;
  uint16_t pcr_pid = 0;
  std::vector<EsInfo> streams;
};

// `section` is complete and its CRC already verified.
std::optional<PatInfo> parse_pat(const uint8_t* section, size_t size);
std::optional<PmtInfo> parse_pmt(const uint8_t* section, size_t size);

// Reassembles sections of one PID from packet payloads (pointer_field, sections spanning packets,
// several sections in one packet). Only sections with a good CRC are delivered. The buffer is
// reserved once, so steady-state reassembly does not allocate.
class SectionAssembler {
 public:
  explicit SectionAssembler(size_t max_section_size = 4096);
  template <typename OnSection>
  void push(const uint8_t* payload, size_t size, bool unit_start, OnSection&& on_section);
  void reset() {
    buf_.clear();
    active_ = false;
  }
  uint64_t crc_errors() const { return crc_errors_; }

 private:
  // Appends from p up to the end of the current section; returns bytes used and sets `done`.
  size_t take(const uint8_t* p, size_t n, bool& done);
  std::vector<uint8_t> buf_;
  size_t max_;
  bool active_ = false;
  uint64_t crc_errors_ = 0;
};

template <typename OnSection>
void SectionAssembler::push(const uint8_t* p, size_t n, bool unit_start, OnSection&& on_section) {
  size_t pos = 0;
  bool done = false;
  if (unit_start) {
    if (n == 0) return;
    const size_t pointer = p[0];
    if (1 + pointer > n) {
      reset();
      return;
    }
    if (active_) {
      take(p + 1, pointer, done);
      if (done) on_section(buf_.data(), buf_.size());
    }
    reset();
    pos = 1 + pointer;
    while (pos < n && p[pos] != 0xFF) {  // 0xFF starts the stuffing after the last section
      active_ = true;
      pos += take(p + pos, n - pos, done);
      if (!done) return;
      on_section(buf_.data(), buf_.size());
      reset();
    }
    return;
  }
  if (!active_) return;
  take(p, n, done);
  if (done) {
    on_section(buf_.data(), buf_.size());
    reset();
  }
}

// Appends the packets carrying `section` on `pid` to `out`, advancing `cc`.
void packetize_section(uint16_t pid, const std::string& section, uint8_t& cc, std::string& out);

}  // namespace cdn::live
