#include "cdnctl/admin_client.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/net/address.h"
#include "common/util/strings.h"

namespace cdn::ctl {

Result<AdminResponse> admin_request(const std::string& admin_url, const std::string& method,
                                    const std::string& path_and_query, const std::string& token,
                                    const std::string& json_body) {
  std::string_view u = admin_url;
  if (starts_with(u, "http://")) u.remove_prefix(7);
  while (!u.empty() && u.back() == '/') u.remove_suffix(1);
  auto colon = u.rfind(':');
  if (colon == std::string_view::npos) return make_error("admin URL needs host:port: " + admin_url);
  auto port = parse_int(u.substr(colon + 1));
  if (!port || *port <= 0 || *port > 65535) return make_error("bad port in admin URL: " + admin_url);
  auto addr = net::resolve_numeric(std::string(u.substr(0, colon)), uint16_t(*port));
  if (!addr) return addr.error();
  int fd = ::socket(addr->storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("socket failed");
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, addr->get(), addr->len) != 0) {
    ::close(fd);
    return make_error("cannot connect to " + admin_url);
  }
  std::string req = method + " " + path_and_query + " HTTP/1.1\r\nHost: " + std::string(u) +
                    "\r\nConnection: close\r\nContent-Length: " + std::to_string(json_body.size()) +
                    "\r\n";
  if (!json_body.empty()) req += "Content-Type: application/json\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  req += "\r\n" + json_body;
  for (size_t off = 0; off < req.size();) {
    ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return make_error("send failed");
    }
    off += size_t(n);
  }
  std::string resp;
  char buf[16384];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, size_t(n));
    if (resp.size() > (64 << 20)) break;
  }
  ::close(fd);
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody" (Content-Length framed, connection closed after).
  if (resp.size() < 12 || !starts_with(resp, "HTTP/1.")) return make_error("malformed response from " + admin_url);
  AdminResponse out;
  out.status = int(parse_int(std::string_view(resp).substr(9, 3)).value_or(0));
  auto hdr_end = resp.find("\r\n\r\n");
  if (hdr_end != std::string::npos) out.body = resp.substr(hdr_end + 4);
  return out;
}

}  // namespace cdn::ctl
