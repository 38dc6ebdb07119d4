// Bytes (MPEG-TS as an encoder would push it) → CMAF packager → the box parser over everything it
// wrote. The packager reads outside bytes (PES payloads, NAL units, ADTS headers, SCTE-35);
// whatever they are, its output must parse, and its parts must be no longer than the part target.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "origin-shield/origin/live/cmaf_packager.h"
#include "origin-shield/origin/live/fmp4_parse.h"

namespace {

void must_parse(const cdn::Bytes& b) {
  if (b && !cdn::live::fmp4::parse_boxes(*b)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t chunk = 1 + size_t(data[0]) * 7;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  cdn::live::CmafConfig cfg;
  cfg.part_target_s = 0.2;
  cfg.target_duration_s = 1;
  cfg.per_track = data[0] & 1;
  cfg.chunk_target_s = data[0] & 2 ? 0.05 : 0;  // CMAF chunks within parts
  cdn::live::CmafPackager::Output out;
  out.on_init = [](const cdn::live::CmafInit& i) {
    must_parse(i.muxed);
    must_parse(i.video);
    must_parse(i.audio);
  };
  out.on_chunk = [](const cdn::live::CmafChunk& c) {
    must_parse(c.data);
    must_parse(c.video);
    must_parse(c.audio);
  };
  out.on_part = [](const cdn::live::CmafPart& p) {
    must_parse(p.data);
    if (p.cues.size() > 64) std::abort();  // splices are bounded, whatever the input says
    if (p.duration_s < 0) std::abort();
  };
  out.on_segment = [](cdn::live::CmafSegment&& s) {
    must_parse(s.data);
    must_parse(s.video);
    must_parse(s.audio);
  };
  cdn::live::CmafPackager p(cfg, out);
  for (size_t i = 0; i < in.size(); i += chunk) p.feed(in.substr(i, chunk));
  p.flush();
  return 0;
}
