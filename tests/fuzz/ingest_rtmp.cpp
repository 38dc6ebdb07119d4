// A publisher's bytes after a valid handshake -> RTMP chunk stream -> AMF0 commands -> FLV tags ->
// MPEG-TS, with every publish accepted so media reaches the FLV parser and the muxer. The first
// byte picks how the input is split across feed() calls; the rest is also decoded as AMF0 and as
// FLV video/audio tag bodies on their own.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "origin-shield/origin/ingest/amf0.h"
#include "origin-shield/origin/ingest/flv_media.h"
#include "origin-shield/origin/ingest/rtmp_session.h"

using namespace cdn::origin::ingest;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t chunk = 1 + size_t(data[0]) * 13;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

  size_t ts_bytes = 0;
  RtmpSession s(
      RtmpChunkLimits{1 << 16, 1 << 20, 64},
      RtmpSession::Hooks{[](const std::string&, const std::string&) { return std::string(); },
                         [&](std::string_view ts) {
                           if (ts.size() % 188 != 0) std::abort();
                           ts_bytes += ts.size();
                         },
                         [](std::string&&) {}});
  std::string hs(1 + 2 * 1536, '\0');
  hs[0] = 3;
  if (s.feed(hs)) std::abort();
  for (size_t i = 0; i < in.size(); i += chunk)
    if (s.feed(in.substr(i, chunk))) break;

  (void)amf0_decode(in);
  FlvMedia flv;
  AccessUnit au;
  const size_t half = in.size() / 2;
  (void)flv.video(0, in.substr(0, half), au);
  (void)flv.video(40, in.substr(0, half), au);
  (void)flv.audio(0, in.substr(half), au);
  return 0;
}
