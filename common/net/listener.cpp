#include "common/net/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace cdn::net {

Result<std::unique_ptr<Listener>> Listener::open(uv_loop_t* loop, const SockAddr& addr, OnAccept cb,
                                                 int backlog) {
  int fd = ::socket(addr.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(std::string("socket: ") + strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd, addr.get(), addr.len) != 0) {
    std::string e = std::string("bind ") + addr.str() + ": " + strerror(errno);
    ::close(fd);
    return make_error(e);
  }
  std::unique_ptr<Listener> l(new Listener());
  l->loop_ = loop;
  l->on_accept_ = std::move(cb);
  uv_tcp_init(loop, l->tcp_.get());
  l->tcp_.mark_initialized();
  l->tcp_->data = l.get();
  if (int rc = uv_tcp_open(l->tcp_.get(), fd); rc != 0) {
    ::close(fd);
    return make_error(std::string("uv_tcp_open: ") + uv_strerror(rc));
  }
  if (int rc = uv_listen(l->tcp_.stream(), backlog, &Listener::on_connection); rc != 0)
    return make_error("listen " + addr.str() + ": " + uv_strerror(rc));
  return l;
}

void Listener::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<Listener*>(server->data);
  if (!self || status < 0) return;
  auto* client = new uv_tcp_t{};
  uv_tcp_init(self->loop_, client);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(client)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(client), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    return;
  }
  uv_tcp_nodelay(client, 1);
  self->on_accept_(client);
}

uint16_t Listener::bound_port() const {
  sockaddr_storage ss{};
  int len = sizeof ss;
  uv_tcp_getsockname(tcp_.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

}  // namespace cdn::net
