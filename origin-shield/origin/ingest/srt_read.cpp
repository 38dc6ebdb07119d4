#include "origin-shield/origin/ingest/srt_read.h"

#include <srt/srt.h>

namespace cdn::origin::ingest {

bool srt_read_into(int sock, LiveRendition& rendition, const LiveSource& source) {
  char buf[1500];  // one live-mode message (at most 1456 bytes)
  for (;;) {
    int n = srt_recvmsg(sock, buf, sizeof buf);
    if (n > 0) {
      rendition.on_data(source, buf, size_t(n));
      continue;
    }
    return n == SRT_ERROR && srt_getlasterror(nullptr) == SRT_EASYNCRCV;
  }
}

}  // namespace cdn::origin::ingest
