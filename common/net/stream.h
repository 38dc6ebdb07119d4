#pragma once
// A TCP connection with optional TLS. Plain writes hand refcounted body blocks straight to the
// kernel (uv_write on the block's own memory); TLS writes encrypt into one record buffer.
#include <uv.h>

#include <memory>
#include <span>
#include <string>

#include "common/net/tls_session.h"
#include "common/util/bytes.h"

namespace cdn::net {

class Stream {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_stream_read(const char* data, size_t len) = 0;
    // EOF, reset or TLS failure; the stream is already closed for reading. status is a uv error.
    virtual void on_stream_end(int status) = 0;
    // Pending output fell to zero (for flow control of streamed bodies).
    virtual void on_stream_drained() {}
    // close_after_flush() completed (or failed) and the socket is closed.
    virtual void on_stream_flushed_and_closed() {}
  };

  // Takes ownership of an initialized, connected handle.
  Stream(uv_tcp_t* handle, std::unique_ptr<TlsSession> tls, Handler* handler);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  void start_reading();
  void stop_reading();
  // `head` is copied into the request; `chunks` are shared, never copied on plain connections.
  bool write(std::string head, std::span<const Bytes> chunks = {});
  bool write(const Bytes& chunk) { return write(std::string(), std::span<const Bytes>(&chunk, 1)); }
  size_t pending_bytes() const { return pending_; }
  // Bytes the kernel has taken so far (progress measure for send-stall detection).
  uint64_t flushed_bytes() const { return flushed_; }
  // Flushes queued output, then closes. Further writes are dropped.
  void close_after_flush();
  void close();
  bool is_open() const { return handle_ != nullptr && !closing_; }
  bool is_tls() const { return tls_ != nullptr; }
  TlsSession* tls() { return tls_.get(); }
  sockaddr_storage peer() const;
  void set_handler(Handler* h) { handler_ = h; }

 private:
  static void on_alloc(uv_handle_t*, size_t, uv_buf_t* buf);
  static void on_read(uv_stream_t*, ssize_t n, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  void flush_tls();
  void maybe_finish_close();

  uv_tcp_t* handle_;
  std::unique_ptr<TlsSession> tls_;
  Handler* handler_;
  size_t pending_ = 0;
  uint64_t flushed_ = 0;
  bool closing_ = false;
  bool close_when_flushed_ = false;
  bool reading_ = false;
};

}  // namespace cdn::net
