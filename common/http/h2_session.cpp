#include "common/http/h2_session.h"

#include <algorithm>
#include <charconv>

#include "common/http/date.h"
#include "common/http/h2_stream.h"
#include "common/http/server_connection.h"
#include "common/net/stream.h"
#include "common/util/clock.h"
#include "common/util/strings.h"

namespace cdn::http {

namespace {

H2Session* self_of(void* p) {
  return static_cast<H2Session*>(p);
}

// A name for the error code of a GOAWAY or RST_STREAM that nghttp2 sent on its own.
const char* error_code_reason(uint32_t code) {
  switch (code) {
    case NGHTTP2_PROTOCOL_ERROR:
      return "protocol-error";
    case NGHTTP2_FLOW_CONTROL_ERROR:
      return "flow-control-error";
    case NGHTTP2_SETTINGS_TIMEOUT:
      return "settings-timeout";
    case NGHTTP2_FRAME_SIZE_ERROR:
      return "frame-size-error";
    case NGHTTP2_COMPRESSION_ERROR:
      return "compression-error";
    case NGHTTP2_ENHANCE_YOUR_CALM:
      return "enhance-your-calm";
    default:
      return "connection-error";
  }
}

nghttp2_nv make_nv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

H2Session::H2Session(ConnectionContext* ctx, ServerConnection& conn, net::Stream& stream, bool tls)
    : ctx_(ctx), conn_(conn), stream_(stream), tls_(tls) {}

H2Session::~H2Session() {
  for (auto& [id, st] : streams_) st->detach();
  if (session_) nghttp2_session_del(session_);
}

const H2Options& H2Session::limits() const {
  return ctx_->opts->h2;
}

size_t H2Session::stream_window() const {
  return ctx_->opts->send_buffer_bytes;
}

H2Stream* H2Session::find(int32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

bool H2Session::start() {
  nghttp2_session_callbacks* cbs = nullptr;
  if (nghttp2_session_callbacks_new(&cbs) != 0) return false;
  nghttp2_session_callbacks_set_send_callback(cbs, &H2Session::on_send);
  nghttp2_session_callbacks_set_send_data_callback(cbs, &H2Session::on_send_data);
  nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, &H2Session::on_begin_frame);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &H2Session::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &H2Session::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &H2Session::on_frame_recv);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs,
                                                               &H2Session::on_invalid_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &H2Session::on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &H2Session::on_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &H2Session::on_stream_close);
  nghttp2_option* opt = nullptr;
  if (nghttp2_option_new(&opt) != 0) {
    nghttp2_session_callbacks_del(cbs);
    return false;
  }
  const H2Options& l = limits();
  // Our own limits below count and log each refusal; nghttp2's built-in ones stay as a backstop
  // just above them.
  nghttp2_option_set_max_continuations(opt, l.max_continuations + 1);
  nghttp2_option_set_stream_reset_rate_limit(opt, uint64_t(l.max_resets) * 2 + 2,
                                             uint64_t(l.max_resets) * 2 + 2);
  nghttp2_option_set_max_deflate_dynamic_table_size(opt, 4096);
  nghttp2_option_set_max_settings(opt, 32);
  // Request body windows reopen as the body's consumer takes the bytes (give_back()), not as
  // they arrive.
  nghttp2_option_set_no_auto_window_update(opt, 1);
  int rv = nghttp2_session_server_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0) return false;
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, l.max_concurrent_streams},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, l.header_table_bytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, l.max_header_list_bytes},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, l.stream_window_bytes},
  };
  if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) != 0)
    return false;
  // The connection window only paces the link (bytes are credited back as they arrive): room
  // for a few uploads at full stream windows, instead of the 64 KiB default shared by all.
  int32_t conn_window =
      int32_t(std::min<uint64_t>(4 * uint64_t(l.stream_window_bytes), NGHTTP2_MAX_WINDOW_SIZE));
  if (nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, conn_window) != 0)
    return false;
  int64_t now = mono_ms();
  idle_since_ms_ = stall_since_ms_ = now;
  flush();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Input

