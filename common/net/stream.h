#pragma once
// A TCP connection with optional TLS.
//
// Output is flow-controlled by the caller through pending_bytes(): the bytes this stream holds
// that the kernel has not taken yet. Plain writes try the socket at once and hand whatever it
// did not take to uv_write on the refcounted blocks' own memory (no copy). TLS writes queue the
// plaintext pieces (refcounted blocks stay shared) and encrypt them one record at a time as the
// socket drains, several records per write while the socket takes them whole, so a client that
// stops reading holds at most one batch of ciphertext (four records), never an encrypted copy of
// a whole body.
#include <uv.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

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
    // The kernel took queued output (flushed_bytes() advanced); for flow control and accounting.
    virtual void on_stream_progress() {}
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
  // `head` is copied; `chunks` are shared, never copied. Output keeps the order of calls.
  bool write(std::string head, std::span<const Bytes> chunks = {});
  bool write(const Bytes& chunk) { return write(std::string(), std::span<const Bytes>(&chunk, 1)); }
  // Bytes accepted by write() and not yet taken by the kernel (plaintext units).
  size_t pending_bytes() const { return queued_ - flushed_; }
  // Called about once a second by the owner: a TLS stream that read many times since the last
  // call keeps its session's record buffers until then; one that did not (resting, or a viewer
  // asking every few seconds) frees them after every record, as does one whose socket is full.
  void on_tls_period();
  // Running totals in plaintext units: every byte accepted by write(), every byte the kernel took.
  uint64_t queued_bytes() const { return queued_; }
  uint64_t flushed_bytes() const { return flushed_; }
  // Flushes queued output, then closes. Further writes are dropped.
  void close_after_flush();
  void close();
  bool is_open() const { return handle_ != nullptr && !closing_; }
  bool is_tls() const { return tls_ != nullptr; }
  TlsSession* tls() { return tls_ ? tls_->session.get() : nullptr; }
  sockaddr_storage peer() const;
  void set_handler(Handler* h) { handler_ = h; }

 private:
  // A piece of plaintext waiting for encryption: either owned text or a shared block.
  struct Piece {
    std::string text;
    Bytes block;
    size_t off = 0;
    const char* data() const { return (block ? block->data() : text.data()) + off; }
    size_t size() const { return (block ? block->size() : text.size()) - off; }
  };

  // FIFO of pieces that allocates nothing while empty (an idle connection pays for no node
  // blocks, as a std::deque would) and gives its memory back once drained after a large body.
  class PieceQueue {
   public:
    bool empty() const { return head_ == items_.size(); }
    size_t size() const { return items_.size() - head_; }
    Piece& front() { return items_[head_]; }
    void push_back(Piece p) { items_.push_back(std::move(p)); }
    void pop_front() {
      items_[head_++] = Piece{};
      if (head_ == items_.size()) clear();
    }
    void clear() {
      if (items_.capacity() > 16) {
        std::vector<Piece>().swap(items_);
      } else {
        items_.clear();
      }
      head_ = 0;
    }

   private:
    std::vector<Piece> items_;
    size_t head_ = 0;
  };

  static void on_alloc(uv_handle_t*, size_t, uv_buf_t* buf);
  static void on_read(uv_stream_t*, ssize_t n, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  bool write_plain(std::string head, std::span<const Bytes> chunks);
  // Encrypts and sends record by record while no ciphertext is waiting on the socket. False on a
  // TLS error.
  bool pump_tls();
  // Encrypts the next record's worth of queued plaintext into `cipher`; its plaintext length,
  // 0 on a TLS error.
  size_t encrypt_record(std::string& cipher);
  // Sends one buffer of ciphertext; what the socket does not take now is queued (copied).
  void send_cipher(std::string& cipher, size_t plain_len);
  // OpenSSL's record buffers kept between records (busy) or freed after each (see on_tls_period).
  void keep_tls_buffers(bool keep);
  void after_flush();
  bool nothing_to_encrypt() const { return !tls_ || tls_->plain.empty(); }

  // Everything only a TLS stream needs, in one allocation, so a plain stream stays small.
  struct TlsState {
    std::unique_ptr<TlsSession> session;
    PieceQueue plain;  // plaintext not yet encrypted
    uint32_t reads = 0;  // socket reads since the last on_tls_period()
    bool buffers_kept = false;
  };

  // An idle server holds one Stream per keep-alive connection: keep it small.
  uv_tcp_t* handle_;
  std::unique_ptr<TlsState> tls_;
  Handler* handler_;
  uint64_t queued_ = 0;
  uint64_t flushed_ = 0;
  uint32_t writes_in_flight_ = 0;  // uv_write requests not yet completed
  bool shutdown_sent_ = false;
  bool closing_ = false;
  bool close_when_flushed_ = false;
  bool reading_ = false;
  bool socket_took_all_ = true;  // the last ciphertext write went out whole
};

}  // namespace cdn::net
