#include "origin-shield/origin/ingest/srt_read.h"

#include <srt/srt.h>

namespace cdn::origin::ingest {

bool srt_read_into(int sock, LiveRendition& rendition, const LiveSource& source) {
  // Messages that are waiting are gathered and handed on together: one pass through the
  // rendition's lock per batch rather than per 1316-byte message.
  constexpr size_t kMessage = 1500;  // one live-mode message (at most 1456 bytes)
  constexpr size_t kBatch = 16;
  char buf[kMessage * kBatch];
  size_t used = 0;
  for (;;) {
    int n = srt_recvmsg(sock, buf + used, int(kMessage));
    if (n > 0) {
      used += size_t(n);
      if (used + kMessage > sizeof buf) {
        rendition.on_data(source, buf, used);
        used = 0;
      }
      continue;
    }
    if (used > 0) rendition.on_data(source, buf, used);
    return n == SRT_ERROR && srt_getlasterror(nullptr) == SRT_EASYNCRCV;
  }
}

}  // namespace cdn::origin::ingest
