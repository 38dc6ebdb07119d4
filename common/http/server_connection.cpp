#include "common/http/server_connection.h"

#include "common/http/date.h"
#include "common/net/address.h"
#include "common/util/clock.h"
#include "common/util/strings.h"

namespace cdn::http {

namespace {
constexpr size_t kMaxPipelinedBytes = 64 * 1024;
constexpr int64_t kTickMs = 1000;
}  // namespace

ServerConnection::ServerConnection(net::Worker* worker, uv_tcp_t* tcp, std::unique_ptr<net::TlsSession> tls,
                                   const ServerOptions& opts, RequestHandler* handler, const ConnectionHooks* hooks,
                                   std::function<bool()> draining,
                                   std::function<void(ServerConnection*)> on_closed)
    : worker_(worker),
      stream_(std::make_unique<net::Stream>(tcp, std::move(tls), this)),
      opts_(opts),
      handler_(handler),
      hooks_(hooks),
      draining_(std::move(draining)),
      on_closed_(std::move(on_closed)),
      parser_(opts.limits) {
  client_ip_ = net::peer_ip(stream_->peer());
}

ServerConnection::~ServerConnection() = default;

void ServerConnection::start() {
  self_ = shared_from_this();
  uv_timer_init(worker_->loop(), timer_.get());
  timer_.mark_initialized();
  timer_->data = this;
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* t) {
        if (t->data) static_cast<ServerConnection*>(t->data)->on_tick();
      },
      kTickMs, kTickMs);
  arm(mono_ms() + opts_.header_read_ms);
  stream_->start_reading();
}

void ServerConnection::arm(int64_t deadline_ms) { deadline_ms_ = deadline_ms; }

void ServerConnection::on_tick() {
  int64_t now = mono_ms();
  if (closed_) {
    if (now - closed_at_ms_ > opts_.send_stall_ms) {
      stream_->close();
      release();
    }
    return;
  }
  // Send stall: output queued and not shrinking for send_stall_ms, during or after a response.
  size_t pending = stream_->pending_bytes();
  uint64_t flushed = stream_->flushed_bytes();
  if (pending == 0 || flushed != stall_flushed_) {
    stall_flushed_ = flushed;
    stall_since_ms_ = now;
  } else if (now - stall_since_ms_ > opts_.send_stall_ms) {
    if (hooks_ && hooks_->on_refused) hooks_->on_refused(0, "send-stall");
    stream_->close();
    close();
    return;
  }
  if (current_ || pending > 0) return;
  if (deadline_ms_ && now > deadline_ms_) {
    if (parser_.started()) {
      // Slowloris: a head that never completes.
      refuse(408, "header-timeout");
    } else {
      close();  // idle keep-alive connection
    }
  }
}

void ServerConnection::on_stream_read(const char* data, size_t len) {
  if (closed_) return;
  if (paused_) {
    inbuf_.append(data, len);
    if (inbuf_.size() > kMaxPipelinedBytes) stream_->stop_reading();
    return;
  }
  if (!current_ && !parser_.started()) arm(mono_ms() + opts_.header_read_ms);
  parse(data, len);
}

void ServerConnection::parse(const char* data, size_t len) {
  in_parse_ = true;
  while (!closed_) {
    auto st = parser_.feed(data, len);
    if (st.error) {
      in_parse_ = false;
      if (current_ && current_->started()) {
        close();  // mid-body garbage after we began answering: nothing sane to send
      } else {
        current_.reset();
        refuse(parser_.error_status(), parser_.error_reason());
      }
      return;
    }
    data += st.consumed;
    len -= st.consumed;
    if (st.head_complete) dispatch();
    if (closed_) break;
    if (st.message_complete) {
      message_done_ = true;
      if (current_) current_->end_request_body(true);
      if (!response_done_) {
        paused_ = true;
        inbuf_.assign(data, len);
        in_parse_ = false;
        return;
      }
      // Response already complete: go straight on to the next pipelined request.
      if (!finish_exchange()) break;
      if (len == 0) break;
      continue;
    }
    if (len == 0) break;
  }
  in_parse_ = false;
}

