#include "geo/dns/tcp_session.h"

#include <algorithm>
#include <cstring>

namespace cdn::geo::dns {
namespace {

constexpr size_t kFrameHeader = 2;

}  // namespace

TcpSession::TcpSession(uv_loop_t* loop, uv_tcp_t* tcp, Answerer answer, int64_t idle_ms,
                       OnClosed on_closed)
    : tcp_(tcp),
      answer_(std::move(answer)),
      idle_ms_(idle_ms),
      on_closed_(std::move(on_closed)),
      writer_(new Writer()) {
  writer_->owner = this;
  writer_->req.data = writer_;
  tcp_->data = this;
  uv_timer_init(loop, idle_.get());
  idle_.mark_initialized();
  idle_->data = this;
  int len = sizeof peer_;
  uv_tcp_getpeername(tcp_, reinterpret_cast<sockaddr*>(&peer_), &len);
}

TcpSession::~TcpSession() {
  if (writer_->in_flight)
    writer_->owner = nullptr;  // closing the socket cancels the write; its callback frees it
  else
    delete writer_;
  tcp_->data = nullptr;
  auto* h = reinterpret_cast<uv_handle_t*>(tcp_);
  // Already closing only when a Worker's destructor closed every handle of its loop first.
  if (!uv_is_closing(h)) uv_close(h, [](uv_handle_t* c) { delete reinterpret_cast<uv_tcp_t*>(c); });
}

void TcpSession::start() {
  arm_idle_timer();
  reading_ = uv_read_start(reinterpret_cast<uv_stream_t*>(tcp_), &TcpSession::on_alloc,
                           &TcpSession::on_read) == 0;
  if (!reading_) close();
}

void TcpSession::close() {
  idle_.close();
  OnClosed done = std::move(on_closed_);
  if (done) done(this);  // destroys this session (the destructor closes the socket)
}

void TcpSession::arm_idle_timer() {
  uv_timer_start(
      idle_.get(),
      [](uv_timer_t* t) {
        if (auto* self = static_cast<TcpSession*>(t->data)) self->close();
      },
      static_cast<uint64_t>(idle_ms_), 0);
}

void TcpSession::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* self = static_cast<TcpSession*>(h->data);
  if (!self) {
    *buf = uv_buf_init(nullptr, 0);
    return;
  }
  *buf = uv_buf_init(self->read_buf_, sizeof self->read_buf_);
}

void TcpSession::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<TcpSession*>(s->data);
  if (!self) return;
  if (nread < 0) {
    self->close();
    return;
  }
  self->consume(buf->base, static_cast<size_t>(nread));
}

size_t TcpSession::frame_size() const {
  if (in_.size() < kFrameHeader) return kFrameHeader;
  return kFrameHeader + ((static_cast<uint8_t>(in_[0]) << 8) | static_cast<uint8_t>(in_[1]));
}

// Appends to the current frame and answers every complete one; never holds more than one frame.
void TcpSession::consume(const char* data, size_t len) {
  while (len > 0) {
    size_t take = std::min(len, frame_size() - in_.size());
    in_.append(data, take);
    data += take;
    len -= take;
    if (in_.size() >= kFrameHeader && in_.size() == frame_size() && !answer_frame()) return;
  }
}

bool TcpSession::answer_frame() {
  answer_(reinterpret_cast<const uint8_t*>(in_.data()) + kFrameHeader, in_.size() - kFrameHeader,
          peer_, true, answer_buf_);
  in_.clear();
  if (answer_buf_.empty()) {  // not a query we answer: the stream cannot be trusted past it
    close();
    return false;
  }
  arm_idle_timer();
  return send(answer_buf_);
}

size_t TcpSession::unsent() const {
  return pending_.size() + (writer_->in_flight ? writer_->data.size() : 0);
}

bool TcpSession::send(const std::string& answer) {
  uint16_t n = static_cast<uint16_t>(answer.size());
  pending_.push_back(static_cast<char>(n >> 8));
  pending_.push_back(static_cast<char>(n & 0xff));
  pending_ += answer;
  if (!writer_->in_flight && !start_write()) return false;
  if (unsent() > kMaxPendingWrite && reading_) {  // the peer does not read: stop reading too
    uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp_));
    reading_ = false;
  }
  return true;
}

// Hands what is pending to libuv (the buffers swap, keeping both capacities).
bool TcpSession::start_write() {
  writer_->data.swap(pending_);
  pending_.clear();
  uv_buf_t b = uv_buf_init(writer_->data.data(), static_cast<unsigned>(writer_->data.size()));
  if (uv_write(&writer_->req, reinterpret_cast<uv_stream_t*>(tcp_), &b, 1, &TcpSession::on_write) !=
      0) {
    close();
    return false;
  }
  writer_->in_flight = true;
  return true;
}

void TcpSession::on_write(uv_write_t* req, int status) {
  auto* w = static_cast<Writer*>(req->data);
  w->in_flight = false;
  TcpSession* self = w->owner;
  if (self == nullptr) {  // the session is gone
    delete w;
    return;
  }
  if (status < 0) {
    self->close();
    return;
  }
  if (!self->pending_.empty() && !self->start_write()) return;
  if (!self->reading_ && self->unsent() <= kMaxPendingWrite) {
    self->reading_ = uv_read_start(reinterpret_cast<uv_stream_t*>(self->tcp_),
                                   &TcpSession::on_alloc, &TcpSession::on_read) == 0;
  }
}

}  // namespace cdn::geo::dns
