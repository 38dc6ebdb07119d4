// Bytes → fMP4 box parser and its field decoders (what the CMAF checks read). Every box found is
// decoded as each fragment box type, so the decoders see arbitrary bodies too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "origin-shield/origin/live/fmp4_parse.h"

namespace {

void visit(const cdn::live::fmp4::Box& b, size_t total) {
  using namespace cdn::live::fmp4;
  if (b.offset + b.size > total || b.body.size() > b.size) std::abort();
  (void)parse_mfhd(b.body);
  (void)parse_tfhd(b.body);
  (void)parse_tfdt(b.body);
  if (auto t = parse_trun(b.body); t && t->samples.size() > b.body.size()) std::abort();
  (void)parse_mdhd_timescale(b.body);
  for (const Box& c : b.children) visit(c, total);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto boxes = cdn::live::fmp4::parse_boxes(in, 4096);
  if (!boxes) return 0;
  for (const auto& b : *boxes) visit(b, size);
  (void)cdn::live::fmp4::find_box(*boxes, "moof/traf/trun");
  return 0;
}