void ServerConnection::dispatch() {
  if (hooks_ && hooks_->admit_request) {
    if (auto reason = hooks_->admit_request(client_ip_); !reason.empty()) {
      refuse(429, std::string(reason), "Retry-After: 1\r\n");
      return;
    }
  }
  std::weak_ptr<ResponseChannel> channel = std::static_pointer_cast<ResponseChannel>(shared_from_this());
  auto ex = std::make_shared<Exchange>(std::move(channel), worker_, std::move(parser_.request()), client_ip_,
                                       stream_->is_tls());
  current_ = ex;
  response_done_ = false;
  message_done_ = false;
  chunked_ = false;
  stall_since_ms_ = mono_ms();
  deadline_ms_ = 0;
  const Request& req = ex->request();
  if (!req.keep_alive || draining_()) close_after_response_ = true;
  if (req.has_body) {
    if (auto* e = req.headers.get("expect"); e && iequals(*e, "100-continue"))
      stream_->write(std::string("HTTP/1.1 100 Continue\r\n\r\n"));
  }
  handler_->handle(ex);
  if (closed_ || current_ != ex) return;
  if (req.has_body && !ex->reads_request_body() && !ex->finished()) {
    // Nobody reads this body: accept a bounded amount, then refuse.
    auto seen = std::make_shared<size_t>(0);
    size_t limit = opts_.max_body_bytes;
    std::weak_ptr<Exchange> wex = ex;
    parser_.set_body_sink([seen, limit, wex](const char*, size_t n) {
      *seen += n;
      auto e = wex.lock();
      if (*seen > limit && e && !e->started()) e->respond_error(413, "body-too-large");
    });
  }
}

void ServerConnection::want_request_body(Exchange& ex) {
  if (!channel_open(ex)) return;
  std::weak_ptr<Exchange> wex = current_;
  parser_.set_body_sink([wex](const char* d, size_t n) {
    if (auto e = wex.lock()) e->deliver_request_body(d, n);
  });
}

