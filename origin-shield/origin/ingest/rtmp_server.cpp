#include "origin-shield/origin/ingest/rtmp_server.h"

#include <uv.h>

#include <optional>

#include "common/net/tls_session.h"
#include "common/net/worker.h"
#include "common/obs/log.h"
#include "common/util/clock.h"
#include "common/util/strings.h"
#include "origin-shield/origin/ingest/rtmp_session.h"
#include "origin-shield/origin/ingest/stream_target.h"
#include "origin-shield/origin/live_http.h"
#include "origin-shield/origin/live_ingest.h"
#include "origin-shield/origin/live_rendition.h"

namespace cdn::origin::ingest {

namespace {

constexpr int64_t kTickMs = 250;
constexpr size_t kReadBuffer = 64 << 10;
constexpr size_t kMaxPendingWrite = 1 << 20;  // we send only control messages; a publisher
                                              // that reads none of them is stuck or hostile
constexpr std::string_view kApp = "live";

struct Write {
  uv_write_t req;
  std::string data;
};

std::string peer_of(uv_tcp_t* tcp) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  char buf[64] = "?";
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    if (ss.ss_family == AF_INET6)
      uv_ip6_name(reinterpret_cast<sockaddr_in6*>(&ss), buf, sizeof buf);
    else
      uv_ip4_name(reinterpret_cast<sockaddr_in*>(&ss), buf, sizeof buf);
  }
  return buf;
}

}  // namespace

struct RtmpServer::Connection {
  Connection(RtmpServer* s, const RtmpIngestConfig& cfg)
      : server(s),
        session(RtmpChunkLimits{1 << 16, size_t(cfg.max_message_bytes), 64},
                RtmpSession::Hooks{[this](const std::string& app, const std::string& name) {
                                     return on_publish(app, name);
                                   },
                                   [this](std::string_view ts) {
                                     if (in)
                                       in->rendition->on_data(*in->source, ts.data(), ts.size());
                                   },
                                   [this](std::string&& bytes) { send(std::move(bytes)); }}) {}

  std::string on_publish(const std::string& app, const std::string& name);
  void send(std::string&& bytes);
  void send_raw(std::string&& bytes);
  // rtmps: ciphertext in, RTMP bytes out (into `plain`); false when the connection must end.
  bool decrypt(const char* data, size_t n, std::string& plain);
  void on_read(ssize_t n, const uv_buf_t* buf);
  void on_tick();
  // Ends the connection: `reason` is counted unless it is an orderly end or already counted.
  void finish(const char* reason, bool count);
  void close_handles();

  RtmpServer* server;  // null once the server stopped
  uv_tcp_t tcp{};
  uv_timer_t timer{};
  int open_handles = 0;
  bool finishing = false;
  RtmpSession session;
  std::optional<IngestAdmission> in;
  std::unique_ptr<net::TlsSession> tls;  // rtmps only
  std::string peer;
  int64_t accepted_ms = 0, last_media_ms = 0;
  uint64_t media_seen = 0;
  char buf[kReadBuffer];
};

std::string RtmpServer::Connection::on_publish(const std::string& app, const std::string& name) {
  // ffmpeg splits rtmp://h/live/news/720p?key=k into app "live/news" and name "720p?key=k";
  // OBS sends app "live" and name "news/720p?key=k": joined, both read live/news/720p?key=k.
  std::string path = app + "/" + name;
  std::optional<StreamTarget> target;
  if (starts_with(path, std::string(kApp) + "/"))
    target = parse_stream_target(std::string_view(path).substr(kApp.size() + 1));
  if (!target) {
    count_live_error("bad-stream-name");
    obs::log(obs::Level::Warn,
             "live rtmp refused: stream is not live/<channel>/<rendition>?key=...",
             {{"app", app}, {"client", peer}});
    return "bad-stream-name";
  }
  // The cut reaches this connection through its loop, where the server is looked up again.
  auto cut = [srv = server](uint64_t id, const char* reason) {
    srv->worker_->post([srv, id, reason] { srv->cut(id, reason); });
  };
  auto admitted = server->ingest_.admit_publisher(*target, "rtmp", peer, std::move(cut));
  if (!admitted) {
    count_live_error(admitted.error().message);
    return admitted.error().message;
  }
  in = std::move(admitted.value());
  last_media_ms = mono_ms();
  obs::log(obs::Level::Info, "live ingest connected",
           {{"channel", in->rendition->channel()},
            {"rendition", in->rendition->name()},
            {"role", target->backup ? "backup" : "primary"},
            {"input", "rtmp"},
            {"client", peer}});
  return "";
}

