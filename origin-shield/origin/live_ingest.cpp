#include "origin-shield/origin/live_ingest.h"

#include <openssl/crypto.h>
#include <uv.h>

#include <algorithm>

#include "common/http/query.h"
#include "common/net/worker.h"
#include "common/obs/log.h"
#include "common/obs/metrics.h"
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
  std::string address;
  char buf[65536];
};

// Why the table `t` no longer admits a push of `r` with `key`; nullptr when it does.
const char* refusal_of(const ChannelTable& t, const LiveRendition* r, const std::string& key) {
  const ChannelView* v = t.find(r->channel());
  if (!v || !v->ingest) return "channel-removed";
  if (std::find(v->master.begin(), v->master.end(), r) == v->master.end())
    return "rendition-removed";
  if (!equal_secret(key, v->ingest->stream_key)) return "stream-key-changed";
  return nullptr;
}

void close_udp(uv_udp_t* h) {
  delete static_cast<UdpInput*>(h->data);
  h->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(h),
           [](uv_handle_t* hh) { delete reinterpret_cast<uv_udp_t*>(hh); });
}

}  // namespace

LiveIngest::LiveIngest(const LiveConfig& cfg, LiveChannels& channels)
    : cfg_(cfg), channels_(channels) {}

LiveIngest::~LiveIngest() = default;

