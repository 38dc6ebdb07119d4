#pragma once
// Answers streamed while their object is written: the preload-hinted part, and (low-latency DASH)
// the segment in progress. The response head leaves at once; each chunk (moof/mdat fragment) is
// sent as ingest publishes it; the body ends with the object's last chunk. An object that will
// never be complete (the encoder stopped, or the wait passed its deadline) ends the response
// without its last chunk, so no client or cache can take the bytes sent for a whole object.
#include <cstdint>
#include <memory>
#include <vector>

#include "common/http/exchange.h"
#include "common/util/bytes.h"
#include "origin-shield/origin/live_part_waiters.h"

namespace cdn::origin {

class LiveRendition;

// What one snapshot has of a target.
struct GrowingView {
  Bytes whole;                                 // complete
  const std::vector<Bytes>* chunks = nullptr;  // being written (null: nothing yet)
  size_t chunk_bytes = 0;
  bool gone = false;  // will never be complete here (another session, left the window)
};
GrowingView view_growing(const CmafSnapshot& s, const GrowingTarget& t);

// Starts the response (chunked) and streams the target until it is complete, it is gone, the
// stream ends without it, or `timeout_ms` passes. On the exchange's worker thread.
void stream_growing(const std::shared_ptr<http::Exchange>& ex, const LiveRendition& r,
                    const GrowingTarget& t, http::Headers h, int64_t timeout_ms);

}  // namespace cdn::origin