void RtmpServer::Connection::send(std::string&& bytes) {
  if (!tls) return send_raw(std::move(bytes));
  std::string cipher;
  if (tls->write_to(cipher, bytes.data(), bytes.size()) != net::TlsSession::Status::Ok)
    return finish("rtmps-tls-error", true);
  send_raw(std::move(cipher));
}

bool RtmpServer::Connection::decrypt(const char* data, size_t n, std::string& plain) {
  const auto st = tls->feed(data, n, plain);
  if (tls->has_ciphertext()) send_raw(tls->take_ciphertext());  // handshake replies, alerts
  if (st == net::TlsSession::Status::Ok) return true;
  if (st == net::TlsSession::Status::Closed) {
    finish("eof", false);
  } else {
    obs::log(obs::Level::Info, "live rtmps tls error",
             {{"client", peer}, {"error", tls->last_error()}});
    finish("rtmps-tls-error", true);
  }
  return false;
}

void RtmpServer::Connection::send_raw(std::string&& bytes) {
  if (bytes.empty() || uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp))) return;
  if (tcp.write_queue_size > kMaxPendingWrite) return finish("rtmp-write-stalled", true);
  auto* w = new Write{{}, std::move(bytes)};
  uv_buf_t b = uv_buf_init(w->data.data(), unsigned(w->data.size()));
  int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp), &b, 1,
                    [](uv_write_t* req, int) { delete reinterpret_cast<Write*>(req); });
  if (rc != 0) delete w;
}

void RtmpServer::Connection::on_read(ssize_t n, const uv_buf_t* b) {
  if (n < 0) return finish(n == UV_EOF ? "eof" : "rtmp-read-error", false);
  if (n == 0 || finishing) return;
  std::string_view bytes(b->base, size_t(n));
  std::string plain;
  if (tls) {
    if (!decrypt(b->base, size_t(n), plain) || plain.empty()) return;
    bytes = plain;
  }
  const char* reason = session.feed(bytes);
  if (!reason) return;
  const bool orderly = std::string_view(reason) == RtmpSession::kUnpublished;
  // A refused publish was counted with its own reason by on_publish.
  finish(reason, !orderly && std::string_view(reason) != "rtmp-publish-refused");
}

void RtmpServer::Connection::on_tick() {
  if (finishing) return;
  const int64_t now = mono_ms();
  if (session.phase() != RtmpSession::Phase::Publishing) {
    if (now - accepted_ms > server->cfg_.handshake_timeout_ms)
      finish("rtmp-handshake-timeout", true);
    return;
  }
  if (session.media_messages() != media_seen) {
    media_seen = session.media_messages();
    last_media_ms = now;
  } else if (now - last_media_ms > server->cfg_.idle_timeout_ms) {
    finish("rtmp-idle-timeout", true);
  }
}

void RtmpServer::Connection::finish(const char* reason, bool count) {
  if (finishing) return;
  finishing = true;
  if (count) count_live_error(reason);
  if (in) {
    in->rendition->on_source_end(*in->source);
    obs::log(obs::Level::Info, "live ingest closed",
             {{"channel", in->rendition->channel()},
              {"rendition", in->rendition->name()},
              {"input", "rtmp"},
              {"reason", reason}});
  } else if (count) {
    obs::log(obs::Level::Info, "live rtmp connection closed",
             {{"reason", reason}, {"client", peer}});
  }
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp));
  if (tls && tls->handshake_done()) {
    tls->shutdown();  // close_notify, so an rtmps client sees an orderly end
    send_raw(tls->take_ciphertext());
  }
  // Let queued writes (a refusal's onStatus) leave before the close.
  auto* req = new uv_shutdown_t;
  req->data = this;
  if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&tcp), [](uv_shutdown_t* r, int) {
        auto* c = static_cast<Connection*>(r->data);
        delete r;
        c->close_handles();
      }) != 0) {
    delete req;
    close_handles();
  }
}