std::string ServerConnection::render_head(const Exchange& ex, const ResponseHead& head) {
  const Headers& headers = *head.headers;
  int status = head.status;
  std::string out;
  out.reserve(256 + headers.size() * 48);
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += status_reason(status);
  out += "\r\n";
  bool has_date = false;
  for (auto& h : headers) {
    if (is_hop_by_hop(h.name) || iequals(h.name, "content-length")) continue;
    if (iequals(h.name, "date")) has_date = true;
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  if (!has_date) {
    out += "Date: ";
    out += current_http_date();
    out += "\r\n";
  }
  if (chunked_) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (head.content_length >= 0 && status != 304 && status != 204 && status >= 200) {
    out += "Content-Length: ";
    out += std::to_string(head.content_length);
    out += "\r\n";
  }
  if (draining_()) close_after_response_ = true;
  // Answering before an unread request body ends: the connection cannot be reused, say so.
  if (!message_done_ && ex.request().has_body && !ex.reads_request_body()) close_after_response_ = true;
  if (close_after_response_) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

bool ServerConnection::send_head(Exchange& ex, const ResponseHead& head, std::string_view body,
                                 std::span<const Bytes> blocks) {
  chunked_ = head.body_allowed && head.content_length < 0;
  std::string out = render_head(ex, head);
  // Whole small responses go out as one write: head and body in one syscall (one TLS record).
  if (body.size() <= 16384) {
    out.append(body);
    uint64_t n = body.size();
    for (auto& b : blocks) n += b->size();
    return write_response(ex, std::move(out), blocks, n);
  }
  Bytes b = make_bytes(body);
  return write_response(ex, std::move(out), std::span<const Bytes>(&b, 1), body.size());
}

static const Bytes& crlf() {
  static const Bytes k = make_bytes(std::string_view("\r\n"));
  return k;
}

bool ServerConnection::send_body(Exchange& ex, std::span<const Bytes> blocks) {
  uint64_t n = 0;
  for (auto& b : blocks) n += b->size();
  if (n == 0) return true;
  if (!chunked_) return write_response(ex, std::string(), blocks, n);
  char hex[24];
  int len = snprintf(hex, sizeof hex, "%llx\r\n", static_cast<unsigned long long>(n));
  std::vector<Bytes> parts(blocks.begin(), blocks.end());
  parts.push_back(crlf());
  return write_response(ex, std::string(hex, size_t(len)), parts, n);
}

bool ServerConnection::write_response(Exchange& ex, std::string text, std::span<const Bytes> blocks,
                                      uint64_t body_bytes) {
  uint64_t begin = stream_->queued_bytes();
  bool ok = stream_->write(std::move(text), blocks);
  uint64_t end = stream_->queued_bytes();
  if (body_bytes > 0 && end > begin) sent_runs_.push_back(SentRun{begin, end, body_bytes, 0, current_});
  (void)ex;
  account_flushed();
  return ok;
}

void ServerConnection::end_response(Exchange& ex) {
  if (chunked_) stream_->write(std::string("0\r\n\r\n"));
  response_finished(ex);
}

void ServerConnection::abort_response(Exchange& ex) {
  close_after_response_ = true;
  stream_->close();
  response_finished(ex);
}

void ServerConnection::account_flushed() {
  uint64_t flushed = stream_->flushed_bytes();
  while (!sent_runs_.empty()) {
    SentRun& r = sent_runs_.front();
    uint64_t due = r.body;
    if (flushed < r.end) {
      uint64_t taken = flushed > r.begin ? flushed - r.begin : 0;
      due = uint64_t(double(r.body) * double(taken) / double(r.end - r.begin));
    }
    if (due > r.credited) {
      uint64_t n = due - r.credited;
      r.credited = due;
      r.ex->count_body_sent(n);
      if (hooks_ && hooks_->on_body_sent) hooks_->on_body_sent(n);
    }
    if (flushed < r.end) break;
    sent_runs_.erase(sent_runs_.begin());
  }
  while (!awaiting_log_.empty() && awaiting_log_.front().end <= flushed) {
    auto ex = std::move(awaiting_log_.front().ex);
    awaiting_log_.erase(awaiting_log_.begin());
    if (hooks_ && hooks_->on_complete) hooks_->on_complete(*ex);
  }
}

void ServerConnection::account_final() {
  account_flushed();
  sent_runs_.clear();
  while (!awaiting_log_.empty()) {
    auto ex = std::move(awaiting_log_.front().ex);
    awaiting_log_.erase(awaiting_log_.begin());
    if (hooks_ && hooks_->on_complete) hooks_->on_complete(*ex);
  }
}

void ServerConnection::response_finished(Exchange& ex) {
  if (closed_ || current_.get() != &ex) return;
  if (hooks_ && hooks_->on_answered) hooks_->on_answered(ex);
  awaiting_log_.push_back(AwaitingLog{current_, stream_->queued_bytes()});
  account_flushed();
  response_done_ = true;
  if (close_after_response_ && !stream_->is_open()) {
    close();
    return;
  }
  if (!message_done_) {
    // Answered before the request body ended (e.g. an error): the rest is not worth reading.
    if (ex.request().has_body) {
      close_after_response_ = true;
      close();
    }
    return;
  }
  if (in_parse_) return;  // the parse loop continues the pipeline itself
  resume_pipeline();
}

bool ServerConnection::finish_exchange() {
  current_.reset();
  message_done_ = response_done_ = false;
  parser_.next();
  if (close_after_response_) {
    close();
    return false;
  }
  arm(mono_ms() + opts_.keepalive_idle_ms);
  return true;
}

void ServerConnection::resume_pipeline() {
  paused_ = false;
  if (!finish_exchange()) return;
  stream_->start_reading();
  if (!inbuf_.empty()) {
    std::string pending;
    pending.swap(inbuf_);
    arm(mono_ms() + opts_.header_read_ms);
    parse(pending.data(), pending.size());
  }
}

void ServerConnection::refuse(int status, const std::string& reason,
                              std::string_view extra_headers) {
  if (hooks_ && hooks_->on_refused) hooks_->on_refused(status, reason);
  std::string body = std::to_string(status) + " " + reason + "\n";
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(status_reason(status)) +
      "\r\nContent-Type: text/plain; charset=utf-8\r\nX-Error-Reason: " + reason +
      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nDate: " + current_http_date() +
      "\r\n" + std::string(extra_headers) + "Connection: close\r\n\r\n" + body;
  stream_->write(std::move(out));
  close();
}

void ServerConnection::on_stream_end(int) {
  if (current_ && !current_->finished()) {
    auto ex = current_;
    ex->end_request_body(false);
    ex->client_gone();
  }
  close();
}

void ServerConnection::on_stream_progress() {
  account_flushed();
  if (closed_ || !current_ || current_->finished()) return;
  if (stream_->pending_bytes() < opts_.send_buffer_bytes) {
    auto ex = current_;
    ex->proceed();
  }
}

void ServerConnection::drain() {
  if (idle()) {
    close();
  } else {
    close_after_response_ = true;
  }
}

void ServerConnection::close() {
  if (closed_) return;
  closed_ = true;
  closed_at_ms_ = mono_ms();
  if (current_) {
    auto ex = current_;
    ex->client_gone();
  }
  if (on_closed_) on_closed_(this);
  if (stream_->is_open() && stream_->pending_bytes() > 0) {
    // Queued bytes (an error response, the last body block) still go out; the tick timer
    // bounds how long a client that stopped reading can hold us.
    stream_->close_after_flush();
    return;
  }
  stream_->close();
  release();
}

void ServerConnection::on_stream_flushed_and_closed() {
  account_flushed();
  if (closed_) release();
}

void ServerConnection::release() {
  if (released_) return;
  released_ = true;
  account_final();
  timer_->data = nullptr;
  uv_timer_stop(timer_.get());
  // Free ourselves on the next loop turn: callers up the stack may still be running in us.
  auto self = std::move(self_);
  worker_->post([self]() mutable {
    self->current_.reset();
    self.reset();
  });
}

}  // namespace cdn::http
