#include "common/net/stream.h"

#include <algorithm>
#include <vector>

namespace cdn::net {

namespace {
// Ciphertext in user space per connection is at most one full record.
constexpr size_t kRecord = 16384;
// Records encrypted into one write while the socket takes whole writes.
constexpr size_t kBatchRecords = 4;
// Socket reads within one on_tls_period() that make a TLS connection busy: it keeps OpenSSL's
// record buffers instead of allocating and freeing them for every request.
constexpr uint32_t kBusyReads = 8;

struct WriteReq {
  uv_write_t req;
  std::string own;          // head text, or ciphertext the socket did not take at once
  std::vector<Bytes> keep;  // keeps body blocks alive until the kernel has them
  size_t plain_len = 0;     // plaintext units this request completes
};
thread_local char t_read_buf[65536];
// Decrypted-input buffers, reused: a handler may start a read on another stream of this thread
// while one is in use, so each read takes its own from the pool and gives it back.
thread_local std::vector<std::string> t_plain_pool;
struct PooledPlain {
  std::string buf;
  PooledPlain() {
    if (!t_plain_pool.empty()) {
      buf = std::move(t_plain_pool.back());
      t_plain_pool.pop_back();
    }
    buf.clear();
  }
  ~PooledPlain() {
    // Keep a few ordinary-sized buffers; a burst's large one goes back to the allocator.
    if (t_plain_pool.size() < 4 && buf.capacity() <= 64 * 1024) t_plain_pool.push_back(std::move(buf));
  }
};
thread_local std::string t_cipher;
thread_local std::string t_gather;
}  // namespace

Stream::Stream(uv_tcp_t* handle, std::unique_ptr<TlsSession> tls, Handler* handler)
    : handle_(handle), handler_(handler) {
  if (tls) tls_ = std::make_unique<TlsState>(TlsState{std::move(tls), {}});
  handle_->data = this;
}

Stream::~Stream() { close(); }

sockaddr_storage Stream::peer() const {
  sockaddr_storage ss{};
  if (handle_) {
    int len = sizeof ss;
    uv_tcp_getpeername(handle_, reinterpret_cast<sockaddr*>(&ss), &len);
  }
  return ss;
}

void Stream::start_reading() {
  if (!handle_ || reading_ || closing_) return;
  reading_ = true;
  uv_read_start(reinterpret_cast<uv_stream_t*>(handle_), &Stream::on_alloc, &Stream::on_read);
}

void Stream::stop_reading() {
  if (!handle_ || !reading_) return;
  reading_ = false;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(handle_));
}

void Stream::on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = t_read_buf;
  buf->len = sizeof t_read_buf;
}

void Stream::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* self = static_cast<Stream*>(s->data);
  if (!self || n == 0) return;
  Handler* h = self->handler_;
  if (n < 0) {
    self->stop_reading();
    if (h) h->on_stream_end(int(n));
    return;
  }
  if (!self->tls_) {
    if (h) h->on_stream_read(buf->base, size_t(n));
    return;
  }
  if (++self->tls_->reads == kBusyReads) self->keep_tls_buffers(true);
  PooledPlain plain;
  auto st = self->tls_->session->feed(buf->base, size_t(n), plain.buf);
  self->pump_tls();  // handshake replies and alerts go out before the handler can close us
  if (!plain.buf.empty() && h) {
    h->on_stream_read(plain.buf.data(), plain.buf.size());
    if (st == TlsSession::Status::Ok) return;
    // fallthrough only if the peer also closed; the handler is still alive (deletion is deferred)
  }
  if (st != TlsSession::Status::Ok) {
    self->stop_reading();
    if (h) h->on_stream_end(st == TlsSession::Status::Closed ? UV_EOF : UV_EPROTO);
  }
}

bool Stream::write(std::string head, std::span<const Bytes> chunks) {
  if (!handle_ || closing_ || close_when_flushed_) return false;
  if (!tls_) return write_plain(std::move(head), chunks);
  if (!head.empty()) {
    queued_ += head.size();
    tls_->plain.push_back(Piece{std::move(head), nullptr, 0});
  }
  for (auto& c : chunks) {
    if (c->empty()) continue;
    queued_ += c->size();
    tls_->plain.push_back(Piece{std::string(), c, 0});
  }
  return pump_tls();
}

bool Stream::write_plain(std::string head, std::span<const Bytes> chunks) {
  uv_buf_t small[16];
  std::vector<uv_buf_t> many;
  size_t total = chunks.size() + (head.empty() ? 0 : 1);
  uv_buf_t* bufs = small;
  if (total > 16) {
    many.resize(total);
    bufs = many.data();
  }
  size_t n = 0, len = 0;
  if (!head.empty()) bufs[n++] = uv_buf_init(head.data(), unsigned(head.size()));
  for (auto& c : chunks)
    if (!c->empty()) bufs[n++] = uv_buf_init(const_cast<char*>(c->data()), unsigned(c->size()));
  for (size_t i = 0; i < n; ++i) len += bufs[i].len;
  if (len == 0) return true;
  queued_ += len;
  auto* stream = reinterpret_cast<uv_stream_t*>(handle_);
  // Most writes fit the socket buffer: take the synchronous path, no request, no references.
  size_t sent = 0;
  if (writes_in_flight_ == 0) {
    int r = uv_try_write(stream, bufs, unsigned(n));
    if (r > 0) sent = size_t(r);
  }
  flushed_ += sent;
  if (sent == len) return true;
  auto* w = new WriteReq();
  w->plain_len = len - sent;
  size_t first = 0;
  while (sent >= bufs[first].len) sent -= bufs[first++].len;
  if (!head.empty() && first == 0) {
    // Keep the head in the request; a short string's bytes move with it, so point at the copy.
    w->own = std::move(head);
    bufs[0] = uv_buf_init(w->own.data(), unsigned(w->own.size()));
  }
  bufs[first].base += sent;
  bufs[first].len -= unsigned(sent);
  w->keep.assign(chunks.begin(), chunks.end());
  ++writes_in_flight_;
  if (uv_write(&w->req, stream, bufs + first, unsigned(n - first), &Stream::on_write) != 0) {
    --writes_in_flight_;
    delete w;
    return false;
  }
  return true;
}

