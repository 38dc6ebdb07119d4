#pragma once
// Reading an SRT socket (non-blocking, live mode) into a rendition, shared by the listener's and
// the puller's connections.
#include "origin-shield/origin/live_rendition.h"

namespace cdn::origin::ingest {

// Feeds every message the socket has now. False when the connection is closed or broken.
bool srt_read_into(int sock, LiveRendition& rendition, const LiveSource& source);

}  // namespace cdn::origin::ingest
