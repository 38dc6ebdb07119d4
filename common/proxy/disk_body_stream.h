#pragma once
// Sends bytes [first, last] of a body left on the disk tier (cache::BodyOnDisk) as a response body:
// one chunk per read on the tier's pool, results handed back to the exchange's loop, and a read
// only while the exchange can_write() (the next one after on_proceed()). Memory per response stays
// at about the connection's high-water mark plus a chunk, however large the object or slow the
// client.
#include <cstdint>
#include <memory>

#include "common/cache/object.h"
#include "common/http/exchange.h"
#include "common/util/result.h"

namespace cdn::proxy {

class DiskBodyStream : public std::enable_shared_from_this<DiskBodyStream> {
 public:
  // The response head must already have been started on ex.
  static void run(std::shared_ptr<http::Exchange> ex, std::shared_ptr<const cache::BodyOnDisk> body,
                  uint64_t first, uint64_t last);

 private:
  DiskBodyStream(std::shared_ptr<http::Exchange> ex, std::shared_ptr<const cache::BodyOnDisk> body,
                 uint64_t first, uint64_t last)
      : ex_(std::move(ex)), body_(std::move(body)), next_(first), last_(last) {}
  void pump();
  void on_read(Result<Body> r);
  void end(bool complete);

  std::shared_ptr<http::Exchange> ex_;
  std::shared_ptr<const cache::BodyOnDisk> body_;
  uint64_t next_, last_;  // next byte to read; last byte to send
  bool reading_ = false, ended_ = false;
};

}  // namespace cdn::proxy