Result<void> LiveIngest::start_listeners(net::Worker& w) {
  listeners_ = std::make_unique<ingest::Listeners>(cfg_, channels_, *this);
  return listeners_->start(w);
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
  Admission a = admit(parts[0], parts[1], key, "http", ex->client_ip());
  if (!a.rendition) return reject_live(ex, a.status, a.reason);
  auto role = http::query_value(req.query, "role").value_or("primary");
  if (role != "primary" && role != "backup") return reject_live(ex, 400, "bad-role");
  LiveRendition* r = a.rendition;
  auto src = new_source(role == "backup", "http");
  std::weak_ptr<http::Exchange> wex = ex;
  auto end = [worker = ex->worker(), wex](int status, const char* reason) {
    worker->post([wex, status, reason] {
      if (auto e = wex.lock(); e && !e->started()) reject_live(e, status, reason);
    });
  };
  if (const char* reason = track(src, r, key, std::move(end))) return reject_live(ex, 403, reason);
  obs::log(obs::Level::Info, "live ingest connected",
           {{"channel", r->channel()},
            {"rendition", r->name()},
            {"role", role},
            {"client", ex->client_ip()}});
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

LiveIngest::Admission LiveIngest::admit(std::string_view channel, std::string_view rendition,
                                        std::string_view key, const char* kind,
                                        std::string_view client) const {
  auto table = channels_.table();
  const ChannelView* view = table->find(channel);
  if (!view || !view->ingest) return {nullptr, 404, "unknown-channel"};
  if (!equal_secret(key, view->ingest->stream_key)) {
    obs::log(obs::Level::Warn, "live ingest refused: bad stream key",
             {{"channel", view->ingest->name}, {"client", std::string(client)}, {"input", kind}});
    return {nullptr, 403, "bad-stream-key"};
  }
  for (LiveRendition* m : view->master)
    if (m->name() == rendition) return {m, 0, nullptr};
  return {nullptr, 404, "unknown-rendition"};
}

Result<IngestAdmission> LiveIngest::admit_publisher(
    const ingest::StreamTarget& target, const char* kind, const std::string& client,
    std::function<void(uint64_t source_id, const char* reason)> cut) {
  Admission a = admit(target.channel, target.rendition, target.key, kind, client);
  if (!a.rendition) return Error{a.reason};
  auto src = new_source(target.backup, kind);
  auto end = [cut = std::move(cut), id = src->id](int, const char* reason) { cut(id, reason); };
  if (const char* reason = track(src, a.rendition, target.key, std::move(end)))
    return Error{reason};
  return IngestAdmission{a.rendition, std::move(src)};
}

const char* LiveIngest::track(std::shared_ptr<LiveSource> src, LiveRendition* r, std::string key,
                              std::function<void(int, const char*)> end) {
  std::lock_guard lk(pushes_mu_);
  // The table may have changed since admit(); reconcile() has seen every input listed before
  // it, so one listed after a change is checked against the new table here.
  if (const char* reason = refusal_of(*channels_.table(), r, key)) return reason;
  pushes_.push_back({std::move(src), r, std::move(key), std::move(end)});
  return nullptr;
}

void LiveIngest::housekeep(bool draining) {
  std::lock_guard lk(pushes_mu_);
  std::erase_if(pushes_, [](const Push& p) { return !p.source->open; });
  if (drain_done_ || !draining) return;
  drain_done_ = true;
  for (auto& p : pushes_) p.end(503, "draining");
}

size_t LiveIngest::reconcile(std::shared_ptr<const ChannelTable> t) {
  size_t cut = 0;
  {
    std::lock_guard lk(pushes_mu_);
    for (auto& p : pushes_) {
      const char* reason = p.source->open ? refusal_of(*t, p.rendition, p.key) : nullptr;
      if (!reason) continue;
      p.rendition->on_source_end(*p.source);  // its later bytes are dropped
      ++cut;
      obs::log(obs::Level::Info, "live ingest cut",
               {{"channel", p.rendition->channel()},
                {"rendition", p.rendition->name()},
                {"reason", reason}});
      p.end(403, reason);
    }
  }
  if (udp_worker_) udp_worker_->post([this, t] { (void)sync_udp(*t); });
  if (listeners_) listeners_->follow(*t);
  return cut;
}

std::map<std::string, size_t> LiveIngest::open_pushes() {
  std::map<std::string, size_t> out;
  std::lock_guard lk(pushes_mu_);
  for (auto& p : pushes_)
    if (p.source->open) ++out[p.rendition->channel() + "/" + p.rendition->name()];
  return out;
}

Result<void> LiveIngest::bind_udp(net::Worker& w) {
  udp_worker_ = &w;
  return sync_udp(*channels_.table());
}

Result<void> LiveIngest::sync_udp(const ChannelTable& t) {
  struct Wanted {
    LiveRendition* rendition;
    bool backup;
    config::HostPort address;
  };
  std::vector<Wanted> wanted;
  for (auto& [name, view] : t.channels) {
    if (!view.ingest) continue;
    for (size_t i = 0; i < view.ingest->renditions.size() && i < view.master.size(); ++i) {
      const LiveRenditionConfig& rc = view.ingest->renditions[i];
      if (rc.udp) wanted.push_back({view.master[i], false, *rc.udp});
      if (rc.udp_backup) wanted.push_back({view.master[i], true, *rc.udp_backup});
    }
  }
  auto same = [](const Wanted& w, const UdpInput& u) {
    return u.rendition == w.rendition && u.source->backup == w.backup &&
           u.address == w.address.str();
  };
  std::erase_if(udp_, [&](uv_udp_t* h) {
    auto* u = static_cast<UdpInput*>(h->data);
    for (auto& w : wanted)
      if (same(w, *u)) return false;
    obs::log(obs::Level::Info, "live udp input closed",
             {{"channel", u->rendition->channel()},
              {"rendition", u->rendition->name()},
              {"address", u->address}});
    close_udp(h);
    return true;
  });
  Result<void> result;
  for (auto& w : wanted) {
    bool bound = false;
    for (auto* h : udp_) bound = bound || same(w, *static_cast<UdpInput*>(h->data));
    if (bound) continue;
    auto r = bind_one(w.rendition, w.backup, w.address);
    if (!r) {
      obs::metrics()
          .counter("cdn_live_channel_errors_total", "Channel changes that failed, by reason",
                   {{"reason", "udp-bind-failed"}})
          .inc();
      obs::log(obs::Level::Error, "live udp input failed", {{"error", r.error().message}});
      if (result) result = r;
    }
  }
  return result;
}

Result<void> LiveIngest::bind_one(LiveRendition* r, bool backup, const config::HostPort& addr) {
  struct sockaddr_storage ss {};
  int rc2 = addr.host.find(':') != std::string::npos
                ? uv_ip6_addr(addr.host.c_str(), addr.port, reinterpret_cast<sockaddr_in6*>(&ss))
                : uv_ip4_addr(addr.host.c_str(), addr.port, reinterpret_cast<sockaddr_in*>(&ss));
  if (rc2 != 0) return Error{"live udp " + addr.str() + ": " + uv_strerror(rc2)};
  auto* h = new uv_udp_t;
  uv_udp_init(udp_worker_->loop(), h);
  h->data = new UdpInput{r, new_source(backup, "udp"), addr.str(), {}};
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
  if (err != 0) {
    close_udp(h);
    return Error{"live udp " + addr.str() + ": " + uv_strerror(err)};
  }
  udp_.push_back(h);
  obs::log(obs::Level::Info, "live udp input",
           {{"channel", r->channel()},
            {"rendition", r->name()},
            {"address", addr.str()},
            {"role", backup ? "backup" : "primary"}});
  return {};
}

void LiveIngest::close() {
  // The worker loops no longer run: closing here is safe, the workers' teardown runs the callbacks.
  if (listeners_) listeners_->stop();
  for (auto* h : udp_) close_udp(h);
  udp_.clear();
}

}  // namespace cdn::origin
