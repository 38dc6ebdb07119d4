#pragma once
// RTMP publish server on a libuv loop (the origin's worker 0): accepts TCP connections, runs an
// RtmpSession for each and feeds the rendition the publisher named. Publishers address
// rtmp://HOST:PORT/live with the stream name `<channel>/<rendition>?key=<stream_key>[&role=backup]`
// (OBS: Server rtmp://HOST:PORT/live, Stream Key news/720p?key=KEY); ffmpeg's
// rtmp://HOST:PORT/live/news/720p?key=KEY arrives as app "live/news", name "720p?key=KEY", which
// reads the same once app and name are joined. Every phase has a deadline: handshake to publish
// (live.rtmp.handshake_timeout) and media while publishing (live.rtmp.idle_timeout). A publisher
// is tracked by LiveIngest like an HTTP push: when a key rotation, a channel or rendition removal
// or draining ends it, the cut is posted to the loop, which sends onStatus (error, the reason) and
// closes the connection.
//
// rtmps (live.rtmp.tls_listen): the same server behind TLS (common/net's TlsSession over memory
// BIOs), for OBS's and ffmpeg's rtmps:// URLs; the TLS handshake counts against handshake_timeout.
#include <cstdint>
#include <memory>
#include <set>

#include "common/util/result.h"
#include "origin-shield/origin/ingest/ingest_config.h"

typedef struct uv_tcp_s uv_tcp_t;
typedef struct uv_loop_s uv_loop_t;

namespace cdn::net {
class Worker;
class TlsContext;
}  // namespace cdn::net

namespace cdn::origin {
class LiveIngest;
}

namespace cdn::origin::ingest {

class RtmpServer {
 public:
  RtmpServer(const RtmpIngestConfig& cfg, LiveIngest& ingest) : cfg_(cfg), ingest_(ingest) {}
  RtmpServer(const RtmpServer&) = delete;
  RtmpServer& operator=(const RtmpServer&) = delete;
  ~RtmpServer() { stop(); }

  // Binds and listens on `w`'s loop (before its thread runs).
  Result<void> start(net::Worker& w);
  // After the loop stopped: ends every publisher's input and closes the handles (the loop's
  // teardown runs their callbacks). Idempotent.
  void stop();

  struct Connection;  // rtmp_server.cpp

 private:
  static void on_connection(uv_tcp_t* listener, int status);
  Result<uv_tcp_t*> listen(uv_loop_t* loop, const config::HostPort& hp, const char* what);
  // On the loop's thread: ends the publisher whose input is `source_id` (onStatus error, close).
  void cut(uint64_t source_id, const char* reason);
  friend struct Connection;

  const RtmpIngestConfig& cfg_;
  LiveIngest& ingest_;
  net::Worker* worker_ = nullptr;
  uv_tcp_t* listener_ = nullptr;
  uv_tcp_t* tls_listener_ = nullptr;
  std::shared_ptr<net::TlsContext> tls_;
  std::set<Connection*> conns_;
};

}  // namespace cdn::origin::ingest
