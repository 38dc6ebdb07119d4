#include "geo/dns/udp_endpoint.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace cdn::geo::dns {

Result<std::unique_ptr<UdpEndpoint>> UdpEndpoint::open(uv_loop_t* loop, const net::SockAddr& addr,
                                                       Answerer answer) {
  int fd = ::socket(addr.storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(std::string("socket: ") + strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd, addr.get(), addr.len) != 0) {
    std::string e = "bind udp " + addr.str() + ": " + strerror(errno);
    ::close(fd);
    return make_error(e);
  }
  std::unique_ptr<UdpEndpoint> u(new UdpEndpoint());
  u->answer_ = std::move(answer);
  uv_udp_init_ex(loop, u->udp_.get(), AF_UNSPEC | UV_UDP_RECVMMSG);
  u->udp_.mark_initialized();
  u->udp_->data = u.get();
  if (int rc = uv_udp_open(u->udp_.get(), fd); rc != 0) {
    ::close(fd);
    return make_error(std::string("uv_udp_open: ") + uv_strerror(rc));
  }
  if (int rc = uv_udp_recv_start(u->udp_.get(), &UdpEndpoint::on_alloc, &UdpEndpoint::on_recv);
      rc != 0)
    return make_error(std::string("uv_udp_recv_start: ") + uv_strerror(rc));
  return u;
}

void UdpEndpoint::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* self = static_cast<UdpEndpoint*>(h->data);
  if (!self) {
    *buf = uv_buf_init(nullptr, 0);
    return;
  }
  *buf = uv_buf_init(self->buf_.get(), static_cast<unsigned>(kDatagramSlots * 65536));
}

void UdpEndpoint::on_recv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* from,
                          unsigned flags) {
  auto* self = static_cast<UdpEndpoint*>(h->data);
  if (!self) return;
  if (from == nullptr || nread < 0) {  // the read is over (or failed): send what it produced
    self->flush();
    return;
  }
  if (nread == 0 || (flags & UV_UDP_PARTIAL)) return;
  sockaddr_storage peer{};
  std::memcpy(&peer, from,
              from->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  std::string& out = self->batch_.next_answer();
  self->answer_(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread), peer,
                false, out);
  if (out.empty()) return;
  self->batch_.commit(from);
  if (self->batch_.full()) self->flush();
}

void UdpEndpoint::flush() {
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(udp_.get()), &fd) != 0) fd = -1;
  batch_.flush(fd);  // fd -1 (socket gone): the batch is dropped
}

uint16_t UdpEndpoint::bound_port() const {
  sockaddr_storage ss{};
  int len = sizeof ss;
  uv_udp_getsockname(udp_.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

}  // namespace cdn::geo::dns
