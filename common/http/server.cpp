#include "common/http/server.h"

namespace cdn::http {

HttpServer::HttpServer(ServerOptions opts, RequestHandler* handler, ConnectionHooks hooks,
                       net::TlsContextHolder* tls, size_t max_connections)
    : opts_(std::move(opts)), handler_(handler), hooks_(std::move(hooks)), tls_(tls),
      max_connections_(max_connections) {}

HttpServer::PerWorker& HttpServer::slot(net::Worker& w) {
  std::lock_guard lk(slots_mu_);
  if (slots_.size() <= size_t(w.index())) slots_.resize(size_t(w.index()) + 1);
  if (!slots_[size_t(w.index())]) slots_[size_t(w.index())] = std::make_unique<PerWorker>();
  return *slots_[size_t(w.index())];
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
  auto close_raw = [tcp]() {
    uv_close(reinterpret_cast<uv_handle_t*>(tcp), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  };
  if (draining_ || active_.load() >= max_connections_) {
    if (hooks_.on_refused) hooks_.on_refused(503, "too-many-connections");
    close_raw();
    return;
  }
  std::unique_ptr<net::TlsSession> session;
  if (tls) {
    auto ctx = tls_->get();
    if (!ctx) {
      close_raw();
      return;
    }
    session = std::make_unique<net::TlsSession>(std::move(ctx));
  }
  PerWorker& s = slot(w);
  active_++;
  auto conn = std::make_shared<ServerConnection>(
      &w, tcp, std::move(session), opts_, handler_, &hooks_, [this]() { return draining_.load(); },
      [this, &s](ServerConnection* c) {
        if (s.conns.erase(c)) active_--;
      });
  s.conns.insert(conn.get());
  conn->start();
}

void HttpServer::drain(net::Worker& w) {
  draining_ = true;
  PerWorker& s = slot(w);
  for (auto& l : s.listeners) l->close();
  s.listeners.clear();
  std::vector<ServerConnection*> conns(s.conns.begin(), s.conns.end());
  for (auto* c : conns) c->drain();
}

void HttpServer::close_all(net::Worker& w) {
  PerWorker& s = slot(w);
  for (auto& l : s.listeners) l->close();
  s.listeners.clear();
  std::vector<ServerConnection*> conns(s.conns.begin(), s.conns.end());
  for (auto* c : conns) c->close();
}

}  // namespace cdn::http
