#pragma once
// One UDP socket on a worker loop (SO_REUSEPORT, so every worker binds the same address and the
// kernel spreads datagrams). Datagrams are read several per system call (recvmmsg); each is
// answered from the receive callback into a UdpSendBatch, which goes out with one sendmmsg when the
// read's datagrams are done (libuv ends every read with a callback without an address). An answer
// the socket cannot take right now is dropped (the resolver retries), so nothing queues.
#include <uv.h>

#include <memory>

#include "common/net/address.h"
#include "common/net/uv_handle.h"
#include "common/util/result.h"
#include "geo/dns/answerer.h"
#include "geo/dns/udp_send_batch.h"

namespace cdn::geo::dns {

class UdpEndpoint {
 public:
  static Result<std::unique_ptr<UdpEndpoint>> open(uv_loop_t* loop, const net::SockAddr& addr,
                                                   Answerer answer);
  void close() { udp_.close(); }
  uint16_t bound_port() const;

 private:
  UdpEndpoint() = default;
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_recv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* from,
                      unsigned flags);

  net::UvHandle<uv_udp_t> udp_;
  Answerer answer_;
  void flush();

  UdpSendBatch batch_;
  // One read's datagrams (libuv gives recvmmsg 64 KiB per datagram slot); each is answered before
  // the next read, so one buffer serves them all. As many slots as a batch holds answers.
  static constexpr size_t kDatagramSlots = UdpSendBatch::kCapacity;
  std::unique_ptr<char[]> buf_{new char[kDatagramSlots * 65536]};
};

}  // namespace cdn::geo::dns
