#include "common/http/upstream_client.h"

#include "common/http/response_parser.h"
#include "common/net/tls_client_handshake.h"
#include "common/net/tls_failures.h"

#include <algorithm>

#include "common/util/clock.h"

namespace cdn::http {

const char* to_string(UpstreamError e) {
  switch (e) {
    case UpstreamError::None: return "none";
    case UpstreamError::Connect: return "connect-error";
    case UpstreamError::ConnectTimeout: return "connect-timeout";
    case UpstreamError::FirstByteTimeout: return "first-byte-timeout";
    case UpstreamError::IdleTimeout: return "idle-timeout";
    case UpstreamError::Reset: return "reset";
    case UpstreamError::BadResponse: return "bad-response";
    case UpstreamError::Cancelled: return "cancelled";
    case UpstreamError::Tls: return "tls-handshake-failed";
  }
  return "unknown";
}

class UpstreamConnection : public net::Stream::Handler {
 public:
  UpstreamConnection(UpstreamPool* pool)
      : pool_(pool),
        parser_(ResponseParser::Callbacks{
            [this](int status, Headers&& h) {
              phase_ = Phase::Body;
              if (cb_) cb_->on_upstream_head(status, std::move(h));
            },
            [this](const char* at, size_t n) {
              if (cb_) cb_->on_upstream_body(make_bytes(std::string_view(at, n)));
            },
            [this](int status, Headers&& h) {
              if (cb_) cb_->on_upstream_interim(status, std::move(h));
            }}) {
    uv_timer_init(pool_->worker_->loop(), timer_.get());
    timer_.mark_initialized();
    timer_->data = this;
  }
  ~UpstreamConnection() override {
    timer_.close();
    if (stream_) stream_->close();
  }

  bool connected() const { return stream_ && stream_->is_open(); }
  bool busy() const { return cb_ != nullptr; }
  uint64_t token() const { return token_; }

  void connect_and_send(std::string head, UpstreamCallbacks* cb, uint64_t token,
                        UpstreamPool::Start how) {
    begin(std::move(head), cb, token, how);
    auto* tcp = new uv_tcp_t{};
    uv_tcp_init(pool_->worker_->loop(), tcp);
    auto* req = new uv_connect_t{};
    req->data = this;
    connecting_ = true;
    connect_tcp_ = tcp;
    if (uv_tcp_connect(req, tcp, pool_->addr_.get(), &UpstreamConnection::on_connect) != 0) {
      delete req;
      connecting_ = false;
      connect_tcp_ = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(tcp), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
      fail(UpstreamError::Connect);
      return;
    }
    arm(pool_->timeouts_.connect_ms);
  }

  void send_reused(std::string head, UpstreamCallbacks* cb, uint64_t token,
                   UpstreamPool::Start how) {
    begin(std::move(head), cb, token, how);
    reused_ = true;
    stream_->write(std::move(head_));
    arm_waiting();
  }

  bool write_body(const Bytes& bytes) {
    if (!cb_ || !streaming_ || body_ended_) return false;
    if (!stream_) {  // still connecting: held until the head goes out
      early_body_.push_back(bytes);
      early_bytes_ += bytes->size();
      return true;
    }
    if (!stream_->write(bytes)) return false;
    arm_waiting();
    return true;
  }

  void end_body() {
    if (!cb_ || !streaming_ || body_ended_) return;
    body_ended_ = true;
    if (stream_) arm_waiting();
  }

  size_t unsent_bytes() const { return stream_ ? stream_->pending_bytes() : early_bytes_; }

  void cancel() {
    cb_ = nullptr;
    close_now();
    pool_->release(this, false);
  }

  void pause() {
    if (paused_ || phase_ != Phase::Body) return;
    paused_ = true;
    uv_timer_stop(timer_.get());
    if (stream_) stream_->stop_reading();
  }

  void resume() {
    if (!paused_) return;
    paused_ = false;
    if (stream_) stream_->start_reading();
    arm(pool_->timeouts_.idle_ms);
  }

  void idle_timeout_start() {
    phase_ = Phase::Idle;
    arm(pool_->timeouts_.idle_ms);
  }

 private:
  enum class Phase { Connecting, WaitingHead, Body, Idle };

