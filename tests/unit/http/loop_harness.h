#pragma once
// Test harness for code that runs on a libuv loop: a real worker thread, a real listener on
// loopback feeding ServerConnections, and a blocking socket client driven from the test thread.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>

#include "common/http/server_connection.h"
#include "common/net/address.h"
#include "common/net/listener.h"
#include "common/net/worker.h"

namespace cdn::test {

// Polls `cond` until it holds or `timeout_ms` passed; returns the last value.
inline bool wait_until(const std::function<bool()>& cond, int timeout_ms = 5000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return cond();
}

// A worker loop on its own thread.
class TestLoop {
 public:
  TestLoop() : worker_(0) {
    signal(SIGPIPE, SIG_IGN);  // as the programs do: a peer that left is an error value, not a signal
    std::promise<void> up;
    worker_.start([&](net::Worker&) { up.set_value(); });
    up.get_future().wait();
  }
  ~TestLoop() {
    worker_.stop();
    worker_.join();
  }
  net::Worker& worker() { return worker_; }
  // Runs fn on the loop thread and waits for it.
  template <typename F>
  auto run(F fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto fut = task.get_future();
    worker_.post([&task]() { task(); });
    return fut.get();
  }

 private:
  net::Worker worker_;
};

// Accepts on 127.0.0.1:<ephemeral> and serves every connection with `handler`.
class TestServer {
 public:
  TestServer(TestLoop& loop, http::RequestHandler* handler, http::ServerOptions opts = {},
             http::ConnectionHooks hooks = {})
      : loop_(loop), opts_(std::move(opts)), hooks_(std::move(hooks)), handler_(handler) {
    port_ = loop_.run([this]() -> uint16_t {
      ctx_ = std::make_unique<http::ConnectionContext>(&loop_.worker(), &opts_, handler_, &hooks_);
      ctx_->on_closed = [this](http::ServerConnection& c) { conns_.erase(&c); };
      auto addr = net::resolve_numeric("127.0.0.1", 0);
      auto l = net::Listener::open(loop_.worker().loop(), addr.value(), [this](uv_tcp_t* tcp) { accept(tcp); });
      if (!l) return 0;
      listener_ = std::move(l.value());
      return listener_->bound_port();
    });
  }
  ~TestServer() {
    loop_.run([this]() {
      if (listener_) listener_->close();
      listener_.reset();
      auto conns = conns_;
      for (auto* c : conns) c->close();
      return 0;
    });
    // Connections leave the context's list once their handles are released.
    wait_until([this]() { return loop_.run([this]() { return ctx_->connections.empty(); }); });
    loop_.run([this]() {
      ctx_.reset();
      return 0;
    });
  }
  uint16_t port() const { return port_; }
  size_t connections() { return loop_.run([this]() { return conns_.size(); }); }
  size_t accepted() { return loop_.run([this]() { return accepted_; }); }
  // Open connections that hold per-request state (parser, exchange) right now.
  size_t connections_holding_request_state() {
    return loop_.run([this]() {
      size_t n = 0;
      for (auto* c : conns_) n += c->holds_request_state() ? 1 : 0;
      return n;
    });
  }

 private:
  void accept(uv_tcp_t* tcp) {
    sockaddr_storage peer{};
    int len = sizeof peer;
    uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&peer), &len);
    auto conn = std::make_shared<http::ServerConnection>(ctx_.get(), tcp, nullptr, net::peer_ip(peer));
    conns_.insert(conn.get());
    ++accepted_;
    conn->start();
  }

  TestLoop& loop_;
  http::ServerOptions opts_;
  http::ConnectionHooks hooks_;
  http::RequestHandler* handler_;
  std::unique_ptr<http::ConnectionContext> ctx_;
  std::unique_ptr<net::Listener> listener_;
  std::unordered_set<http::ServerConnection*> conns_;
  uint16_t port_ = 0;
  size_t accepted_ = 0;
};

// Streams `total` bytes of a known pattern, offering only while the connection is under its
// high-water mark and going on from on_proceed(); `held` tells it is waiting for the client.
struct PatternProducer : std::enable_shared_from_this<PatternProducer> {
  std::shared_ptr<http::Exchange> ex;
  uint64_t total = 0, produced = 0;
  size_t block = 16 * 1024;
  bool held = false;
  size_t max_pending_seen = 0;

