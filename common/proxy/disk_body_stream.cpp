#include "common/proxy/disk_body_stream.h"

#include <algorithm>

#include "common/cache/disk_tier.h"
#include "common/net/worker.h"

namespace cdn::proxy {

void DiskBodyStream::run(std::shared_ptr<http::Exchange> ex,
                         std::shared_ptr<const cache::BodyOnDisk> body, uint64_t first,
                         uint64_t last) {
  auto s = std::shared_ptr<DiskBodyStream>(
      new DiskBodyStream(std::move(ex), std::move(body), first, last));
  // The hooks hold us while we wait for the socket; end() clears them, breaking the cycle.
  s->ex_->on_proceed([s] { s->pump(); });
  s->ex_->on_abort([s] { s->end(false); });
  s->pump();
}

void DiskBodyStream::pump() {
  if (ended_ || reading_) return;
  if (!ex_->alive()) return end(false);
  if (next_ > last_) return end(true);
  if (!ex_->can_write()) return;  // on_proceed() calls us again
  // One chunk per read: up to the end of the chunk that holds next_.
  const uint64_t chunk = body_->layout.chunk_size;
  const uint64_t to = std::min(last_, (next_ / chunk + 1) * chunk - 1);
  reading_ = true;
  auto self = shared_from_this();
  net::Worker* w = ex_->worker();
  body_->tier->read_range_async(body_, next_, to, [self, w](Result<Body> r) {
    // The read ran on the disk pool; the exchange belongs to its loop. post() fails only when the
    // loop is shutting down, and the connection with it.
    w->post([self, r = std::move(r)]() mutable { self->on_read(std::move(r)); });
  });
}

void DiskBodyStream::on_read(Result<Body> r) {
  reading_ = false;
  if (ended_) return;
  // A chunk missing or of another version (the key rewritten meanwhile): the body cannot be
  // completed, and a truncated one must look broken.
  if (!r || !ex_->alive()) return end(false);
  for (const Bytes& b : r->chunks) ex_->write(b);
  next_ += r->size;
  pump();
}

void DiskBodyStream::end(bool complete) {
  if (ended_) return;
  ended_ = true;
  auto keep = shared_from_this();  // the hooks dropped here may hold the last reference
  ex_->end_stream(complete);
}

}  // namespace cdn::proxy
