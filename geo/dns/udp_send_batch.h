#pragma once
// Answers gathered while one read's datagrams are answered, then handed to the kernel with one
// sendmmsg: one system call per batch instead of one per answer. An answer the socket cannot take
// now (EAGAIN) is dropped (the resolver retries), so nothing queues past a batch.
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <string>

namespace cdn::geo::dns {

class UdpSendBatch {
 public:
  static constexpr size_t kCapacity = 16;

  // The string the next answer is written into; its capacity is kept from batch to batch.
  std::string& next_answer() { return slots_[count_].answer; }
  // Queues next_answer() for `peer`; false when the batch is full and must be flushed first.
  void commit(const sockaddr* peer);
  bool full() const { return count_ == kCapacity; }
  // Sends every queued answer on `fd` and empties the batch (drops it when fd < 0).
  void flush(int fd);

 private:
  struct Slot {
    sockaddr_storage peer{};
    socklen_t peer_len = 0;
    std::string answer;
  };
  std::array<Slot, kCapacity> slots_;
  size_t count_ = 0;
};

}  // namespace cdn::geo::dns