  static char at(uint64_t i) { return char('a' + (i * 7 + i / 977) % 26); }
  static bool matches(const std::string& body) {
    for (size_t i = 0; i < body.size(); ++i)
      if (body[i] != at(i)) return false;
    return true;
  }
  // Starts the response (Content-Length: total) and produces until held or done.
  static std::shared_ptr<PatternProducer> start(const std::shared_ptr<http::Exchange>& ex, uint64_t total,
                                                http::Headers headers = {}) {
    auto p = std::make_shared<PatternProducer>();
    p->ex = ex;
    p->total = total;
    std::weak_ptr<PatternProducer> w = p;
    ex->on_proceed([w]() {
      if (auto s = w.lock()) s->run();
    });
    ex->start(200, std::move(headers), int64_t(total));
    p->run();
    return p;
  }
  void run() {
    held = false;
    while (produced < total) {
      if (!ex->can_write()) {
        held = true;
        return;
      }
      size_t n = size_t(std::min<uint64_t>(block, total - produced));
      std::string s(n, '\0');
      for (size_t i = 0; i < n; ++i) s[i] = at(produced + i);
      produced += n;
      ex->write(make_bytes(std::move(s)));
      max_pending_seen = std::max(max_pending_seen, ex->pending_bytes());
    }
    ex->finish();
  }
};

// Handler from a lambda.
class FnHandler : public http::RequestHandler {
 public:
  explicit FnHandler(std::function<void(const std::shared_ptr<http::Exchange>&)> fn) : fn_(std::move(fn)) {}
  void handle(const std::shared_ptr<http::Exchange>& ex) override { fn_(ex); }

 private:
  std::function<void(const std::shared_ptr<http::Exchange>&)> fn_;
};

struct ClientResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  bool complete = false;  // framing said the body ended (not a close or a timeout)
  std::string header(const std::string& name) const {
    std::string lower_head;
    for (char c : head) lower_head += char(tolower(static_cast<unsigned char>(c)));
    std::string key = "\r\n";
    for (char c : name) key += char(tolower(static_cast<unsigned char>(c)));
    key += ": ";
    auto p = lower_head.find(key);
    if (p == std::string::npos) return "";
    auto v = p + key.size();
    return head.substr(v, head.find("\r\n", v) - v);
  }
};

// A blocking HTTP/1.1 client over a real socket.
class TestClient {
 public:
  // rcvbuf > 0 shrinks the receive buffer before connecting (a slow reader's window).
  explicit TestClient(uint16_t port, int rcvbuf = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~TestClient() { close(); }
  bool connected() const { return connected_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool send(const std::string& s) { return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size()); }
  void set_timeout_ms(int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  // Reads until `n` more bytes are buffered, the peer closes or the timeout passes.
  bool fill(size_t n) {
    while (buf_.size() < n) {
      char tmp[65536];
      ssize_t r = ::recv(fd_, tmp, sizeof tmp, 0);
      if (r <= 0) {
        eof_ = true;
        return false;
      }
      buf_.append(tmp, size_t(r));
    }
    return true;
  }
  // True once the peer closed (reads until EOF or timeout).
  bool closed_by_peer() {
    while (!eof_) fill(buf_.size() + 1);
    return eof_;
  }
  // One response; `head_request` for HEAD (no body whatever the length says).
  ClientResponse read_response(bool head_request = false) {
    ClientResponse r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill(buf_.size() + 1)) return r;
    r.head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    r.status = atoi(r.head.c_str() + 9);
    std::string cl = r.header("content-length"), te = r.header("transfer-encoding");
    if (head_request || r.status == 304 || r.status == 204) {
      r.complete = true;
    } else if (!cl.empty()) {
      size_t n = std::stoull(cl);
      r.complete = fill(n);
      r.body = buf_.substr(0, std::min(n, buf_.size()));
      buf_.erase(0, r.body.size());
    } else if (te == "chunked") {
      while (true) {
        size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos)
          if (!fill(buf_.size() + 1)) return r;
        size_t n = std::stoull(buf_.substr(0, eol), nullptr, 16);
        if (!fill(eol + 2 + n + 2)) return r;
        r.body.append(buf_, eol + 2, n);
        buf_.erase(0, eol + 2 + n + 2);
        if (n == 0) {
          r.complete = true;
          break;
        }
      }
    } else {
      while (fill(buf_.size() + 1)) {
      }
      r.body = buf_;
      buf_.clear();
    }
    return r;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buf_;
};

}  // namespace cdn::test