  void begin(std::string head, UpstreamCallbacks* cb, uint64_t token, UpstreamPool::Start how) {
    head_ = std::move(head);
    bool retry = how.allow_retry && !how.body_follows;
    head_copy_ = retry ? head_ : std::string();
    is_head_ = how.is_head;
    cb_ = cb;
    token_ = token;
    allow_retry_ = retry;
    streaming_ = how.body_follows;
    first_byte_ms_ = how.first_byte_ms > 0 ? how.first_byte_ms : pool_->timeouts_.first_byte_ms;
    body_ended_ = false;
    early_body_.clear();
    early_bytes_ = 0;
    reused_ = false;
    got_bytes_ = false;
    paused_ = false;
    phase_ = Phase::WaitingHead;
    parser_.reset(how.is_head);
  }

  // Waiting for the head: while a streamed body is still being written the server cannot be
  // expected to answer, so only a socket that stops taking bytes for idle_ms fails the request.
  void arm_waiting() {
    if (phase_ != Phase::WaitingHead) return;
    arm(sending_body() ? pool_->timeouts_.idle_ms : first_byte_ms_);
  }
  bool sending_body() const { return streaming_ && (!body_ended_ || unsent_bytes() > 0); }

  void arm(int64_t ms) {
    uv_timer_start(
        timer_.get(),
        [](uv_timer_t* t) {
          if (t->data) static_cast<UpstreamConnection*>(t->data)->on_timeout();
        },
        uint64_t(std::max<int64_t>(ms, 1)), 0);
  }

  static void on_connect(uv_connect_t* req, int status) {
    auto* self = static_cast<UpstreamConnection*>(req->data);
    auto* tcp = reinterpret_cast<uv_tcp_t*>(req->handle);
    delete req;
    if (!self || status == UV_ECANCELED) {
      return;  // handle was closed by close_now(); its close callback frees it
    }
    self->connecting_ = false;
    self->connect_tcp_ = nullptr;
    if (status != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(tcp), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
      self->fail(UpstreamError::Connect);
      return;
    }
    uv_tcp_nodelay(tcp, 1);
    if (self->pool_->tls_.context) {
      self->start_tls(tcp);
      return;
    }
    self->start_stream(tcp, nullptr);
  }

  void start_stream(uv_tcp_t* tcp, std::unique_ptr<net::TlsSession> tls) {
    stream_ = std::make_unique<net::Stream>(tcp, std::move(tls), this);
    stream_->start_reading();
    stream_->write(std::move(head_), early_body_);
    early_body_.clear();
    early_bytes_ = 0;
    arm_waiting();
    // A body consumer that paused on the early bytes resumes here when the socket took them at
    // once: no write is left to complete and report progress.
    if (cb_ && streaming_ && unsent_bytes() <= UpstreamPool::body_low_water)
      cb_->on_upstream_writable();
  }

  // The handshake runs on the loop while the connect timeout keeps counting; the handle stays in
  // connect_tcp_ so a timeout or cancel closes it.
  void start_tls(uv_tcp_t* tcp) {
    connecting_ = true;
    connect_tcp_ = tcp;
    std::string error;
    auto ctx = pool_->tls_.context->get();
    auto ssl = ctx ? ctx->new_ssl(pool_->tls_.peer_name, error) : nullptr;
    if (!ssl) {
      tls_failed(net::TlsFailure::UpstreamProtocol);
      return;
    }
    pool_->resumption_.attach(ssl.get());
    ssl_ = ssl.get();
    handshake_ = std::make_unique<net::TlsClientHandshake>(tcp, net::TlsSession::client(std::move(ssl)),
                                                           [this](bool ok) { on_handshake(ok); });
    handshake_->start();
  }

  void on_handshake(bool ok) {
    if (!ok) {
      // No OpenSSL error: the peer closed or spoke plain text instead of finishing the handshake.
      const auto& s = handshake_->session();
      tls_failed(s.last_error().empty() ? net::TlsFailure::UpstreamProtocol : s.failure());
      return;
    }
    auto& counts = net::tls_client_handshakes();
    (SSL_session_reused(ssl_) == 1 ? counts.resumed : counts.full).fetch_add(1, std::memory_order_relaxed);
    ssl_ = nullptr;
    uv_tcp_t* tcp = connect_tcp_;
    connecting_ = false;
    connect_tcp_ = nullptr;
    auto session = handshake_->take_session();
    handshake_.reset();  // finished: its callback (this one) touches nothing after us
    start_stream(tcp, std::move(session));
  }