void H2Session::on_read(const char* data, size_t len) {
  if (closed_ || terminating_) return;  // after our GOAWAY ENHANCE_YOUR_CALM nothing is read
  int64_t now_us = mono_us();
  now_ms_ = now_us / 1000;
  in_nghttp2_ = true;
  ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), len);
  in_nghttp2_ = false;
  if (rv < 0) {
    count_refused(rv == NGHTTP2_ERR_BAD_CLIENT_MAGIC ? "bad-preface"
                  : rv == NGHTTP2_ERR_FLOODED        ? "outbound-flood"
                                                     : "protocol-error",
                  true);
    // nghttp2 may have queued a GOAWAY saying why: one attempt to send it before closing.
    in_nghttp2_ = true;
    nghttp2_session_send(session_);
    in_nghttp2_ = false;
    write_out();
    close_connection();
    return;
  }
  // The handlers of this read's requests answer into one batch: their frames leave in one write
  // (and a few TLS records) once all of them ran, not in one write per stream.
  //
  // One write per read costs the client time when it is all this worker serves: it gets the
  // first answer only once the last is made, and with few streams it then sits idle while we
  // work, and we while it works (h2load 1 × 10 ran at 0.97× nginx's rate on 2.5× less CPU per
  // request: nginx writes each answer at once). A quiet worker therefore writes answers as they
  // are made, so that the client reads them and sends new requests while we make the rest and
  // both sides keep working. How many per write depends on the client's pipeline: with few
  // streams open it runs dry quickly, so answers leave in pairs (h2load 1 x 10, 1 KB: pairs
  // 1.55x nginx's rate, single answers 1.4x, halves 1.25x, one write 1.15x); with many, halves
  // keep it busy and the writes saved are our CPU, which that case saturates (1 x 100: halves
  // 147k req/s, tenths 131k). A busy worker (another connection read within the last
  // millisecond) keeps the single write: its clients are served in turn, and the write saved is
  // CPU for all of them.
  batching_ = true;
  heads_batched_ = 0;
  size_t open = streams_.size();
  early_flush_at_ = !worker_quiet(now_us)      ? SIZE_MAX
                    : open <= kShallowPipeline ? kShallowBatch
                                               : std::max<size_t>(1, (open + 1) / 2);
  run_deferred();
  batching_ = false;
  flush(true);
}

bool H2Session::worker_quiet(int64_t now_us) {
  // The last HTTP/2 connection of this thread that was read, and when (compared, never followed).
  thread_local const H2Session* last_reader = nullptr;
  thread_local int64_t last_read_us = 0;
  bool busy = last_reader != this && now_us - last_read_us < kBusyWindowUs;
  last_reader = this;
  last_read_us = now_us;
  return !busy;
}

void H2Session::write_batch_early() {
  batching_ = false;
  flush();
  batching_ = true;
  heads_batched_ = 0;
}

int H2Session::check_frame(const nghttp2_frame_hd& hd) {
  const H2Options& l = limits();
  int64_t now = now_ms_;
  switch (hd.type) {
    case NGHTTP2_HEADERS:
      continuations_ = 0;
      header_block_bytes_ = hd.length;
      break;
    case NGHTTP2_CONTINUATION:
      // Bounded in frames and in bytes: a header block never ends otherwise (2024's floods).
      header_block_bytes_ += hd.length;
      if (++continuations_ > l.max_continuations ||
          header_block_bytes_ > 2 * uint64_t(l.max_header_list_bytes))
        terminate("continuation-flood");
      break;
    case NGHTTP2_SETTINGS:
      if (!(hd.flags & NGHTTP2_FLAG_ACK) &&
          settings_.hit(now, l.flood_interval_ms, l.max_control_frames))
        terminate("settings-flood");
      break;
    case NGHTTP2_PING:
      if (!(hd.flags & NGHTTP2_FLAG_ACK) &&
          pings_.hit(now, l.flood_interval_ms, l.max_control_frames))
        terminate("ping-flood");
      break;
    case NGHTTP2_DATA:
      if (hd.length == 0 && !(hd.flags & NGHTTP2_FLAG_END_STREAM) &&
          empty_data_.hit(now, l.flood_interval_ms, l.max_empty_data))
        terminate("empty-data-flood");
      break;
    case NGHTTP2_RST_STREAM:
      // Rapid Reset (CVE-2023-44487): streams opened and cancelled in a loop cost us work each.
      if (resets_.hit(now, l.flood_interval_ms, l.max_resets)) terminate("rapid-reset");
      break;
    default:
      break;
  }
  return 0;
}

