#include "geo/dns/udp_send_batch.h"

#include <netinet/in.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace cdn::geo::dns {

void UdpSendBatch::commit(const sockaddr* peer) {
  Slot& s = slots_[count_];
  s.peer_len = peer->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  std::memcpy(&s.peer, peer, s.peer_len);
  ++count_;
}

void UdpSendBatch::flush(int fd) {
  if (fd < 0) {
    count_ = 0;
    return;
  }
  std::array<mmsghdr, kCapacity> msgs{};
  std::array<iovec, kCapacity> iov{};
  for (size_t i = 0; i < count_; ++i) {
    Slot& s = slots_[i];
    iov[i] = {s.answer.data(), s.answer.size()};
    msgs[i].msg_hdr.msg_name = &s.peer;
    msgs[i].msg_hdr.msg_namelen = s.peer_len;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  size_t sent = 0;
  while (sent < count_) {
    int n = ::sendmmsg(fd, msgs.data() + sent, static_cast<unsigned>(count_ - sent), 0);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      break;  // the socket is full: drop the rest of the batch (see the header)
    } else {
      ++sent;  // this answer's destination is refused (unreachable, EPERM...): skip only it
    }
  }
  count_ = 0;
}

}  // namespace cdn::geo::dns
