#pragma once
// One DNS-over-TCP connection (RFC 7766): 2-byte length-framed queries, several per connection,
// answered in order. Bounded: at most one partial query is buffered, reading pauses while more
// than kMaxPendingWrite answer bytes wait for the peer, and a connection that completes no query
// for idle_ms is closed. Answers go out through two reused buffers (one being written, one
// gathering the answers that come meanwhile), so a busy connection allocates nothing per query
// and pipelined answers leave in one write.
#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>

#include "common/net/uv_handle.h"
#include "geo/dns/answerer.h"

namespace cdn::geo::dns {

class TcpSession {
 public:
  static constexpr size_t kMaxPendingWrite = 16 * 1024;
  using OnClosed = std::function<void(TcpSession*)>;  // the owner frees the session here

  // Takes ownership of `tcp` (an accepted connection on `loop`).
  TcpSession(uv_loop_t* loop, uv_tcp_t* tcp, Answerer answer, int64_t idle_ms, OnClosed on_closed);
  ~TcpSession();
  TcpSession(const TcpSession&) = delete;
  TcpSession& operator=(const TcpSession&) = delete;

  void start();
  // Closes the socket (writes in flight are cancelled) and calls on_closed; `this` is gone after.
  void close();

 private:
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  void consume(const char* data, size_t len);
  size_t frame_size() const;  // of the frame in in_, length prefix included (2 until it is known)
  bool answer_frame();        // these two return false when the connection was closed
  bool send(const std::string& answer);
  bool start_write();
  size_t unsent() const;
  void arm_idle_timer();

  // The write libuv holds: its request and bytes. Outlives the session while a write is in
  // flight (the session's destructor hands it to the write's callback).
  struct Writer {
    uv_write_t req{};
    std::string data;
    TcpSession* owner = nullptr;
    bool in_flight = false;
  };

  uv_tcp_t* tcp_;
  net::UvHandle<uv_timer_t> idle_;
  Answerer answer_;
  int64_t idle_ms_;
  OnClosed on_closed_;
  sockaddr_storage peer_{};
  std::string in_;          // bytes of the frame being received (length prefix included)
  std::string answer_buf_;  // the answer being written by the Answerer
  std::string pending_;     // framed answers waiting for the write in flight
  Writer* writer_;          // owned (see Writer)
  bool reading_ = false;
  char read_buf_[16384];
};

}  // namespace cdn::geo::dns