int H2Session::on_begin_frame(nghttp2_session*, const nghttp2_frame_hd* hd, void* self) {
  return self_of(self)->check_frame(*hd);
}

int H2Session::on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* p) {
  auto* self = self_of(p);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  int64_t now = self->now_ms_;
  auto st = std::make_shared<H2Stream>(
      self, frame->hd.stream_id,
      H2RequestBuilder(self->ctx_->opts->limits, self->limits().max_header_list_bytes), now);
  self->streams_[frame->hd.stream_id] = std::move(st);
  return 0;
}

int H2Session::on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                         size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* p) {
  auto* self = self_of(p);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;  // trailers
  H2Stream* st = self->find(frame->hd.stream_id);
  if (!st) return 0;
  st->builder().add(std::string_view(reinterpret_cast<const char*>(name), namelen),
                    std::string_view(reinterpret_cast<const char*>(value), valuelen));
  return 0;
}

int H2Session::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* p) {
  auto* self = self_of(p);
  bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS: {
      H2Stream* st = self->find(frame->hd.stream_id);
      if (!st) break;
      if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        self->headers_done(*st, end_stream);
      } else if (end_stream) {  // trailers end the request body
        self->data_received(*st, nullptr, 0);
      }
      break;
    }
    case NGHTTP2_DATA:
      if (end_stream) {
        if (H2Stream* st = self->find(frame->hd.stream_id)) self->data_received(*st, nullptr, 0);
      }
      break;
    default:
      break;
  }
  return 0;
}

void H2Session::headers_done(H2Stream& st, bool end_stream) {
  seen_request_ = true;
  H2RequestBuilder& b = st.builder();
  bool ok = b.finish(!end_stream);
  std::weak_ptr<ResponseChannel> channel = streams_[st.id()];
  auto ex = std::make_shared<Exchange>(std::move(channel), ctx_->worker, std::move(b.request()),
                                       conn_.client_ip(), tls_);
  ex->set_http2();
  st.set_exchange(ex);
  st.request_ended = end_stream;
  if (!ok) {
    st.dispatched = true;  // no handler will read a body
    // The same answers HTTP/1.1 gives (431, 414, 400), on this stream only.
    if (b.error_status() == 431) count_refused(b.error_reason());
    if (ctx_->hooks && ctx_->hooks->on_refused)
      ctx_->hooks->on_refused(b.error_status(), b.error_reason());
    ex->respond_error(b.error_status(), b.error_reason());
    return;
  }
  to_dispatch_.push_back(streams_[st.id()]);
}

int H2Session::on_data_chunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                             size_t len, void* p) {
  auto* self = self_of(p);
  // Each stream's window bounds what it holds, so the connection's is given back at once: a
  // stalled upload never closes it for the others.
  nghttp2_session_consume_connection(session, len);
  if (H2Stream* st = self->find(id)) {
    self->data_received(*st, data, len);
  } else {
    nghttp2_session_consume_stream(session, id, len);
  }
  return 0;
}

// len == 0 with data == nullptr: the request body ended.
void H2Session::data_received(H2Stream& st, const uint8_t* data, size_t len) {
  const auto& ex = st.exchange();
  if (!data) {
    st.request_ended = true;
    if (ex && ex->reads_request_body()) ex->end_request_body(true);
    return;
  }
  if (len == 0) return;
  st.unconsumed += len;
  st.body_received += len;
  if (!ex || ex->finished()) {
    // Answered already: the rest of the body is dropped as it comes (see linger_or_reset()).
    st.lingering_since_ms = now_ms_;
    st.body_paused = false;
    drop_held_body(st);
    return;
  }
  if (ex->reads_request_body()) {
    // Given back unless the consumer paused on these bytes (its upstream is behind): then the
    // window stays shut until it resumes.
    ex->deliver_request_body(reinterpret_cast<const char*>(data), len);
    give_back(st);
    return;
  }
  // Nobody reads it yet: held until the response starts (a suspended phase, such as the access
  // gate, may still read them), the window kept shut meanwhile; after that counted and dropped.
  st.body_seen += len;
  if (st.body_seen > ctx_->opts->max_body_bytes) {
    drop_held_body(st);
    if (!ex->started()) ex->respond_error(413, "body-too-large");
    return;
  }
  if (ex->started()) {
    drop_held_body(st);
  } else {
    st.held_body.append(reinterpret_cast<const char*>(data), len);
  }
}