bool Stream::pump_tls() {
  if (!handle_ || closing_) return false;
  PieceQueue& queue = tls_->plain;
  // Several records per write while the socket keeps taking whole writes: one syscall (and one
  // wake-up of the reader) per batch instead of per record. Once the socket leaves part of a
  // write, the next writes are single records again, so a client that stops reading makes this
  // stream hold at most one batch of ciphertext and usually one record.
  while (writes_in_flight_ == 0) {
    std::string& cipher = t_cipher;
    cipher.clear();
    size_t plain_len = 0;
    size_t records = socket_took_all_ ? kBatchRecords : 1;
    for (size_t r = 0; r < records && !queue.empty(); ++r) {
      size_t n = encrypt_record(cipher);
      if (n == 0) return false;
      plain_len += n;
    }
    if (queue.empty() && close_when_flushed_ && !shutdown_sent_) {
      shutdown_sent_ = true;
      tls_->session->shutdown();
    }
    if (tls_->session->has_ciphertext()) cipher.append(tls_->session->take_ciphertext());
    if (cipher.empty()) break;
    send_cipher(cipher, plain_len);
  }
  return true;
}

size_t Stream::encrypt_record(std::string& cipher) {
  PieceQueue& queue = tls_->plain;
  Piece& p = queue.front();
  if (p.size() >= kRecord || queue.size() == 1) {
    // Large pieces are encrypted from their own memory.
    size_t len = std::min(p.size(), kRecord);
    if (tls_->session->write_to(cipher, p.data(), len) != TlsSession::Status::Ok) return 0;
    p.off += len;
    if (p.size() == 0) queue.pop_front();
    return len;
  }
  // Small pieces (a head, chunked framing) share a record with what follows them.
  std::string& g = t_gather;
  g.clear();
  while (!queue.empty() && g.size() < kRecord) {
    Piece& q = queue.front();
    size_t part = std::min(q.size(), kRecord - g.size());
    g.append(q.data(), part);
    q.off += part;
    if (q.size() == 0) queue.pop_front();
  }
  if (tls_->session->write_to(cipher, g.data(), g.size()) != TlsSession::Status::Ok) return 0;
  return g.size();
}

void Stream::on_tls_period() {
  if (!tls_) return;
  if (tls_->plain.empty()) keep_tls_buffers(false);
  tls_->reads = 0;
}

void Stream::keep_tls_buffers(bool keep) {
  if (tls_->buffers_kept == keep) return;
  tls_->buffers_kept = keep;
  tls_->session->keep_buffers(keep);
}

void Stream::send_cipher(std::string& cipher, size_t plain_len) {
  auto* stream = reinterpret_cast<uv_stream_t*>(handle_);
  uv_buf_t b = uv_buf_init(cipher.data(), unsigned(cipher.size()));
  int r = uv_try_write(stream, &b, 1);
  size_t sent = r > 0 ? size_t(r) : 0;
  socket_took_all_ = sent == cipher.size();
  if (sent == cipher.size()) {
    flushed_ += plain_len;
    return;
  }
  // The socket is full (a slow or stalled reader): what waits is our one copy of the rest, not
  // OpenSSL's buffers as well.
  keep_tls_buffers(false);
  auto* w = new WriteReq();
  w->own.assign(cipher.data() + sent, cipher.size() - sent);
  w->plain_len = plain_len;
  uv_buf_t rest = uv_buf_init(w->own.data(), unsigned(w->own.size()));
  ++writes_in_flight_;
  if (uv_write(&w->req, stream, &rest, 1, &Stream::on_write) != 0) {
    --writes_in_flight_;
    delete w;
  }
}

void Stream::on_write(uv_write_t* req, int) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  auto* self = static_cast<Stream*>(req->handle->data);
  size_t plain_len = w->plain_len;
  delete w;
  if (!self) return;
  --self->writes_in_flight_;
  self->flushed_ += plain_len;
  if (self->tls_) self->pump_tls();
  self->after_flush();
}

void Stream::after_flush() {
  bool idle = writes_in_flight_ == 0 && nothing_to_encrypt();
  if (idle && close_when_flushed_) {
    Handler* h = handler_;
    close();
    if (h) h->on_stream_flushed_and_closed();
    return;
  }
  if (handler_) handler_->on_stream_progress();
}

void Stream::close_after_flush() {
  if (!handle_ || closing_) return;
  close_when_flushed_ = true;
  stop_reading();
  if (tls_) pump_tls();  // sends close_notify once the queued plaintext is out
  if (writes_in_flight_ == 0 && nothing_to_encrypt()) close();
}

void Stream::close() {
  if (!handle_) return;
  closing_ = true;
  handle_->data = nullptr;
  if (tls_) tls_->plain.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  handle_ = nullptr;
}

}  // namespace cdn::net
