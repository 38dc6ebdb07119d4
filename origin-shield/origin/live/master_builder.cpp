#include "origin-shield/origin/live/master_builder.h"

#include <cmath>

namespace cdn::live {

hls::MasterPlaylist build_master(const std::vector<RenditionSummary>& renditions) {
  hls::MasterPlaylist m;
  m.independent_segments = true;  // every segment starts with PAT, PMT and a keyframe
  for (const auto& r : renditions) {
    if (r.peak_bandwidth == 0) continue;
    hls::Variant v;
    v.uri = r.uri;
    v.bandwidth = r.peak_bandwidth;
    if (r.average_bandwidth) v.average_bandwidth = r.average_bandwidth;
    v.codecs = r.media.codecs();
    if (r.media.width > 0 && r.media.height > 0)
      v.resolution = hls::Resolution{r.media.width, r.media.height};
    if (r.media.frame_rate() > 0) v.frame_rate = std::round(r.media.frame_rate() * 1000) / 1000;
    m.variants.push_back(std::move(v));
  }
  return m;
}

}  // namespace cdn::live
