// Fuzzes the server side of an HTTP/2 connection the way a client reaches it: the connection
// preface and arbitrary frames (h2c with prior knowledge) go through a real socket into a
// ServerConnection on a libuv loop, which hands them to its H2Session. Every request is answered
// with a body larger than a stream's initial window, so flow control, deferred data and resets
// run too. The session must neither crash nor leak (ASan) whatever the frames say.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/http/server_connection.h"
#include "common/net/worker.h"

namespace {

using namespace cdn;

class Answer : public http::RequestHandler {
 public:
  void handle(const std::shared_ptr<http::Exchange>& ex) override {
    // Streamed in two writes past the 64 KiB initial window: flow control and DEFERRED both run.
    if (!ex->start(200, {}, int64_t(body_->size() * 2))) return;
    ex->write(body_);
    ex->write(body_);
    ex->finish();
  }

 private:
  Bytes body_ = make_bytes(std::string(40000, 'x'));
};

struct Harness {
  Harness() : worker(0), ctx(&worker, &opts, &handler, &hooks) {
    opts.h2.h2c = true;
    opts.h2.max_concurrent_streams = 8;
    opts.send_buffer_bytes = 16384;
  }
  net::Worker worker;
  http::ServerOptions opts;
  Answer handler;
  http::ConnectionHooks hooks;
  http::ConnectionContext ctx;
};

void drain(int fd) {
  char buf[65536];
  while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* h = new Harness();  // one loop for the whole run
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) return 0;
  auto* tcp = new uv_tcp_t;
  uv_tcp_init(h->worker.loop(), tcp);
  if (uv_tcp_open(tcp, fds[0]) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(tcp),
             [](uv_handle_t* p) { delete reinterpret_cast<uv_tcp_t*>(p); });
    close(fds[1]);
    return 0;
  }
  auto conn = std::make_shared<http::ServerConnection>(&h->ctx, tcp, nullptr, "127.0.0.1");
  conn->start();
  static const std::string kPreface = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
                                      std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);
  std::string in = kPreface + std::string(reinterpret_cast<const char*>(data), size);
  size_t off = 0;
  for (int round = 0; round < 200; ++round) {
    if (off < in.size()) {
      ssize_t n = send(fds[1], in.data() + off, in.size() - off, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) off += size_t(n);
    }
    uv_run(h->worker.loop(), UV_RUN_NOWAIT);
    drain(fds[1]);
    if (off >= in.size() && round > 20) break;
  }
  conn->close();
  conn.reset();
  close(fds[1]);
  for (int i = 0; i < 10; ++i) uv_run(h->worker.loop(), UV_RUN_NOWAIT);
  return 0;
}
