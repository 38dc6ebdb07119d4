#include "common/net/stream.h"

#include <algorithm>
#include <vector>

namespace cdn::net {

namespace {
struct WriteReq {
  uv_write_t req;
  std::string head;
  std::vector<Bytes> keep;  // keeps body blocks alive until the kernel has them
  size_t len = 0;
};
thread_local char t_read_buf[65536];
thread_local std::string t_plain;
}  // namespace

Stream::Stream(uv_tcp_t* handle, std::unique_ptr<TlsSession> tls, Handler* handler)
    : handle_(handle), tls_(std::move(tls)), handler_(handler) {
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
  t_plain.clear();
  auto st = self->tls_->feed(buf->base, size_t(n), t_plain);
  self->flush_tls();  // handshake replies and alerts go out before the handler can close us
  if (!t_plain.empty() && h) {
    std::string plain;
    plain.swap(t_plain);  // the handler may re-enter and use t_plain through another stream
    h->on_stream_read(plain.data(), plain.size());
    if (st == TlsSession::Status::Ok) return;
    // fallthrough only if the peer also closed; the handler is still alive (deletion is deferred)
  }
  if (st != TlsSession::Status::Ok) {
    self->stop_reading();
    if (h) h->on_stream_end(st == TlsSession::Status::Closed ? UV_EOF : UV_EPROTO);
  }
}

void Stream::flush_tls() {
  if (!tls_ || !tls_->has_ciphertext() || !handle_) return;
  auto* w = new WriteReq();
  w->head = tls_->take_ciphertext();
  w->len = w->head.size();
  uv_buf_t b = uv_buf_init(w->head.data(), unsigned(w->head.size()));
  pending_ += w->len;
  if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(handle_), &b, 1, &Stream::on_write) != 0) {
    pending_ -= w->len;
    delete w;
  }
}

bool Stream::write(std::string head, std::span<const Bytes> chunks) {
  if (!handle_ || closing_ || close_when_flushed_) return false;
  if (tls_) {
    // Pieces are gathered into full-size records: a small response (head + body) becomes one
    // record and one write instead of one per piece.
    constexpr size_t kRecord = 16384;
    thread_local std::string scratch;
    scratch.clear();
    auto put = [&](const char* p, size_t n) {
      while (n > 0) {
        size_t take = std::min(n, kRecord - scratch.size());
        scratch.append(p, take);
        p += take;
        n -= take;
        if (scratch.size() == kRecord) {
          if (tls_->write(scratch.data(), scratch.size()) != TlsSession::Status::Ok) return false;
          scratch.clear();
        }
      }
      return true;
    };
    if (!put(head.data(), head.size())) return false;
    for (auto& c : chunks)
      if (!put(c->data(), c->size())) return false;
    if (!scratch.empty() && tls_->write(scratch.data(), scratch.size()) != TlsSession::Status::Ok) return false;
    flush_tls();
    return true;
  }
  auto* w = new WriteReq();
  w->head = std::move(head);
  uv_buf_t bufs[16];
  std::vector<uv_buf_t> many;
  uv_buf_t* out = bufs;
  size_t n = 0, total = chunks.size() + (w->head.empty() ? 0 : 1);
  if (total > 16) {
    many.resize(total);
    out = many.data();
  }
  if (!w->head.empty()) out[n++] = uv_buf_init(w->head.data(), unsigned(w->head.size()));
  w->keep.reserve(chunks.size());
  for (auto& c : chunks) {
    if (c->empty()) continue;
    out[n++] = uv_buf_init(const_cast<char*>(c->data()), unsigned(c->size()));
    w->keep.push_back(c);
  }
  for (size_t i = 0; i < n; ++i) w->len += out[i].len;
  if (n == 0) {
    delete w;
    return true;
  }
  pending_ += w->len;
  if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(handle_), out, unsigned(n), &Stream::on_write) != 0) {
    pending_ -= w->len;
    delete w;
    return false;
  }
  return true;
}

void Stream::on_write(uv_write_t* req, int) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  auto* self = static_cast<Stream*>(req->handle->data);
  size_t len = w->len;
  delete w;
  if (!self) return;
  self->pending_ -= len;
  self->flushed_ += len;
  if (self->pending_ == 0) {
    if (self->close_when_flushed_) {
      Handler* h = self->handler_;
      self->close();
      if (h) h->on_stream_flushed_and_closed();
      return;
    }
    if (self->handler_) self->handler_->on_stream_drained();
  }
}

void Stream::close_after_flush() {
  if (!handle_ || closing_) return;
  if (tls_) {
    tls_->shutdown();
    flush_tls();
  }
  close_when_flushed_ = true;
  stop_reading();
  if (pending_ == 0) close();
}

void Stream::close() {
  if (!handle_) return;
  closing_ = true;
  handle_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  handle_ = nullptr;
}

}  // namespace cdn::net
