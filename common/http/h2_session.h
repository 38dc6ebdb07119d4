#pragma once
// The server side of one HTTP/2 connection (RFC 9113) on nghttp2: bytes the connection read (after
// TLS) go in through on_read(), frames come out into the connection's Stream only while its unsent
// bytes are under the high-water mark (backpressure from the socket), and each request stream is
// an Exchange whose ResponseChannel is its H2Stream, so the proxy core never sees the protocol.
//
// Request bodies are flow-controlled per stream (RFC 9113 §5.2): a stream's window reopens only
// by the bytes its consumer took, so an upload whose upstream is behind stops at one window.
// The connection's window reopens as bytes arrive (every stream's share is bounded by its own
// window), so stalled uploads, reset streams and dropped bodies never hold up the others.
//
// nghttp2 calls us back from inside nghttp2_session_mem_recv/send, where it must not be re-entered:
// handlers run, and dropped streams are told, only after those calls return.
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/exchange.h"
#include "common/http/h2_limits.h"

namespace cdn::net {
class Stream;
}

namespace cdn::http {

struct ConnectionContext;
class ServerConnection;
class H2Stream;

class H2Session {
 public:
  // `conn` owns this session and `stream`; both outlive it.
  H2Session(ConnectionContext* ctx, ServerConnection& conn, net::Stream& stream, bool tls);
  ~H2Session();
  H2Session(const H2Session&) = delete;
  H2Session& operator=(const H2Session&) = delete;

  // Sends our SETTINGS; false if nghttp2 could not be set up (the connection should close).
  bool start();
  void on_read(const char* data, size_t len);
  // The socket took queued bytes.
  void on_progress();
  // The connection closed: every open stream's exchange learns its client is gone.
  void on_connection_closed();
  void on_tick(int64_t now_ms);
  // The socket is gone: exchanges not yet logged are logged with what was sent.
  void account_final();
  // Graceful GOAWAY: streams in progress finish, no new ones start, then the connection closes.
  void drain();
  bool idle() const { return streams_.empty(); }

  // --- For H2Stream ---
  bool submit_head(H2Stream& st, const ResponseHead& head);
  // The stream has more body bytes, or its end: wake its data provider and send.
  void resume(H2Stream& st);
  // RST_STREAM for a response that cannot be completed (or a stalled stream).
  void reset(H2Stream& st, const char* why);
  void answered(H2Stream& st);
  // Reopens the stream's window by the request body bytes its consumer has taken (none while
  // it is paused).
  void give_back(H2Stream& st);
  size_t stream_window() const;

 private:
  // nghttp2 callbacks
  static ssize_t on_send(nghttp2_session*, const uint8_t* data, size_t len, int, void* self);
  static int on_send_data(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd,
                          size_t len, nghttp2_data_source* source, void* self);
  static ssize_t on_read_data(nghttp2_session*, int32_t id, uint8_t*, size_t len, uint32_t* flags,
                              nghttp2_data_source* source, void* self);
  static int on_begin_frame(nghttp2_session*, const nghttp2_frame_hd* hd, void* self);
  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                       void* self);
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int on_invalid_frame_recv(nghttp2_session*, const nghttp2_frame* frame, int lib_error,
                                   void* self);
  static int on_data_chunk(nghttp2_session*, uint8_t flags, int32_t id, const uint8_t* data,
                           size_t len, void* self);
  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int on_stream_close(nghttp2_session*, int32_t id, uint32_t error_code, void* self);

  const H2Options& limits() const;
  H2Stream* find(int32_t id) const;
  // Frame-level flood checks, from each frame's header before its payload is read.
  int check_frame(const nghttp2_frame_hd& hd);
  void headers_done(H2Stream& st, bool end_stream);
  void data_received(H2Stream& st, const uint8_t* data, size_t len);
  // The body held for a handler that answered without reading it: freed, its window reopened.
  void drop_held_body(H2Stream& st);
  // The response ended before the request body: drop the body's rest if it is small, else
  // RST_STREAM NO_ERROR.
  void linger_or_reset(nghttp2_session* session, H2Stream& st);
  // A client crossed a connection limit: GOAWAY ENHANCE_YOUR_CALM once, counted and logged.
  void terminate(const char* reason);
  void count_refused(std::string_view reason, bool connection = false);
  // Runs what nghttp2 callbacks left for later: handlers of new requests, aborted exchanges.
  void run_deferred();
  // Sends what nghttp2 has while the connection is under its high-water mark. `from_event`: called
  // from a socket event (not from inside a producer's write), so producers may be resumed here.
  void flush(bool from_event = false);
  void run_proceed();
  // While the worker runs posted work (the wakes of a fill's waiters, say): the flush is made once
  // that work is done, so every stream it answered leaves in one write. False: not in posted work.
  bool flush_after_posted();
  // No other HTTP/2 connection of this worker thread was read within kBusyWindowUs.
  bool worker_quiet(int64_t now_us);
  // Writes the answers of this read made so far; the batch goes on for the rest.
  void write_batch_early();
  void write_out();
  // The exchange is over: it is logged once the bytes written so far have left.
  void log_when_sent(const std::shared_ptr<Exchange>& ex);
  // Credits body bytes the socket took and logs exchanges whose last bytes left.
  void account();
  void close_connection();

  ConnectionContext* ctx_;
  ServerConnection& conn_;
  net::Stream& stream_;
  bool tls_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::shared_ptr<H2Stream>> streams_;

  // Output gathered during one nghttp2_session_send, written to the stream in one piece.
  std::string out_;
  struct Sent {
    std::shared_ptr<Exchange> ex;
    uint64_t end = 0;   // stream offset after which these bytes have left
    uint64_t body = 0;  // body bytes in them
    bool log = false;   // the exchange is over: log it once its bytes left
  };
  std::vector<Sent> batch_;  // for out_, offsets not known yet
  std::vector<Sent> sent_;   // written, waiting for the socket

  // Reused by submit_head(): the response's field list and its lowercased names.
  std::vector<nghttp2_nv> nva_;
  std::string names_;

  std::vector<std::shared_ptr<H2Stream>> to_dispatch_;
  std::vector<std::shared_ptr<Exchange>> gone_;
  std::vector<std::weak_ptr<H2Stream>> to_proceed_;

  WindowCounter resets_, settings_, pings_, empty_data_;
  uint32_t continuations_ = 0;
  uint64_t header_block_bytes_ = 0;
  uint64_t stall_flushed_ = 0;
  int64_t stall_since_ms_ = 0;
  int64_t idle_since_ms_ = 0;
  // The clock read once per read event and per flush, not once per frame: timeouts here are
  // seconds long.
  int64_t now_ms_ = 0;
  bool seen_request_ = false;
  bool in_nghttp2_ = false, flushing_ = false, flush_again_ = false, batching_ = false;
  bool terminating_ = false, goaway_sent_ = false, closed_ = false, poke_posted_ = false;
  bool after_posted_due_ = false;
  size_t heads_batched_ = 0;          // responses submitted in this read's batch so far
  size_t early_flush_at_ = SIZE_MAX;  // ... at which those made so far are written early
  static constexpr int64_t kBusyWindowUs = 1000;
  // At most this many streams open: the client's pipeline is shallow, answers leave in pairs.
  static constexpr size_t kShallowPipeline = 16, kShallowBatch = 2;
  // Expires with the session: a posted flush finds out whether it still has one.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cdn::http