void H2Session::drop_held_body(H2Stream& st) {
  std::string().swap(st.held_body);
  give_back(st);
}

void H2Session::linger_or_reset(nghttp2_session* session, H2Stream& st) {
  // A declared rest up to twice max_body_bytes (a body somewhat over the limit) is read and
  // dropped as it comes: clients that cannot take a reset mid-upload (curl before 8.x reports a
  // framing error instead of the answer) finish and see the answer. It costs bandwidth, not
  // memory; a larger or undeclared rest is not worth it.
  const std::string* cl =
      st.exchange() ? st.exchange()->request().headers.get("content-length") : nullptr;
  int64_t declared = cl ? parse_int(*cl).value_or(-1) : -1;
  if (declared >= 0 && uint64_t(declared) >= st.body_received &&
      uint64_t(declared) - st.body_received <= 2 * ctx_->opts->max_body_bytes) {
    st.lingering = true;  // for as long as the client keeps sending: on_tick()
    st.lingering_since_ms = now_ms_;
    st.body_paused = false;
    drop_held_body(st);
    return;
  }
  // RFC 9113 §8.1: the response is complete before the request body is, and the rest is not
  // wanted. RST_STREAM NO_ERROR tells the client to stop without failing the response.
  nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st.id(), NGHTTP2_NO_ERROR);
}

void H2Session::give_back(H2Stream& st) {
  if (closed_ || st.body_paused || st.unconsumed == 0) return;
  nghttp2_session_consume_stream(session_, st.id(), size_t(st.unconsumed));
  st.unconsumed = 0;
  flush();  // the WINDOW_UPDATE, when nghttp2 decides one is due
}

int H2Session::on_invalid_frame_recv(nghttp2_session*, const nghttp2_frame* frame, int lib_error,
                                     void* p) {
  auto* self = self_of(p);
  if (lib_error == NGHTTP2_ERR_REFUSED_STREAM ||
      (frame->hd.type == NGHTTP2_HEADERS &&
       self->streams_.size() >= self->limits().max_concurrent_streams)) {
    self->count_refused("max-concurrent-streams");
  } else {
    self->count_refused("invalid-frame");
  }
  return 0;
}

