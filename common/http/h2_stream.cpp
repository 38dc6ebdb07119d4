#include "common/http/h2_stream.h"

#include <algorithm>

#include "common/http/h2_session.h"

namespace cdn::http {

void H2Stream::queue(std::span<const Bytes> blocks) {
  for (const Bytes& b : blocks) {
    if (!b || b->empty()) continue;
    blocks_.push_back(b);
    queued_ += b->size();
  }
}

void H2Stream::take(std::string& out, size_t n) {
  n = std::min(n, queued_);
  queued_ -= n;
  while (n > 0) {
    const std::string& b = *blocks_[head_];
    size_t k = std::min(n, b.size() - off_);
    out.append(b.data() + off_, k);
    off_ += k;
    n -= k;
    if (off_ == b.size()) {
      blocks_[head_++].reset();
      off_ = 0;
    }
  }
  if (head_ == blocks_.size()) {  // drained: give the vector's memory back after a large body
    if (blocks_.capacity() > 16) {
      std::vector<Bytes>().swap(blocks_);
    } else {
      blocks_.clear();
    }
    head_ = 0;
  }
}

bool H2Stream::send_head(Exchange& ex, const ResponseHead& head, std::string_view body,
                         std::span<const Bytes> blocks) {
  if (!channel_open(ex)) return false;
  if (!body.empty()) {
    Bytes b = make_bytes(body);
    queue(std::span<const Bytes>(&b, 1));
  }
  queue(blocks);
  return session_->submit_head(*this, head);
}

bool H2Stream::send_body(Exchange& ex, std::span<const Bytes> blocks) {
  if (!channel_open(ex)) return false;
  queue(blocks);
  session_->resume(*this);
  return true;
}

void H2Stream::end_response(Exchange& ex) {
  if (!channel_open(ex)) return;
  body_ended_ = true;
  session_->answered(*this);
  if (session_) session_->resume(*this);
}

void H2Stream::abort_response(Exchange& ex) {
  if (!channel_open(ex)) return;
  body_ended_ = true;
  session_->answered(*this);
  if (session_) session_->reset(*this, "aborted");
}

size_t H2Stream::send_window() const {
  return session_ ? session_->stream_window() : 0;
}

void H2Stream::want_request_body(Exchange& ex) {
  if (!channel_open(ex)) return;
  if (!held_body.empty()) {
    std::string held;
    held.swap(held_body);
    ex.deliver_request_body(held.data(), held.size());
  }
  if (request_ended) ex.end_request_body(true);
  if (session_) session_->give_back(*this);
}

void H2Stream::request_body_flow(Exchange& ex, bool paused) {
  if (!channel_open(ex) || body_paused == paused) return;
  body_paused = paused;
  if (!paused) session_->give_back(*this);
}

}  // namespace cdn::http
