#include "common/http/server_connection.h"

#include "common/http/date.h"
#include "common/http/h2_session.h"
#include "common/http/host.h"
#include "common/util/clock.h"
#include "common/util/strings.h"

namespace cdn::http {

namespace {
constexpr size_t kMaxPipelinedBytes = 64 * 1024;
constexpr size_t kMaxHeldBodyBytes = 64 * 1024;
constexpr int64_t kTickMs = 1000;
}  // namespace

ConnectionContext::ConnectionContext(net::Worker* w, const ServerOptions* o, RequestHandler* h,
                                     const ConnectionHooks* k)
    : worker(w), opts(o), handler(h), hooks(k),
      connections(w->loop(), kTickMs, &ServerConnection::tick,
                  [](void* self) { static_cast<ConnectionContext*>(self)->trim.on_period(); }, this) {}

void ConnectionContext::for_each_connection(const std::function<void(ServerConnection&)>& fn) {
  connections.for_each([&fn](net::TickList::Node* n) { fn(ServerConnection::from_node(n)); });
}

ServerConnection::ServerConnection(ConnectionContext* ctx, uv_tcp_t* tcp,
                                   std::unique_ptr<net::TlsSession> tls, std::string client_ip)
    : ctx_(ctx), stream_(tcp, std::move(tls), this), client_ip_(std::move(client_ip)) {}

ServerConnection::~ServerConnection() = default;

bool ServerConnection::idle() const {
  if (h2_) return h2_->idle();
  return !active_ || (!active_->current && !active_->parser.started());
}

bool ServerConnection::start_h2_if_chosen(const char* data, size_t len) {
  static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  protocol_known_ = true;
  bool h2 = false;
  if (net::TlsSession* tls = stream_.tls()) {
    h2 = tls->alpn() == "h2";
  } else if (opts().h2.h2c) {
    // Prior knowledge (RFC 9113 §3.3): the preface, or as much of it as has arrived.
    size_t n = std::min(len, kPreface.size());
    h2 = n >= 4 && std::string_view(data, n) == kPreface.substr(0, n);
  }
  if (!h2) return false;
  deadline_ms_ = 0;  // the session keeps its own timeouts
  h2_ = std::make_unique<H2Session>(ctx_, *this, stream_, stream_.is_tls());
  if (!h2_->start()) {
    close();
    return true;
  }
  h2_->on_read(data, len);
  return true;
}

void ServerConnection::start() {
  self_ = shared_from_this();
  ctx_->connections.add(this);
  arm(now_ms() + opts().header_read_ms);
  stream_.start_reading();
}

void ServerConnection::tick(net::TickList::Node* node, int64_t now_ms) {
  from_node(node).on_tick(now_ms);
}

ServerConnection::Active& ServerConnection::active() {
  if (!active_) active_ = std::make_unique<Active>(opts().limits);
  return *active_;
}

void ServerConnection::drop_request_state_if_idle() {
  if (!active_) return;
  const Active& a = *active_;
  if (a.in_parse || a.paused || a.current || a.parser.started() || !a.inbuf.empty() ||
      !a.sent_runs.empty() || !a.awaiting_log.empty())
    return;
  active_.reset();
}

void ServerConnection::on_tick(int64_t now) {
  if (closed_) {
    if (now > deadline_ms_) {
      stream_.close();
      release();
    }
    return;
  }
  stream_.on_tls_period();
  if (h2_) {
    h2_->on_tick(now);
    return;
  }
  // Send stall: output queued and not shrinking for send_stall_ms, during or after a response.
  size_t pending = stream_.pending_bytes();
  if (active_) {
    Active& a = *active_;
    uint64_t flushed = stream_.flushed_bytes();
    if (pending == 0 || flushed != a.stall_flushed) {
      a.stall_flushed = flushed;
      a.stall_since_ms = now;
    } else if (now - a.stall_since_ms > opts().send_stall_ms) {
      if (hooks() && hooks()->on_refused) hooks()->on_refused(0, "send-stall");
      stream_.close();
      close();
      return;
    }
    if (a.current) return;
  }
  if (pending > 0) return;
  if (deadline_ms_ && now > deadline_ms_) {
    if (active_ && active_->parser.started()) {
      // Slowloris: a head that never completes.
      refuse(408, "header-timeout");
    } else {
      close();  // idle keep-alive connection
    }
  }
}

void ServerConnection::on_stream_read(const char* data, size_t len) {
  if (closed_) return;
  if (h2_) {
    h2_->on_read(data, len);
    return;
  }
  if (!protocol_known_ && start_h2_if_chosen(data, len)) return;
  Active& a = active();
  if (a.paused) {
    a.inbuf.append(data, len);
    if (a.inbuf.size() > kMaxPipelinedBytes) stream_.stop_reading();
    return;
  }
  if (!a.current && !a.parser.started()) arm(now_ms() + opts().header_read_ms);
  parse(data, len);
  drop_request_state_if_idle();
}

void ServerConnection::parse(const char* data, size_t len) {
  Active& a = *active_;
  a.in_parse = true;
  while (!closed_) {
    auto st = a.parser.feed(data, len);
    if (st.error) {
      a.in_parse = false;
      if (a.current && a.current->started()) {
        close();  // mid-body garbage after we began answering: nothing sane to send
      } else {
        a.current.reset();
        refuse(a.parser.error_status(), a.parser.error_reason());
      }
      return;
    }
    data += st.consumed;
    len -= st.consumed;
    if (st.head_complete) dispatch();
    if (closed_) break;
    if (st.message_complete) {
      a.message_done = true;
      if (a.current) a.current->end_request_body(true);
      if (!a.response_done) {
        a.paused = true;
        a.inbuf.assign(data, len);
        a.in_parse = false;
        return;
      }
      // Response already complete: go straight on to the next pipelined request.
      if (!finish_exchange()) break;
      if (len == 0) break;
      continue;
    }
    if (len == 0) break;
  }
  a.in_parse = false;
  if (!closed_) hold_unread_body();
}

void ServerConnection::hold_unread_body() {
  Active& a = *active_;
  if (!a.current || a.message_done || a.body_paused || a.current->reads_request_body()) return;
  if (a.parser.held_body_bytes() < kMaxHeldBodyBytes) return;
  a.body_paused = true;
  stream_.stop_reading();
}

void ServerConnection::dispatch() {
  if (hooks() && hooks()->admit_request) {
    if (auto reason = hooks()->admit_request(client_ip_); !reason.empty()) {
      refuse(429, std::string(reason), "Retry-After: 1\r\n");
      return;
    }
  }
  Active& a = *active_;
  // HTTP/1.0 may name no host: the TLS server name stands in (delivery services route by it).
  if (Request& r = a.parser.request(); r.host.empty() && stream_.tls()) {
    std::string sni = stream_.tls()->sni();
    if (auto h = host_of_authority(sni); h && !h->empty()) r.host = to_lower(*h);
  }
  std::weak_ptr<ResponseChannel> channel = std::static_pointer_cast<ResponseChannel>(shared_from_this());
  ctx_->trim.note_activity();
  auto ex = std::make_shared<Exchange>(std::move(channel), ctx_->worker, std::move(a.parser.request()),
                                       client_ip_, stream_.is_tls());
  a.current = ex;
  a.response_done = false;
  a.message_done = false;
  a.chunked = false;
  a.stall_since_ms = now_ms();
  deadline_ms_ = 0;
  const Request& req = ex->request();
  if (!req.keep_alive || ctx_->draining()) close_after_response_ = true;
  if (req.has_body) {
    if (auto* e = req.headers.get("expect"); e && iequals(*e, "100-continue"))
      stream_.write(std::string("HTTP/1.1 100 Continue\r\n\r\n"));
  }
  // A body the handler does not read now stays in the parser (hold_unread_body bounds it): a
  // suspended phase may still hand it on. One nobody ever reads ends the connection with the
  // response (response_finished).
  ctx_->handler->handle(ex);
}

void ServerConnection::want_request_body(Exchange& ex) {
  if (!channel_open(ex)) return;
  Active& a = *active_;
  std::weak_ptr<Exchange> wex = a.current;
  bool held = a.body_paused;
  a.body_paused = false;
  // Replays what was held; the consumer may pause us again from inside.
  a.parser.set_body_sink([wex](const char* d, size_t n) {
    if (auto e = wex.lock()) e->deliver_request_body(d, n);
  });
  if (closed_ || !channel_open(ex)) return;
  if (a.message_done) {
    ex.end_request_body(true);  // the whole body came while nobody read it
  } else if (held && !a.body_paused) {
    stream_.start_reading();
  }
}

void ServerConnection::request_body_flow(Exchange& ex, bool paused) {
  if (!channel_open(ex)) return;
  Active& a = *active_;
  if (a.message_done || a.body_paused == paused) return;
  a.body_paused = paused;
  if (paused) {
    stream_.stop_reading();
  } else {
    stream_.start_reading();
  }
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
  if (active_->chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (head.content_length >= 0 && status != 304 && status != 204 && status >= 200) {
    out += "Content-Length: ";
    out += std::to_string(head.content_length);
    out += "\r\n";
  }
  if (ctx_->draining()) close_after_response_ = true;
  // Answering before an unread request body ends: the connection cannot be reused, say so.
  if (!active_->message_done && ex.request().has_body && !ex.reads_request_body()) close_after_response_ = true;
  if (close_after_response_) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

bool ServerConnection::send_interim(Exchange& ex, int status, const Headers& headers) {
  // RFC 9110 §15.2: never to an HTTP/1.0 client.
  if (!channel_open(ex) || ex.request().version_minor < 1) return false;
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(status_reason(status)) + "\r\n";
  for (auto& h : headers)
    if (!is_hop_by_hop(h.name) && !iequals(h.name, "content-length"))
      out += h.name + ": " + h.value + "\r\n";
  out += "\r\n";
  return stream_.write(std::move(out));
}

bool ServerConnection::send_head(Exchange& ex, const ResponseHead& head, std::string_view body,
                                 std::span<const Bytes> blocks) {
  if (!channel_open(ex)) return false;
  active_->chunked = head.body_allowed && head.content_length < 0;
  std::string out = render_head(ex, head);
  // Whole small responses go out as one write: head and body in one syscall (one TLS record).
  if (body.size() <= 16384) {
    out.append(body);
    uint64_t n = body.size();
    for (auto& b : blocks) n += b->size();
    return write_response(std::move(out), blocks, n);
  }
  Bytes b = make_bytes(body);
  return write_response(std::move(out), std::span<const Bytes>(&b, 1), body.size());
}

static const Bytes& crlf() {
  static const Bytes k = make_bytes(std::string_view("\r\n"));
  return k;
}

bool ServerConnection::send_body(Exchange& ex, std::span<const Bytes> blocks) {
  if (!channel_open(ex)) return false;
  uint64_t n = 0;
  for (auto& b : blocks) n += b->size();
  if (n == 0) return true;
  if (!active_->chunked) return write_response(std::string(), blocks, n);
  char hex[24];
  int len = snprintf(hex, sizeof hex, "%llx\r\n", static_cast<unsigned long long>(n));
  std::vector<Bytes> parts(blocks.begin(), blocks.end());
  parts.push_back(crlf());
  return write_response(std::string(hex, size_t(len)), parts, n);
}

bool ServerConnection::write_response(std::string text, std::span<const Bytes> blocks,
                                      uint64_t body_bytes) {
  uint64_t begin = stream_.queued_bytes();
  bool ok = stream_.write(std::move(text), blocks);
  uint64_t end = stream_.queued_bytes();
  if (body_bytes > 0 && end > begin)
    active_->sent_runs.push_back(SentRun{begin, end, body_bytes, 0, active_->current});
  account_flushed();
  return ok;
}

void ServerConnection::end_response(Exchange& ex) {
  if (!channel_open(ex)) return;
  if (active_->chunked) stream_.write(std::string("0\r\n\r\n"));
  response_finished(ex);
}

void ServerConnection::abort_response(Exchange& ex) {
  if (!channel_open(ex)) return;
  close_after_response_ = true;
  stream_.close();
  response_finished(ex);
}

void ServerConnection::account_flushed() {
  if (!active_) return;
  Active& a = *active_;
  uint64_t flushed = stream_.flushed_bytes();
  while (!a.sent_runs.empty()) {
    SentRun& r = a.sent_runs.front();
    uint64_t due = r.body;
    if (flushed < r.end) {
      uint64_t taken = flushed > r.begin ? flushed - r.begin : 0;
      due = uint64_t(double(r.body) * double(taken) / double(r.end - r.begin));
    }
    if (due > r.credited) {
      uint64_t n = due - r.credited;
      r.credited = due;
      r.ex->count_body_sent(n);
      if (hooks() && hooks()->on_body_sent) hooks()->on_body_sent(n);
    }
    if (flushed < r.end) break;
    a.sent_runs.erase(a.sent_runs.begin());
  }
  while (!a.awaiting_log.empty() && a.awaiting_log.front().end <= flushed) {
    auto ex = std::move(a.awaiting_log.front().ex);
    a.awaiting_log.erase(a.awaiting_log.begin());
    if (hooks() && hooks()->on_complete) hooks()->on_complete(*ex);
  }
}

void ServerConnection::account_final() {
  if (!active_) return;
  account_flushed();
  Active& a = *active_;
  a.sent_runs.clear();
  while (!a.awaiting_log.empty()) {
    auto ex = std::move(a.awaiting_log.front().ex);
    a.awaiting_log.erase(a.awaiting_log.begin());
    if (hooks() && hooks()->on_complete) hooks()->on_complete(*ex);
  }
}

void ServerConnection::response_finished(Exchange& ex) {
  if (!channel_open(ex)) return;
  Active& a = *active_;
  if (hooks() && hooks()->on_answered) hooks()->on_answered(ex);
  a.awaiting_log.push_back(AwaitingLog{a.current, stream_.queued_bytes()});
  account_flushed();
  a.response_done = true;
  if (close_after_response_ && !stream_.is_open()) {
    close();
    return;
  }
  if (!a.message_done) {
    // Answered before the request body ended (e.g. an error): the rest is not worth reading.
    if (ex.request().has_body) {
      close_after_response_ = true;
      close();
    }
    return;
  }
  if (a.in_parse) return;  // the parse loop continues the pipeline itself
  resume_pipeline();
}

bool ServerConnection::finish_exchange() {
  Active& a = *active_;
  a.current.reset();
  a.message_done = a.response_done = false;
  a.body_paused = false;  // a body that ended inside the read that paused it leaves this set
  a.parser.next();
  if (close_after_response_) {
    close();
    return false;
  }
  arm(now_ms() + opts().keepalive_idle_ms);
  return true;
}

void ServerConnection::resume_pipeline() {
  Active& a = *active_;
  a.paused = false;
  if (!finish_exchange()) return;
  stream_.start_reading();
  if (!a.inbuf.empty()) {
    std::string pending;
    pending.swap(a.inbuf);
    arm(now_ms() + opts().header_read_ms);
    parse(pending.data(), pending.size());
  }
  drop_request_state_if_idle();
}

void ServerConnection::refuse(int status, const std::string& reason,
                              std::string_view extra_headers) {
  if (hooks() && hooks()->on_refused) hooks()->on_refused(status, reason);
  std::string body = std::to_string(status) + " " + reason + "\n";
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(status_reason(status)) +
      "\r\nContent-Type: text/plain; charset=utf-8\r\nX-Error-Reason: " + reason +
      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nDate: " + current_http_date() +
      "\r\n" + std::string(extra_headers) + "Connection: close\r\n\r\n" + body;
  stream_.write(std::move(out));
  close();
}

void ServerConnection::on_stream_end(int) {
  if (active_ && active_->current && !active_->current->finished()) {
    auto ex = active_->current;
    ex->end_request_body(false);
    ex->client_gone();
  }
  close();
}

void ServerConnection::on_stream_progress() {
  if (h2_) {
    h2_->on_progress();
    return;
  }
  account_flushed();
  if (!closed_ && active_ && active_->current && !active_->current->finished() &&
      stream_.pending_bytes() < opts().send_buffer_bytes) {
    auto ex = active_->current;
    ex->proceed();
  }
  if (!closed_) drop_request_state_if_idle();
}

void ServerConnection::drain() {
  if (h2_) {
    h2_->drain();
    return;
  }
  if (idle()) {
    close();
  } else {
    close_after_response_ = true;
  }
}

void ServerConnection::close() {
  if (closed_) return;
  closed_ = true;
  // A client that stopped reading can hold the flush of our last bytes this long.
  deadline_ms_ = now_ms() + opts().send_stall_ms;
  if (h2_) h2_->on_connection_closed();
  if (active_ && active_->current) {
    auto ex = active_->current;
    ex->client_gone();
  }
  ctx_->trim.note_activity();
  if (ctx_->on_closed) ctx_->on_closed(*this);
  if (stream_.is_open() && stream_.pending_bytes() > 0) {
    // Queued bytes (an error response, the last body block) still go out; the tick bounds how
    // long a client that stopped reading can hold us.
    stream_.close_after_flush();
    return;
  }
  stream_.close();
  release();
}

void ServerConnection::on_stream_flushed_and_closed() {
  if (h2_) h2_->on_progress();
  account_flushed();
  if (closed_) release();
}

void ServerConnection::release() {
  if (released_) return;
  released_ = true;
  if (h2_) h2_->account_final();
  account_final();
  net::TickList::remove(this);
  // Free ourselves on the next loop turn: callers up the stack may still be running in us.
  auto self = std::move(self_);
  ctx_->worker->post([self]() mutable {
    self->active_.reset();
    self.reset();
  });
}

}  // namespace cdn::http