int H2Session::on_stream_close(nghttp2_session*, int32_t id, uint32_t, void* p) {
  auto* self = self_of(p);
  auto it = self->streams_.find(id);
  if (it == self->streams_.end()) return 0;
  std::shared_ptr<H2Stream> st = std::move(it->second);
  self->streams_.erase(it);
  st->detach();
  if (self->streams_.empty()) self->idle_since_ms_ = self->now_ms_;
  if (const auto& ex = st->exchange()) {
    if (!ex->finished()) self->gone_.push_back(ex);
    // Logged like HTTP/1.1 logs: requests that reached a handler or were answered; a stream
    // reset before its request was dispatched never was one.
    if (st->dispatched) self->log_when_sent(ex);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Output

bool H2Session::submit_head(H2Stream& st, const ResponseHead& head) {
  if (closed_) return false;
  // The list points into the head, constants, the stack and names_: nghttp2 copies it once
  // itself, so building it allocates nothing per response once the two buffers have grown.
  size_t name_bytes = 0;
  for (const auto& h : *head.headers) name_bytes += h.name.size();
  names_.resize(name_bytes);  // sized once: the pointers into it stay valid
  nva_.clear();
  nva_.reserve(head.headers->size() + 3);
  char status[8], length[24];
  auto end = std::to_chars(status, status + sizeof status, head.status).ptr;
  nva_.push_back(make_nv(":status", std::string_view(status, size_t(end - status))));
  bool has_date = false;
  char* name = names_.data();
  for (const auto& h : *head.headers) {
    // RFC 9113 §8.2.2: no connection-specific fields; lengths are ours to state.
    if (is_hop_by_hop(h.name) || iequals(h.name, "content-length") || iequals(h.name, "host"))
      continue;
    has_date = has_date || iequals(h.name, "date");
    // RFC 9113 §8.2: field names are sent in lowercase.
    std::transform(h.name.begin(), h.name.end(), name,
                   [](char c) { return c >= 'A' && c <= 'Z' ? char(c | 0x20) : c; });
    nva_.push_back(make_nv(std::string_view(name, h.name.size()), h.value));
    name += h.name.size();
  }
  if (!has_date) nva_.push_back(make_nv("date", current_http_date()));
  if (head.content_length >= 0 && head.status != 304 && head.status != 204 && head.status >= 200) {
    end = std::to_chars(length, length + sizeof length, head.content_length).ptr;
    nva_.push_back(make_nv("content-length", std::string_view(length, size_t(end - length))));
  }
  nghttp2_data_provider provider{};
  provider.source.ptr = &st;
  provider.read_callback = &H2Session::on_read_data;
  bool has_body = head.body_allowed && head.content_length != 0;
  int rv = nghttp2_submit_response(session_, st.id(), nva_.data(), nva_.size(),
                                   has_body ? &provider : nullptr);
  if (rv != 0) return false;
  if (batching_) ++heads_batched_;
  flush();
  return true;
}

void H2Session::resume(H2Stream& st) {
  if (closed_) return;
  if (st.deferred && (st.queued() > 0 || st.body_ended())) {
    st.deferred = false;
    nghttp2_session_resume_data(session_, st.id());
  }
  flush();
}

void H2Session::reset(H2Stream& st, const char* why) {
  if (closed_) return;
  bool aborted = std::string_view(why) == "aborted";  // our own failure, not the client's doing
  if (!aborted) count_refused(why);
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st.id(),
                            aborted ? NGHTTP2_INTERNAL_ERROR : NGHTTP2_CANCEL);
  flush();
}

void H2Session::answered(H2Stream& st) {
  if (ctx_->hooks && ctx_->hooks->on_answered && st.exchange())
    ctx_->hooks->on_answered(*st.exchange());
}

ssize_t H2Session::on_read_data(nghttp2_session*, int32_t, uint8_t*, size_t len, uint32_t* flags,
                                nghttp2_data_source* source, void*) {
  auto* st = static_cast<H2Stream*>(source->ptr);
  if (st->queued() == 0 && !st->body_ended()) {
    st->deferred = true;  // the producer offers more later; resume() wakes us
    return NGHTTP2_ERR_DEFERRED;
  }
  size_t n = std::min(len, st->queued());
  *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (n == st->queued() && st->body_ended()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return ssize_t(n);
}

int H2Session::on_send_data(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd,
                            size_t len, nghttp2_data_source* source, void* p) {
  auto* self = self_of(p);
  auto* st = static_cast<H2Stream*>(source->ptr);
  if (!self->out_.empty() &&
      self->out_.size() + self->stream_.pending_bytes() >= self->stream_window())
    return NGHTTP2_ERR_WOULDBLOCK;
  self->out_.append(reinterpret_cast<const char*>(framehd), 9);
  st->take(self->out_, len);
  if (frame->data.padlen > 0)
    self->out_.append(frame->data.padlen, '\0');  // we never pad; kept exact
  st->progress_ms_ = self->now_ms_;
  if (st->exchange() && len > 0) {
    auto& b = self->batch_;
    if (!b.empty() && !b.back().log && b.back().ex == st->exchange()) {
      b.back().body += len;  // one entry per exchange and write, not per frame
    } else {
      b.push_back(Sent{st->exchange(), 0, len, false});
    }
  }
  if (!st->proceed_due && !st->body_ended() && st->queued() < self->stream_window()) {
    st->proceed_due = true;
    self->to_proceed_.push_back(self->streams_[frame->hd.stream_id]);
  }
  return 0;
}

ssize_t H2Session::on_send(nghttp2_session*, const uint8_t* data, size_t len, int, void* p) {
  auto* self = self_of(p);
  if (!self->out_.empty() &&
      self->out_.size() + self->stream_.pending_bytes() >= self->stream_window())
    return NGHTTP2_ERR_WOULDBLOCK;
  self->out_.append(reinterpret_cast<const char*>(data), len);
  return ssize_t(len);
}

int H2Session::on_frame_send(nghttp2_session* session, const nghttp2_frame* frame, void* p) {
  auto* self = self_of(p);
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    H2Stream* st = self->find(frame->hd.stream_id);
    if (st && !st->request_ended) self->linger_or_reset(session, *st);
  }
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    self->goaway_sent_ = true;
    // GOAWAYs nghttp2 sends on its own (HPACK, flow-control or framing errors) are refusals too.
    if (frame->goaway.error_code != NGHTTP2_NO_ERROR && !self->terminating_)
      self->count_refused(error_code_reason(frame->goaway.error_code), true);
  }
  return 0;
}

