#pragma once
// One HTTP/2 stream seen from its exchange: the ResponseChannel that HTTP/1.1 connections also
// implement. Response body blocks wait here (shared, not copied) until the stream's flow-control
// window lets the session frame them, so a stream whose window is closed holds only its own
// queue, bounded by the same high-water mark a connection has on HTTP/1.1.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/http/exchange.h"
#include "common/http/h2_request.h"

namespace cdn::http {

class H2Session;

class H2Stream : public ResponseChannel {
 public:
  H2Stream(H2Session* session, int32_t id, H2RequestBuilder builder, int64_t now_ms)
      : progress_ms_(now_ms),
        session_(session),
        id_(id),
        builder_(std::move(builder)),
        opened_ms_(now_ms) {}

  int32_t id() const { return id_; }
  H2RequestBuilder& builder() { return builder_; }
  const std::shared_ptr<Exchange>& exchange() const { return ex_; }
  void set_exchange(std::shared_ptr<Exchange> ex) { ex_ = std::move(ex); }
  // The session let go of this stream (closed, or the connection is gone): every call is a no-op.
  void detach() { session_ = nullptr; }
  bool attached() const { return session_ != nullptr; }

  // --- Used by the session's data provider ---
  size_t queued() const { return queued_; }
  bool body_ended() const { return body_ended_; }
  // Moves n queued body bytes to the end of `out`.
  void take(std::string& out, size_t n);
  bool deferred = false;     // the provider said DEFERRED: resume once bytes or the end come
  bool proceed_due = false;  // already listed for a proceed() after this send
  int64_t progress_ms_ = 0;  // last time body bytes left the queue, or it was empty
  int64_t opened_ms() const { return opened_ms_; }

  // Request body bytes that came before anyone asked for them: within the stream's window,
  // which they keep shut until they are read.
  std::string held_body;
  uint64_t body_seen = 0;  // request body bytes received while nobody read them
  // Request body bytes received and not yet given back to the stream's flow-control window:
  // held, or taken by a consumer that has since paused (its upstream is behind).
  uint64_t unconsumed = 0;
  uint64_t body_received = 0;  // every request body byte that came
  // Answered before its body ended, the rest being dropped: when the last of it came.
  int64_t lingering_since_ms = 0;
  bool lingering = false;
  bool body_paused = false;
  bool request_ended = false;
  bool dispatched = false;  // the handler has run

  // ResponseChannel
  bool channel_open(const Exchange& ex) const override { return session_ && ex_.get() == &ex; }
  bool send_head(Exchange& ex, const ResponseHead& head, std::string_view body,
                 std::span<const Bytes> blocks) override;
  bool send_body(Exchange& ex, std::span<const Bytes> blocks) override;
  void end_response(Exchange& ex) override;
  void abort_response(Exchange& ex) override;
  size_t unsent_bytes(const Exchange&) const override { return queued_; }
  size_t send_window() const override;
  void want_request_body(Exchange& ex) override;
  // Paused: the window stays shut, so the client sends at most what it already may.
  void request_body_flow(Exchange& ex, bool paused) override;

 private:
  void queue(std::span<const Bytes> blocks);

  H2Session* session_;
  int32_t id_;
  H2RequestBuilder builder_;
  std::shared_ptr<Exchange> ex_;
  // Body blocks not yet framed: [head_, end) of blocks_, the first from offset off_.
  std::vector<Bytes> blocks_;
  size_t head_ = 0, off_ = 0, queued_ = 0;
  bool body_ended_ = false;
  int64_t opened_ms_ = 0;
};

}  // namespace cdn::http