  void tls_failed(net::TlsFailure why) {
    net::tls_failures().add(why);
    pool_->last_tls_failure_ = why;
    fail(UpstreamError::Tls);
  }

  void on_timeout() {
    switch (phase_) {
      case Phase::Connecting:
      case Phase::WaitingHead:
        if (connecting_) {
          fail(UpstreamError::ConnectTimeout);
        } else {
          fail(sending_body() ? UpstreamError::IdleTimeout : UpstreamError::FirstByteTimeout);
        }
        break;
      case Phase::Body: fail(UpstreamError::IdleTimeout); break;
      case Phase::Idle:
        close_now();
        pool_->release(this, false);
        break;
    }
  }

  void on_stream_read(const char* data, size_t len) override {
    if (phase_ == Phase::Idle) {  // unsolicited bytes on an idle connection: unusable
      close_now();
      pool_->release(this, false);
      return;
    }
    got_bytes_ = true;
    if (phase_ == Phase::WaitingHead || phase_ == Phase::Body) arm(pool_->timeouts_.idle_ms);
    // The body callback may pause us; the timer then stays off until resume().
    switch (parser_.feed(data, len)) {
      case ResponseParser::State::Done: finish_ok(); return;
      case ResponseParser::State::Error: fail(UpstreamError::BadResponse); return;
      default: return;
    }
  }

  void on_stream_progress() override {
    if (!cb_ || !streaming_) return;
    if (phase_ == Phase::WaitingHead && !got_bytes_) arm_waiting();
    if (unsent_bytes() <= UpstreamPool::body_low_water) cb_->on_upstream_writable();
  }

  void on_stream_end(int status) override {
    if (phase_ == Phase::Idle) {
      close_now();
      pool_->release(this, false);
      return;
    }
    if (status == UV_EPROTO && !reused_ && !got_bytes_ && stream_ && stream_->tls()) {
      // A TLS 1.3 server checks our certificate after our side of the handshake finished: its
      // refusal arrives as the answer to the first request.
      tls_failed(stream_->tls()->failure());
      return;
    }
    // A close-delimited body ends at EOF; everything else ending here is truncated.
    if (phase_ == Phase::Body && parser_.finish() == ResponseParser::State::Done) {
      finish_ok();
      return;
    }
    fail(UpstreamError::Reset);
  }

  void finish_ok() {
    UpstreamCallbacks* cb = cb_;
    cb_ = nullptr;
    // Answered before our body was all sent: the server may read its rest as a next request.
    bool reusable = parser_.keep_alive() && connected() && !sending_body();
    uv_timer_stop(timer_.get());
    if (paused_) {
      // Paced by the body callback that took the last bytes: an idle connection must read again
      // (the next request's head, or the peer's close).
      paused_ = false;
      if (reusable) stream_->start_reading();
    }
    if (!reusable) close_now();
    pool_->release(this, reusable);  // may idle us; cb runs after so it can send a new request
    if (cb) cb->on_upstream_end(true, UpstreamError::None);
  }

  void fail(UpstreamError e) {
    UpstreamCallbacks* cb = cb_;
    cb_ = nullptr;
    close_now();
    bool retry = allow_retry_ && reused_ && !got_bytes_ && (e == UpstreamError::Reset || e == UpstreamError::BadResponse);
    std::string head = std::move(head_copy_);
    UpstreamPool::Start again{is_head_, false, false, first_byte_ms_};
    uint64_t token = token_;
    UpstreamPool* pool = pool_;
    pool->release(this, false);  // deletes us
    if (!cb) return;
    if (retry) {
      pool->start(std::move(head), cb, token, again);
      return;
    }
    cb->on_upstream_end(false, e);
  }

