#pragma once
// Serving under /live/: master, live and event playlists and segments. Reads only the renditions'
// published snapshots, so a request never waits for ingest (no ingest lock is taken; loading a
// snapshot is one refcount increment under its slot's own lock); segments that left
// memory are read from the store on libuv's thread pool.
//
// answer() decides the response from the request alone (status, headers, shared body bytes), so
// it is testable without a connection; serve() applies it to an exchange.
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "common/config/server_config.h"
#include "common/http/exchange.h"
#include "common/util/bytes.h"
#include "origin-shield/origin/live_channels.h"
#include "origin-shield/origin/live_part_waiters.h"
#include "origin-shield/origin/live_storage.h"

namespace cdn::origin {

struct LiveAnswer {
  int status = 200;
  const char* error = nullptr;  // set: an error with this reason (status says which)
  http::Headers headers;
  Bytes body;  // null: empty
  // Set: the segment is only in the store (serve() reads it on the thread pool).
  struct StoreRead {
    const LiveRendition* rendition;
    uint64_t sequence;
  };
  std::optional<StoreRead> store_read;
  // Set: held until the fMP4 output has what was asked (serve() parks it).
  std::optional<CmafHold> hold;
};

// Shared by the TS and fMP4 answers.
LiveAnswer live_error(int status, const char* reason);
// 200 with `body`, or 304 without it when the request's validators match.
LiveAnswer live_representation(const http::Request& req, http::Headers h, const std::string& etag,
                               int64_t modified_s, Bytes body);
http::Headers live_playlist_headers(int64_t max_age_s);
// Sends an answer that needs no store read and is not held.
void respond_live(const std::shared_ptr<http::Exchange>& ex, LiveAnswer a);

class LiveServing {
 public:
  LiveServing(const LiveChannels& channels, std::shared_ptr<LiveStorage> storage,
              const config::OriginConfig& origin)
      : channels_(channels), storage_(std::move(storage)), origin_(origin) {}

  // `rest`: the path after /live/. GET and HEAD only (serve() answers the other methods).
  LiveAnswer answer(const http::Request& req, std::string_view rest) const;
  void serve(const std::shared_ptr<http::Exchange>& ex, std::string_view rest) const;

 private:
  LiveAnswer media_playlist(const http::Request& req, const LiveRendition& r, bool live) const;
  LiveAnswer segment(const http::Request& req, const LiveRendition& r, std::string_view file) const;
  LiveAnswer master(const http::Request& req, std::string_view channel,
                    const char* media_playlist) const;
  // Parks a held answer; `rest` is answered again once what it waits for exists.
  void serve_held(const std::shared_ptr<http::Exchange>& ex, LiveAnswer a, std::string rest,
                  std::string key) const;
  int64_t segment_max_age_s() const { return origin_.segment_max_age_ms / 1000; }

  const LiveChannels& channels_;
  std::shared_ptr<LiveStorage> storage_;
  const config::OriginConfig& origin_;
};

}  // namespace cdn::origin
