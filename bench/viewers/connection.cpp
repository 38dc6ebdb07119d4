#include "bench/viewers/connection.h"

#include <cstdlib>

namespace cdn::viewers {

const char* to_string(Failure f) {
  switch (f) {
    case Failure::None:
      return "none";
    case Failure::Connect:
      return "connect";
    case Failure::Tls:
      return "tls";
    case Failure::Reset:
      return "reset";
    case Failure::Timeout:
      return "timeout";
    case Failure::BadResponse:
      return "bad-response";
  }
  return "?";
}

namespace {
struct WriteReq {
  uv_write_t req;
  std::string data;
};
struct ConnectReq {
  uv_connect_t req;
};
}  // namespace

Connection::Connection(uv_loop_t* loop, const Endpoint* ep, SessionPtr resume)
    : loop_(loop),
      ep_(ep),
      last_session_(std::move(resume)),
      parser_(http::ResponseParser::Callbacks{[this](int status, http::Headers&& h) {
                                                resp_.status = status;
                                                if (const std::string* r = h.get("X-Error-Reason"))
                                                  resp_.error_reason = *r;
                                              },
                                              [this](const char* data, size_t len) {
                                                resp_.body_bytes += len;
                                                if (keep_body_) resp_.body.append(data, len);
                                              }}) {
  uv_timer_init(loop_, timer_.get());
  timer_.mark_initialized();
  timer_->data = this;
}

Connection::~Connection() {
  drop_socket();
}

void Connection::close() {
  done_ = nullptr;
  uv_timer_stop(timer_.get());
  drop_socket();
}

void Connection::drop_socket() {
  if (tls_) {
    if (tls_->handshake_done()) last_session_.reset(tls_->session());
    tls_.reset();
  }
  if (tcp_) {
    uv_read_stop(tcp_->stream());
    tcp_.reset();  // UvHandle closes it; pending write callbacks see data == nullptr
  }
  connected_ = false;
}

void Connection::get(std::string target, bool keep_body, int64_t timeout_ms, Done done) {
  target_ = std::move(target);
  keep_body_ = keep_body;
  timeout_ms_ = timeout_ms;
  done_ = std::move(done);
  retried_ = false;
  uv_timer_start(timer_.get(), on_timeout, uint64_t(timeout_ms_ > 0 ? timeout_ms_ : 1), 0);
  if (connected_) {
    reused_ = true;
    send_request();
  } else {
    connect();
  }
}

void Connection::connect() {
  reused_ = false;
  tcp_ = std::make_unique<net::UvHandle<uv_tcp_t>>();
  uv_tcp_init(loop_, tcp_->get());
  tcp_->mark_initialized();
  (*tcp_)->data = this;
  uv_tcp_nodelay(tcp_->get(), 1);
  auto* req = new ConnectReq{};
  req->req.data = this;
  int r = uv_tcp_connect(&req->req, tcp_->get(), reinterpret_cast<const sockaddr*>(&ep_->addr),
                         on_connect);
  if (r != 0) {
    delete req;
    // Out of descriptors or ports: reported from the loop, like any other connect failure.
    drop_socket();
    uv_timer_start(
        timer_.get(),
        [](uv_timer_t* t) { static_cast<Connection*>(t->data)->fail(Failure::Connect); }, 0, 0);
  }
}

void Connection::on_connect(uv_connect_t* req, int status) {
  auto* self = static_cast<Connection*>(req->handle->data);
  delete reinterpret_cast<ConnectReq*>(req);
  if (!self) return;  // closed meanwhile
  if (status != 0) return self->fail(Failure::Connect);
  self->connected_ = true;
  ++self->connects_;
  uv_read_start(self->tcp_->stream(), on_alloc, on_read);
  if (self->ep_->tls) {
    self->tls_ =
        std::make_unique<ClientTls>(self->ep_->tls, self->ep_->host, self->last_session_.get());
    if (self->tls_->start() != ClientTls::Status::Ok) return self->fail(Failure::Tls);
    self->write_raw(self->tls_->take_output());
    return;  // the request goes out when the handshake is done
  }
  self->send_request();
}

void Connection::send_request() {
  resp_ = Response{};
  any_byte_ = false;
  parser_.reset(false);
  std::string head = "GET " + target_ + " HTTP/1.1\r\nHost: " + ep_->host +
                     "\r\nUser-Agent: cdn-viewers\r\nAccept: */*\r\n\r\n";
  if (tls_) {
    if (tls_->write(head) != ClientTls::Status::Ok) return fail(Failure::Tls);
    write_raw(tls_->take_output());
  } else {
    write_raw(std::move(head));
  }
}

void Connection::write_raw(std::string bytes) {
  if (bytes.empty() || !tcp_) return;
  auto* w = new WriteReq{};
  w->data = std::move(bytes);
  uv_buf_t buf = uv_buf_init(w->data.data(), unsigned(w->data.size()));
  int r = uv_write(&w->req, tcp_->stream(), &buf, 1, [](uv_write_t* req, int status) {
    auto* self = static_cast<Connection*>(req->handle->data);
    delete reinterpret_cast<WriteReq*>(req);
    if (self && status != 0 && status != UV_ECANCELED) self->fail(Failure::Reset);
  });
  if (r != 0) {
    delete w;
    fail(Failure::Reset);
  }
}

void Connection::on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  // One shared buffer per process: every read is consumed before the next one starts.
  static char storage[64 * 1024];
  *buf = uv_buf_init(storage, sizeof storage);
}

void Connection::on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(s->data);
  if (!self || n == 0) return;
  if (n < 0) {
    // The server closed: ends a close-delimited body, or a request the server never answered.
    if (!self->done_) return self->drop_socket();
    if (self->any_byte_ && self->parser_.finish() == http::ResponseParser::State::Done) {
      self->drop_socket();
      return self->finish(Failure::None);
    }
    if (!self->any_byte_ && self->reused_ && !self->retried_) {
      self->retried_ = true;
      self->drop_socket();
      return self->connect();
    }
    return self->fail(self->any_byte_ ? Failure::BadResponse : Failure::Reset);
  }
  self->on_bytes(buf->base, size_t(n));
}

void Connection::on_bytes(const char* data, size_t len) {
  if (!done_) return;  // nothing asked: a stray byte or a close_notify
  resp_.wire_bytes += len;
  if (!tls_) return on_plain(data, len);
  std::string plain;
  bool was_done = tls_->handshake_done();
  if (tls_->feed(data, len, plain) != ClientTls::Status::Ok) return fail(Failure::Tls);
  write_raw(tls_->take_output());
  if (!was_done && tls_->handshake_done()) {
    if (tls_->resumed()) ++resumed_;
    send_request();
  }
  if (!plain.empty()) on_plain(plain.data(), plain.size());
}

void Connection::on_plain(const char* data, size_t len) {
  any_byte_ = true;
  auto st = parser_.feed(data, len);
  if (st == http::ResponseParser::State::Error) return fail(Failure::BadResponse);
  if (st != http::ResponseParser::State::Done) return;
  if (!parser_.keep_alive()) drop_socket();
  finish(Failure::None);
}

void Connection::fail(Failure f) {
  drop_socket();
  finish(f);
}

void Connection::finish(Failure f) {
  uv_timer_stop(timer_.get());
  if (!done_) return;
  Done cb = std::move(done_);
  done_ = nullptr;
  Response r = std::move(resp_);
  resp_ = Response{};
  cb(f, std::move(r));
}

void Connection::on_timeout(uv_timer_t* t) {
  auto* self = static_cast<Connection*>(t->data);
  if (self) self->fail(Failure::Timeout);
}

}  // namespace cdn::viewers
