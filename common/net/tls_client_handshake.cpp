#include "common/net/tls_client_handshake.h"

#include <string>

namespace cdn::net {

namespace {

thread_local char t_handshake_buf[16384];

// A handshake flight in flight; it owns its bytes, so it may outlive the handshake object (the
// Stream that takes over the handle queues behind it: libuv keeps writes in order).
struct FlightWrite {
  uv_write_t req;
  std::string bytes;
};

}  // namespace

TlsClientHandshake::TlsClientHandshake(uv_tcp_t* tcp, std::unique_ptr<TlsSession> session,
                                       std::function<void(bool)> done)
    : tcp_(tcp), session_(std::move(session)), done_(std::move(done)) {}

TlsClientHandshake::~TlsClientHandshake() {
  if (!finished_ && tcp_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp_));
    tcp_->data = nullptr;
  }
}

void TlsClientHandshake::start() {
  tcp_->data = this;
  uv_read_start(reinterpret_cast<uv_stream_t*>(tcp_), &TlsClientHandshake::on_alloc,
                &TlsClientHandshake::on_read);
  feed(nullptr, 0);  // sends the ClientHello; last, because a failure here may destroy us
}

void TlsClientHandshake::on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = t_handshake_buf;
  buf->len = sizeof t_handshake_buf;
}

void TlsClientHandshake::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* self = static_cast<TlsClientHandshake*>(s->data);
  if (!self || n == 0) return;
  if (n < 0) {
    self->finish(false);  // the peer closed (or reset) before the handshake finished
    return;
  }
  self->feed(buf->base, size_t(n));
}

void TlsClientHandshake::feed(const char* data, size_t len) {
  std::string plain;
  auto st = session_->feed(data, len, plain);
  if (!send_pending() || st != TlsSession::Status::Ok) {
    finish(false);
    return;
  }
  // A server speaking before our request is not an HTTP server: refused like a broken handshake.
  if (!plain.empty()) {
    finish(false);
    return;
  }
  if (session_->handshake_done()) finish(true);
}

bool TlsClientHandshake::send_pending() {
  if (!session_->has_ciphertext()) return true;
  auto* w = new FlightWrite();
  w->bytes = session_->take_ciphertext();
  uv_buf_t b = uv_buf_init(w->bytes.data(), unsigned(w->bytes.size()));
  int r = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(tcp_), &b, 1,
                   [](uv_write_t* req, int) { delete reinterpret_cast<FlightWrite*>(req); });
  if (r != 0) delete w;
  return r == 0;
}

void TlsClientHandshake::finish(bool ok) {
  if (finished_) return;
  finished_ = true;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp_));
  tcp_->data = nullptr;
  auto done = std::move(done_);
  done(ok);  // may delete this
}

}  // namespace cdn::net
