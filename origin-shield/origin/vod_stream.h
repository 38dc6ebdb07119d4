#pragma once
// Sends one byte window of an open file as a response body, read in fixed-size blocks with libuv
// fs requests (the loop's thread pool), never the whole file: a block is read only while the
// exchange can_write() (its unsent bytes are under the connection's high-water mark) and the next
// one after on_proceed(), so memory per response is bounded by about that mark plus one block
// however large the file or slow the client. Offsets are 64-bit.
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/http/exchange.h"

namespace cdn::origin {

class VodStream : public std::enable_shared_from_this<VodStream> {
 public:
  static constexpr size_t kBlock = 256 * 1024;

  // Takes ownership of fd. The response head must already have been started on ex.
  static void run(std::shared_ptr<http::Exchange> ex, uv_file fd, uint64_t offset, uint64_t length);
  ~VodStream();

 private:
  VodStream(std::shared_ptr<http::Exchange> ex, uv_file fd, uint64_t offset, uint64_t length);
  void pump();
  void on_read(ssize_t n);
  void end(bool complete);

  std::shared_ptr<http::Exchange> ex_;
  uv_file fd_;
  uint64_t next_, remaining_;
  uv_fs_t req_{};
  std::string buf_;
  bool reading_ = false, ended_ = false;
  std::shared_ptr<VodStream> in_flight_;  // keeps us alive while a read is queued
};

}  // namespace cdn::origin