void RtmpServer::Connection::close_handles() {
  if (server) server->conns_.erase(this);
  server = nullptr;
  auto done = [](uv_handle_t* h) {
    auto* c = static_cast<Connection*>(h->data);
    if (--c->open_handles == 0) delete c;
  };
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer)))
    uv_close(reinterpret_cast<uv_handle_t*>(&timer), done);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp)))
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp), done);
}

Result<uv_tcp_t*> RtmpServer::listen(uv_loop_t* loop, const config::HostPort& hp,
                                     const char* what) {
  sockaddr_storage ss{};
  int rc = hp.host.find(':') != std::string::npos
               ? uv_ip6_addr(hp.host.c_str(), hp.port, reinterpret_cast<sockaddr_in6*>(&ss))
               : uv_ip4_addr(hp.host == "localhost" ? "127.0.0.1" : hp.host.c_str(), hp.port,
                             reinterpret_cast<sockaddr_in*>(&ss));
  if (rc != 0) return Error{std::string("live ") + what + " " + hp.str() + ": " + uv_strerror(rc)};
  auto* l = new uv_tcp_t;
  uv_tcp_init(loop, l);
  l->data = this;
  rc = uv_tcp_bind(l, reinterpret_cast<const sockaddr*>(&ss), 0);
  if (rc == 0)
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(l), 64, [](uv_stream_t* s, int status) {
      on_connection(reinterpret_cast<uv_tcp_t*>(s), status);
    });
  if (rc != 0) {
    l->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(l),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    return Error{std::string("live ") + what + " " + hp.str() + ": " + uv_strerror(rc)};
  }
  obs::log(obs::Level::Info, std::string("live ") + what + " listening", {{"address", hp.str()}});
  return l;
}

Result<void> RtmpServer::start(net::Worker& w) {
  worker_ = &w;
  if (cfg_.listen) {
    auto l = listen(w.loop(), *cfg_.listen, "rtmp");
    if (!l) return l.error();
    listener_ = l.value();
  }
  if (cfg_.tls_listen) {
    net::TlsOptions o;
    o.certificates.push_back({cfg_.certificate, cfg_.private_key});
    auto ctx = net::TlsContext::create(o);
    if (!ctx) return Error{"live rtmps: " + ctx.error().message};
    tls_ = std::move(ctx.value());
    auto l = listen(w.loop(), *cfg_.tls_listen, "rtmps");
    if (!l) return l.error();
    tls_listener_ = l.value();
  }
  return {};
}

void RtmpServer::on_connection(uv_tcp_t* listener, int status) {
  auto* self = static_cast<RtmpServer*>(listener->data);
  if (status < 0 || !self) return;
  auto* c = new Connection(self, self->cfg_);
  uv_loop_t* loop = listener->loop;
  uv_tcp_init(loop, &c->tcp);
  uv_timer_init(loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->open_handles = 2;
  self->conns_.insert(c);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(listener),
                reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    c->finishing = true;
    return c->close_handles();
  }
  uv_tcp_nodelay(&c->tcp, 1);
  if (listener == self->tls_listener_) c->tls = std::make_unique<net::TlsSession>(self->tls_);
  c->peer = peer_of(&c->tcp);
  c->accepted_ms = mono_ms();
  uv_timer_start(
      &c->timer, [](uv_timer_t* t) { static_cast<Connection*>(t->data)->on_tick(); }, kTickMs,
      kTickMs);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->tcp),
      [](uv_handle_t* h, size_t, uv_buf_t* b) {
        auto* cc = static_cast<Connection*>(h->data);
        *b = uv_buf_init(cc->buf, sizeof cc->buf);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
        static_cast<Connection*>(s->data)->on_read(n, b);
      });
}

void RtmpServer::cut(uint64_t source_id, const char* reason) {
  for (auto* c : conns_) {
    if (c->finishing || !c->in || c->in->source->id != source_id) continue;
    c->session.end_publish(reason);
    return c->finish(reason, true);
  }
}

void RtmpServer::stop() {
  // The loop no longer runs: its teardown runs these close callbacks.
  for (auto* c : std::set<Connection*>(conns_)) {
    if (c->in && !c->finishing) c->in->rendition->on_source_end(*c->in->source);
    c->finishing = true;
    c->close_handles();
  }
  conns_.clear();
  for (uv_tcp_t** l : {&listener_, &tls_listener_}) {
    if (!*l) continue;
    (*l)->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(*l),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    *l = nullptr;
  }
}

}  // namespace cdn::origin::ingest
