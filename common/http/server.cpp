#include "common/http/server.h"

#include "common/http/date.h"
#include "common/util/clock.h"

namespace cdn::http {

namespace {

// For accepted sockets that never become a ServerConnection.
void close_accepted(uv_tcp_t* tcp) {
  uv_close(reinterpret_cast<uv_handle_t*>(tcp),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
}

}  // namespace

HttpServer::HttpServer(ServerOptions opts, RequestHandler* handler, ConnectionHooks hooks,
                       net::TlsContextHolder* tls, size_t max_connections,
                       ClientLimitsOptions client_limits)
    : opts_(std::move(opts)),
      handler_(handler),
      hooks_(std::move(hooks)),
      tls_(tls),
      max_connections_(max_connections),
      client_prefixes_(client_limits.prefixes) {
  if (client_limits.max_connections_per_client > 0)
    client_connections_ =
        std::make_unique<ClientConnectionCounter>(client_limits.max_connections_per_client);
  if (client_limits.requests_per_second > 0) {
    client_rates_ = std::make_unique<ClientRateLimiter>(client_limits.requests_per_second,
                                                        client_limits.request_burst,
                                                        client_limits.max_rate_clients);
    hooks_.admit_request = [this](const std::string& client_ip) {
      return admit_request(client_ip);
    };
  }
}

std::string_view HttpServer::admit_request(const std::string& client_ip) {
  auto key = client_key(client_ip, client_prefixes_);
  if (!key) return {};
  switch (client_rates_->allow(*key, mono_ms())) {
    case RateDecision::Allowed:
      return {};
    case RateDecision::OverRate:
      return "client-rate-limit";
    case RateDecision::TableFull:
      return "client-rate-table-full";
  }
  return {};
}

HttpServer::PerWorker& HttpServer::slot(net::Worker& w) {
  std::lock_guard lk(slots_mu_);
  if (slots_.size() <= size_t(w.index())) slots_.resize(size_t(w.index()) + 1);
  auto& s = slots_[size_t(w.index())];
  if (!s) {
    s = std::make_unique<PerWorker>();
    s->ctx = std::make_unique<ConnectionContext>(&w, &opts_, handler_, &hooks_);
    s->ctx->draining = [this]() { return draining_.load(); };
    s->ctx->on_closed = [this](ServerConnection& c) {
      active_--;
      if (!client_connections_) return;
      // The same text accept() derived the key from, so the release matches the acquire.
      if (auto key = client_key(c.client_ip(), client_prefixes_)) client_connections_->release(*key);
    };
  }
  return *s;
}

Result<void> HttpServer::listen(net::Worker& w, const ListenSpec& spec) {
  if (spec.tls && (!tls_ || !tls_->get())) return make_error("TLS listener without certificates");
  bool tls = spec.tls;
  auto l = net::Listener::open(w.loop(), spec.addr, [this, &w, tls](uv_tcp_t* tcp) { accept(w, tcp, tls); });
  if (!l) return l.error();
  slot(w).listeners.push_back(std::move(l.value()));
  return {};
}

void HttpServer::accept(net::Worker& w, uv_tcp_t* tcp, bool tls) {
  if (draining_ || active_.load() >= max_connections_) {
    if (hooks_.on_refused) hooks_.on_refused(503, "too-many-connections");
    close_accepted(tcp);
    return;
  }
  sockaddr_storage peer{};
  int len = sizeof peer;
  uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&peer), &len);
  std::string client_ip = net::peer_ip(peer);
  std::optional<ClientKey> client;
  if (client_connections_) {
    client = client_key(client_ip, client_prefixes_);
    if (client && !client_connections_->acquire(*client)) {
      refuse_client(tcp, tls);
      return;
    }
  }
  std::unique_ptr<net::TlsSession> session;
  if (tls) {
    auto ctx = tls_->get();
    if (!ctx) {
      if (client) client_connections_->release(*client);
      close_accepted(tcp);
      return;
    }
    session = std::make_unique<net::TlsSession>(std::move(ctx));
  }
  PerWorker& s = slot(w);
  active_++;
  auto conn = std::make_shared<ServerConnection>(s.ctx.get(), tcp, std::move(session), std::move(client_ip));
  conn->start();
}

void HttpServer::refuse_client(uv_tcp_t* tcp, bool tls) {
  static constexpr std::string_view kReason = "client-connection-limit";
  if (hooks_.on_refused) hooks_.on_refused(429, std::string(kReason));
  if (!tls) {
    // One non-blocking write into an empty socket buffer: it either fits whole or the peer
    // gets only the close, which is the TLS answer anyway.
    std::string body = "429 " + std::string(kReason) + "\n";
    std::string out =
        "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "X-Error-Reason: " +
        std::string(kReason) + "\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nDate: " + current_http_date() + "\r\nConnection: close\r\n\r\n" + body;
    uv_buf_t buf = uv_buf_init(out.data(), unsigned(out.size()));
    uv_try_write(reinterpret_cast<uv_stream_t*>(tcp), &buf, 1);
  }
  close_accepted(tcp);
}

void HttpServer::drain(net::Worker& w) {
  draining_ = true;
  PerWorker& s = slot(w);
  for (auto& l : s.listeners) l->close();
  s.listeners.clear();
  s.ctx->for_each_connection([](ServerConnection& c) { c.drain(); });
}

void HttpServer::close_all(net::Worker& w) {
  PerWorker& s = slot(w);
  for (auto& l : s.listeners) l->close();
  s.listeners.clear();
  s.ctx->for_each_connection([](ServerConnection& c) { c.close(); });
}

}  // namespace cdn::http