void H2Session::log_when_sent(const std::shared_ptr<Exchange>& ex) {
  // Usually its last body bytes are in this batch: one entry for both.
  if (!batch_.empty() && batch_.back().ex == ex) {
    batch_.back().log = true;
  } else {
    batch_.push_back(Sent{ex, 0, 0, true});
  }
}

void H2Session::write_out() {
  if (out_.empty()) {
    // Exchanges that ended with nothing more to send (a client's reset) are logged as they are.
    for (auto& s : batch_) {
      s.end = stream_.queued_bytes();
      sent_.push_back(std::move(s));
    }
    batch_.clear();
    return;
  }
  std::string out;
  out.swap(out_);
  stream_.write(std::move(out));
  uint64_t end = stream_.queued_bytes();
  for (auto& s : batch_) {
    s.end = end;
    sent_.push_back(std::move(s));
  }
  batch_.clear();
}

void H2Session::flush(bool from_event) {
  if (closed_) return;
  if (in_nghttp2_ || flushing_ || batching_) {
    flush_again_ = true;
    return;
  }
  if (!from_event && flush_after_posted()) return;
  flushing_ = true;
  now_ms_ = mono_ms();
  do {
    flush_again_ = false;
    // nghttp2 stops at our high-water mark (WOULDBLOCK); when the socket took it all at once no
    // progress event will come, so go on while it does.
    while (stream_.pending_bytes() < stream_window()) {
      in_nghttp2_ = true;
      int rv = nghttp2_session_send(session_);
      in_nghttp2_ = false;
      bool wrote = !out_.empty();
      write_out();
      if (rv != 0) {
        flushing_ = false;
        close_connection();
        return;
      }
      if (!wrote || !nghttp2_session_want_write(session_)) break;
    }
    run_deferred();
    if (from_event) run_proceed();
    if (closed_) {
      flushing_ = false;
      return;
    }
  } while (flush_again_ && stream_.pending_bytes() < stream_window());
  flushing_ = false;
  account();
  if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) {
    close_connection();
    return;
  }
  // A producer called us from inside its own write: it hears proceed() on the next loop turn,
  // never from within that write (it would run its pump again before the first one returned).
  if (!to_proceed_.empty() && !poke_posted_) {
    poke_posted_ = true;
    std::weak_ptr<bool> alive = alive_;
    ctx_->worker->post([this, alive]() {
      if (alive.expired()) return;
      poke_posted_ = false;
      flush(true);
    });
  }
}

bool H2Session::flush_after_posted() {
  if (after_posted_due_) return true;
  std::weak_ptr<bool> alive = alive_;
  if (!ctx_->worker->after_posted([this, alive]() {
        if (alive.expired()) return;
        after_posted_due_ = false;
        flush(true);
      }))
    return false;
  after_posted_due_ = true;
  return true;
}

void H2Session::run_proceed() {
  // Streams whose queues fell under the mark: their producers go on (and may queue more).
  auto ready = std::move(to_proceed_);
  to_proceed_.clear();
  for (auto& w : ready) {
    auto st = w.lock();
    if (!st) continue;
    st->proceed_due = false;
    if (st->attached() && st->exchange()) st->exchange()->proceed();
  }
  if (!to_proceed_.empty()) flush_again_ = true;
}

void H2Session::run_deferred() {
  while (!to_dispatch_.empty() || !gone_.empty()) {
    auto dispatch = std::move(to_dispatch_);
    to_dispatch_.clear();
    for (auto& st : dispatch) {
      // The answers made so far go out before the next request is handled, when due.
      if (batching_ && heads_batched_ >= early_flush_at_) write_batch_early();
      if (closed_) return;
      if (!st->attached()) continue;
      auto ex = st->exchange();
      st->dispatched = true;
      if (ctx_->hooks && ctx_->hooks->admit_request) {
        if (auto reason = ctx_->hooks->admit_request(conn_.client_ip()); !reason.empty()) {
          ex->respond_error(429, reason, Headers{{"Retry-After", "1"}});
          drop_held_body(*st);
          continue;
        }
      }
      ctx_->trim.note_activity();
      ctx_->handler->handle(ex);
      if (ex->started() && !ex->reads_request_body()) drop_held_body(*st);
    }
    auto gone = std::move(gone_);
    gone_.clear();
    for (auto& ex : gone) {
      ex->end_request_body(false);
      ex->client_gone();
    }
  }
}

