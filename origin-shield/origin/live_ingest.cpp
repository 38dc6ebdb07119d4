#include "origin-shield/origin/live_ingest.h"

#include <openssl/crypto.h>
#include <uv.h>

#include "common/http/query.h"
#include "common/net/worker.h"
#include "common/obs/log.h"
#include "common/util/strings.h"
#include "origin-shield/origin/ingest/listeners.h"
#include "origin-shield/origin/live_http.h"
#include "origin-shield/origin/vod_handler.h"

namespace cdn::origin {

namespace {

bool equal_secret(std::string_view a, std::string_view b) {
  // Constant time in the key's content (OpenSSL's compare); the length is not a secret worth it.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

struct UdpInput {
  LiveRendition* rendition;
  std::shared_ptr<LiveSource> source;
  char buf[65536];
};

}  // namespace

LiveIngest::LiveIngest(const LiveConfig& cfg, LiveChannels& channels)
    : cfg_(cfg), channels_(channels) {}

LiveIngest::~LiveIngest() = default;

Result<void> LiveIngest::start_listeners(net::Worker& w) {
  listeners_ = std::make_unique<ingest::Listeners>(cfg_, channels_, *this);
  return listeners_->start(w);
}

Result<IngestAdmission> LiveIngest::admit(std::string_view channel, std::string_view rendition,
                                          std::string_view key, bool backup, const char* kind,
                                          const std::string& client) {
  const LiveChannelConfig* ch = cfg_.channel(channel);
  if (!ch) return Error{"unknown-channel"};
  if (!equal_secret(key, ch->stream_key)) {
    obs::log(obs::Level::Warn, "live ingest refused: bad stream key",
             {{"channel", ch->name}, {"client", client}, {"input", kind}});
    return Error{"bad-stream-key"};
  }
  LiveRendition* r = channels_.find(channel, rendition);
  if (!r || !r->configured()) return Error{"unknown-rendition"};
  return IngestAdmission{r, new_source(backup, kind)};
}

std::shared_ptr<LiveSource> LiveIngest::new_source(bool backup, const char* kind) {
  auto src = std::make_shared<LiveSource>();
  src->id = next_source_id_.fetch_add(1);
  src->backup = backup;
  src->kind = kind;
  return src;
}

void LiveIngest::handle(const std::shared_ptr<http::Exchange>& ex, std::string_view rest) {
  const auto& req = ex->request();
  auto parts = split(rest, '/');
  if (parts.size() != 2) return reject_live(ex, 404, "unknown-channel");
  if (req.method != "PUT" && req.method != "POST")
    return respond_method_not_allowed(ex, "PUT, POST");
  std::string key = http::query_value(req.query, "key").value_or("");
  if (key.empty()) {
    std::string_view auth = req.headers.get_or("authorization");
    if (auth.size() > 7 && iequals(auth.substr(0, 7), "bearer "))
      key = std::string(trim(auth.substr(7)));
  }
  auto role = http::query_value(req.query, "role").value_or("primary");
  auto admitted = admit(parts[0], parts[1], key, role == "backup", "http", ex->client_ip());
  if (!admitted) {
    const std::string& why = admitted.error().message;
    return reject_live(ex, why == "bad-stream-key" ? 403 : 404, why.c_str());
  }
  if (role != "primary" && role != "backup") return reject_live(ex, 400, "bad-role");
  LiveRendition* r = admitted->rendition;
  auto src = admitted->source;
  {
    std::lock_guard lk(pushes_mu_);
    pushes_.push_back({src, ex, ex->worker()});
  }
  obs::log(obs::Level::Info, "live ingest connected",
           {{"channel", r->channel()},
            {"rendition", r->name()},
            {"role", role},
            {"client", ex->client_ip()}});
  std::weak_ptr<http::Exchange> wex = ex;
  // Closed without the body's end (e.g. answered 503 while draining): the input is gone too.
  ex->on_abort([r, src] { r->on_source_end(*src); });
  ex->set_body_handler([r, src](const char* d, size_t n) { r->on_data(*src, d, n); },
                       [r, src, wex](bool ok) {
                         r->on_source_end(*src);
                         obs::log(obs::Level::Info, "live ingest closed",
                                  {{"channel", r->channel()},
                                   {"rendition", r->name()},
                                   {"complete", ok ? "true" : "false"}});
                         if (auto e = wex.lock(); e && ok) {
                           http::Headers h;
                           add_cors(h);
                           e->respond(204, std::move(h), std::string_view());
                         }
                       });
}

void LiveIngest::housekeep(bool draining) {
  std::lock_guard lk(pushes_mu_);
  std::erase_if(pushes_, [](const Push& p) { return !p.source->open; });
  if (drain_done_ || !draining) return;
  drain_done_ = true;
  for (auto& p : pushes_)
    p.worker->post([wex = p.ex] {
      if (auto e = wex.lock(); e && !e->started()) reject_live(e, 503, "draining");
    });
}

Result<void> LiveIngest::bind_udp(net::Worker& w) {
  for (auto& ch : cfg_.channels) {
    for (auto& rc : ch.renditions) {
      LiveRendition* r = channels_.find(ch.name, rc.name);
      for (int backup = 0; backup < 2; ++backup) {
        const auto& addr = backup ? rc.udp_backup : rc.udp;
        if (!addr) continue;
        struct sockaddr_storage ss {};
        int rc2 =
            addr->host.find(':') != std::string::npos
                ? uv_ip6_addr(addr->host.c_str(), addr->port, reinterpret_cast<sockaddr_in6*>(&ss))
                : uv_ip4_addr(addr->host.c_str(), addr->port, reinterpret_cast<sockaddr_in*>(&ss));
        if (rc2 != 0) return Error{"live udp " + addr->str() + ": " + uv_strerror(rc2)};
        auto* h = new uv_udp_t;
        uv_udp_init(w.loop(), h);
        h->data = new UdpInput{r, new_source(backup != 0, "udp"), {}};
        int err = uv_udp_bind(h, reinterpret_cast<const sockaddr*>(&ss), UV_UDP_REUSEADDR);
        if (err == 0) {
          int size = 4 << 20;
          uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(h), &size);
          err = uv_udp_recv_start(
              h,
              [](uv_handle_t* hh, size_t, uv_buf_t* buf) {
                auto* u = static_cast<UdpInput*>(hh->data);
                *buf = uv_buf_init(u->buf, sizeof u->buf);
              },
              [](uv_udp_t* hh, ssize_t nread, const uv_buf_t* buf, const sockaddr*, unsigned) {
                auto* u = static_cast<UdpInput*>(hh->data);
                if (u && nread > 0) u->rendition->on_data(*u->source, buf->base, size_t(nread));
              });
        }
        udp_.push_back(h);
        if (err != 0) return Error{"live udp " + addr->str() + ": " + uv_strerror(err)};
        obs::log(obs::Level::Info, "live udp input",
                 {{"channel", ch.name},
                  {"rendition", rc.name},
                  {"address", addr->str()},
                  {"role", backup ? "backup" : "primary"}});
      }
    }
  }
  return {};
}

void LiveIngest::close() {
  // The worker loops no longer run: closing here is safe, the workers' teardown runs the callbacks.
  if (listeners_) listeners_->stop();
  for (auto* h : udp_) {
    delete static_cast<UdpInput*>(h->data);
    h->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(h),
             [](uv_handle_t* hh) { delete reinterpret_cast<uv_udp_t*>(hh); });
  }
  udp_.clear();
}

}  // namespace cdn::origin
