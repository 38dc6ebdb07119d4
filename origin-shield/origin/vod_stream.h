#pragma once
// Sends one byte window of an open file as a response body, read in fixed-size blocks with libuv
// fs requests (the loop's thread pool), never the whole file: a block is read only while the
// exchange can_write() (its unsent bytes are under the connection's high-water mark) and the next
// one after on_proceed(), so memory per response is bounded by about that mark plus one block
// however large the file or slow the client. Offsets are 64-bit.
//
// On plain connections the bytes go out with sendfile(2) instead (Exchange::send_file: on the
// thread pool, non-blocking socket, no copy through user space) whenever every earlier byte has
// left. When the socket fills up, one block goes the read-and-write way: its write completing is
// the connection's signal that the socket drained (libuv tells a producer nothing else), and
// sendfile resumes once the queue is empty again. TLS connections always read and write.
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/http/exchange.h"

namespace cdn::origin {

class VodStream : public std::enable_shared_from_this<VodStream> {
 public:
  static constexpr size_t kBlock = 256 * 1024;
  static constexpr size_t kSendfileMax = 4 * 1024 * 1024;  // per sendfile job

  // Takes ownership of fd. The response head must already have been started on ex.
  static void run(std::shared_ptr<http::Exchange> ex, uv_file fd, uint64_t offset, uint64_t length);
  ~VodStream();

 private:
  VodStream(std::shared_ptr<http::Exchange> ex, uv_file fd, uint64_t offset, uint64_t length);
  void pump();
  void on_read(ssize_t n);
  // Starts one sendfile job; false when the exchange cannot take one now.
  bool send_file();
  void on_sent(int64_t n, size_t asked);
  void end(bool complete);

  std::shared_ptr<http::Exchange> ex_;
  uv_file fd_;
  uint64_t next_, remaining_;
  uv_fs_t req_{};
  std::string buf_;
  bool reading_ = false, ended_ = false;
  bool sendfile_ = true;          // until the channel says it cannot (TLS) or sendfile fails
  bool next_block_read_ = false;  // the socket filled up: the next block is read and written
  std::shared_ptr<VodStream> in_flight_;  // keeps us alive while a read is queued
};

}  // namespace cdn::origin