void H2Session::on_progress() {
  account();
  flush(true);
}

void H2Session::account_final() {
  account();
  for (auto& s : sent_)
    if (s.log && ctx_->hooks && ctx_->hooks->on_complete) ctx_->hooks->on_complete(*s.ex);
  sent_.clear();
}

void H2Session::account() {
  uint64_t flushed = stream_.flushed_bytes();
  size_t done = 0;
  for (; done < sent_.size() && sent_[done].end <= flushed; ++done) {
    Sent& s = sent_[done];
    if (s.body) {
      s.ex->count_body_sent(s.body);
      if (ctx_->hooks && ctx_->hooks->on_body_sent) ctx_->hooks->on_body_sent(s.body);
    }
    if (s.log && ctx_->hooks && ctx_->hooks->on_complete) ctx_->hooks->on_complete(*s.ex);
  }
  sent_.erase(sent_.begin(), sent_.begin() + ptrdiff_t(done));
}

// ---------------------------------------------------------------------------------------------
// Limits, timeouts, shutdown

void H2Session::count_refused(std::string_view reason, bool connection) {
  if (ctx_->hooks && ctx_->hooks->on_h2_refused)
    ctx_->hooks->on_h2_refused(std::string(reason), conn_.client_ip(), connection);
}

void H2Session::terminate(const char* reason) {
  if (terminating_ || closed_) return;
  terminating_ = true;
  count_refused(reason, true);
  nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
}

void H2Session::drain() {
  if (closed_ || goaway_sent_) return;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  flush();
}

void H2Session::on_tick(int64_t now) {
  if (closed_) return;
  const ServerOptions& o = *ctx_->opts;
  // The connection's own output not shrinking: the client stopped reading altogether.
  uint64_t flushed = stream_.flushed_bytes();
  if (stream_.pending_bytes() == 0 || flushed != stall_flushed_) {
    stall_flushed_ = flushed;
    stall_since_ms_ = now;
  } else if (now - stall_since_ms_ > o.send_stall_ms) {
    count_refused("send-stall", true);
    close_connection();
    return;
  }
  std::vector<std::shared_ptr<H2Stream>> stalled, slow_heads, lingered;
  for (auto& [id, st] : streams_) {
    if (st->lingering && !st->request_ended && now - st->lingering_since_ms > o.send_stall_ms) {
      lingered.push_back(st);  // the dropped rest stopped coming: the stream is not held for it
    } else if (!st->exchange()) {
      if (now - st->opened_ms() > o.header_read_ms) slow_heads.push_back(st);
    } else if (st->queued() == 0) {
      st->progress_ms_ = now;
    } else if (now - st->progress_ms_ > o.send_stall_ms) {
      // Its window stayed shut (zero-window or slow reader): only this stream is given up.
      stalled.push_back(st);
    }
  }
  for (auto& st : stalled) reset(*st, "stream-send-stall");
  for (auto& st : lingered) {
    st->lingering = false;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, st->id(), NGHTTP2_NO_ERROR);
  }
  if (!lingered.empty()) flush();
  if (!slow_heads.empty()) {
    terminate("header-timeout");
    flush();
    return;
  }
  int64_t idle_limit = seen_request_ ? o.keepalive_idle_ms : o.header_read_ms;
  if (streams_.empty() && now - idle_since_ms_ > idle_limit) {
    drain();
    if (!closed_ && !goaway_sent_) close_connection();
  }
  if (ctx_->draining()) drain();
}

void H2Session::close_connection() {
  if (closed_) return;
  conn_.close();  // calls on_connection_closed()
}

void H2Session::on_connection_closed() {
  if (closed_) return;
  closed_ = true;
  for (auto& [id, st] : streams_) {
    st->detach();
    if (const auto& ex = st->exchange()) {
      if (!ex->finished()) gone_.push_back(ex);
      if (st->dispatched) log_when_sent(ex);
    }
  }
  streams_.clear();
  write_out();
  for (auto& ex : gone_) {
    ex->end_request_body(false);
    ex->client_gone();
  }
  gone_.clear();
  account();
}

}  // namespace cdn::http
