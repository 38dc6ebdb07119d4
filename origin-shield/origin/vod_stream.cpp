#include "origin-shield/origin/vod_stream.h"

#include <algorithm>

#include "common/net/worker.h"

namespace cdn::origin {

VodStream::VodStream(std::shared_ptr<http::Exchange> ex, uv_file fd, uint64_t offset,
                     uint64_t length)
    : ex_(std::move(ex)), fd_(fd), next_(offset), remaining_(length) {}

VodStream::~VodStream() {
  uv_fs_t close_req;
  uv_fs_close(nullptr, &close_req, fd_, nullptr);  // synchronous: close(2) of a regular file
  uv_fs_req_cleanup(&close_req);
}

void VodStream::run(std::shared_ptr<http::Exchange> ex, uv_file fd, uint64_t offset,
                    uint64_t length) {
  auto s = std::shared_ptr<VodStream>(new VodStream(std::move(ex), fd, offset, length));
  // The hooks hold us while we wait for the socket; end() clears them, breaking the cycle.
  s->ex_->on_proceed([s] { s->pump(); });
  s->ex_->on_abort([s] { s->end(false); });
  s->pump();
}

void VodStream::pump() {
  if (ended_ || reading_) return;
  if (!ex_->alive()) return end(false);
  if (remaining_ == 0) return end(true);
  // Read only while the connection is under its high-water mark; on_proceed() calls us again.
  if (!ex_->can_write()) return;
  size_t n = size_t(std::min<uint64_t>(kBlock, remaining_));
  buf_.resize(n);
  uv_buf_t b = uv_buf_init(buf_.data(), unsigned(n));
  req_.data = this;
  int rc = uv_fs_read(ex_->worker()->loop(), &req_, fd_, &b, 1, int64_t(next_), [](uv_fs_t* r) {
    auto* self = static_cast<VodStream*>(r->data);
    ssize_t result = r->result;
    uv_fs_req_cleanup(r);
    auto keep = std::move(self->in_flight_);
    self->reading_ = false;
    self->on_read(result);
  });
  if (rc != 0) return end(false);
  reading_ = true;
  in_flight_ = shared_from_this();
}

void VodStream::on_read(ssize_t n) {
  if (ended_) return;
  // A read error or a file that shrank under us: the body cannot be completed.
  if (n <= 0 || !ex_->alive()) return end(false);
  buf_.resize(size_t(n));
  next_ += uint64_t(n);
  remaining_ -= std::min<uint64_t>(remaining_, uint64_t(n));
  ex_->write(make_bytes(std::move(buf_)));
  buf_ = std::string();
  pump();
}

void VodStream::end(bool complete) {
  if (ended_) return;
  ended_ = true;
  auto keep = shared_from_this();  // the hooks dropped here may hold the last reference
  ex_->end_stream(complete);
}

}  // namespace cdn::origin
