#pragma once
// The live benchmarks' input: a 30 s ffmpeg-made 720p H.264 + AAC stream, generated once into /tmp.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace cdn::bench {

inline const std::string& live_input() {
  static const std::string data = [] {
    const char* path = "/tmp/cdn-bench-live-30s.ts";
    std::ifstream probe(path, std::ios::binary);
    if (!probe) {
      const int rc = std::system(
          "ffmpeg -nostdin -y -loglevel error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi "
          "-i sine=frequency=1000:sample_rate=48000 -pix_fmt yuv420p -c:v libx264 -preset "
          "ultrafast -b:v 5M -g 60 -keyint_min 60 -sc_threshold 0 -c:a aac -t 30 -f mpegts "
          "/tmp/cdn-bench-live-30s.ts");
      if (rc != 0) return std::string();
    }
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }();
  return data;
}

}  // namespace cdn::bench