  void close_now() {
    uv_timer_stop(timer_.get());
    handshake_.reset();  // stops reading from the handle before it closes
    if (connect_tcp_) {
      uv_close(reinterpret_cast<uv_handle_t*>(connect_tcp_), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
      connect_tcp_ = nullptr;
    }
    if (stream_) stream_->close();
  }

  UpstreamPool* pool_;
  ResponseParser parser_;
  net::UvHandle<uv_timer_t> timer_;
  std::unique_ptr<net::Stream> stream_;
  std::unique_ptr<net::TlsClientHandshake> handshake_;  // while a TLS handshake runs
  SSL* ssl_ = nullptr;  // the TLS session's, while it lives
  uv_tcp_t* connect_tcp_ = nullptr;
  bool connecting_ = false;
  std::string head_, head_copy_;
  int64_t first_byte_ms_ = 0;  // this request's
  bool is_head_ = false;
  UpstreamCallbacks* cb_ = nullptr;
  uint64_t token_ = 0;
  bool allow_retry_ = false, reused_ = false, got_bytes_ = false;
  bool streaming_ = false, body_ended_ = false;  // a body follows the head; all of it was written
  std::vector<Bytes> early_body_;                 // body written before the connection was up
  size_t early_bytes_ = 0;
  bool paused_ = false;
  Phase phase_ = Phase::Connecting;
};

UpstreamPool::UpstreamPool(net::Worker* w, net::SockAddr addr, UpstreamTimeouts t, size_t max_idle, UpstreamTls tls)
    : worker_(w), addr_(addr), timeouts_(t), max_idle_(max_idle), tls_(std::move(tls)) {}

UpstreamPool::~UpstreamPool() = default;

uint64_t UpstreamPool::send(std::string head, bool is_head_request, UpstreamCallbacks* cb,
                           bool may_retry, int64_t first_byte_ms) {
  uint64_t token = next_token_++;
  start(std::move(head), cb, token, Start{is_head_request, may_retry, false, first_byte_ms});
  return token;
}

uint64_t UpstreamPool::send_streaming(std::string head, UpstreamCallbacks* cb) {
  uint64_t token = next_token_++;
  start(std::move(head), cb, token, Start{false, false, true});
  return token;
}

bool UpstreamPool::write_body(uint64_t token, const Bytes& bytes) {
  auto* c = busy_with(token);
  return c && c->write_body(bytes);
}

void UpstreamPool::end_body(uint64_t token) {
  if (auto* c = busy_with(token)) c->end_body();
}

size_t UpstreamPool::unsent_bytes(uint64_t token) const {
  auto* c = busy_with(token);
  return c ? c->unsent_bytes() : 0;
}

void UpstreamPool::start(std::string head, UpstreamCallbacks* cb, uint64_t token, Start how) {
  while (!idle_.empty()) {
    UpstreamConnection* c = idle_.back();
    idle_.pop_back();
    if (c->connected()) {
      c->send_reused(std::move(head), cb, token, how);
      return;
    }
    release(c, false);
  }
  all_.push_back(std::make_unique<UpstreamConnection>(this));
  all_.back()->connect_and_send(std::move(head), cb, token, how);
}

UpstreamConnection* UpstreamPool::busy_with(uint64_t token) const {
  for (auto& c : all_)
    if (c->busy() && c->token() == token) return c.get();
  return nullptr;
}

void UpstreamPool::cancel(uint64_t token) {
  if (auto* c = busy_with(token)) c->cancel();
}

void UpstreamPool::pause(uint64_t token) {
  if (auto* c = busy_with(token)) c->pause();
}

void UpstreamPool::resume(uint64_t token) {
  if (auto* c = busy_with(token)) c->resume();
}

void UpstreamPool::release(UpstreamConnection* c, bool reusable) {
  if (reusable && idle_.size() < max_idle_) {
    idle_.push_back(c);
    c->idle_timeout_start();
    return;
  }
  idle_.erase(std::remove(idle_.begin(), idle_.end(), c), idle_.end());
  for (auto it = all_.begin(); it != all_.end(); ++it) {
    if (it->get() == c) {
      // Deleting from inside its own callback is unsafe: hand it to the loop.
      UpstreamConnection* raw = it->release();
      all_.erase(it);
      worker_->post([raw]() { delete raw; });
      return;
    }
  }
}

}  // namespace cdn::http
