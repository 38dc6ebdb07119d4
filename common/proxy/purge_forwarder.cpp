#include "common/proxy/purge_forwarder.h"

#include "common/obs/log.h"
#include "common/obs/metrics.h"
#include "common/util/strings.h"

namespace cdn::proxy {

namespace {

constexpr size_t kMaxAnswerBytes = 64 * 1024;  // a purge answer is a line of JSON

// The "purged" count of an upstream's answer, or -1 when it has none.
int64_t purged_count(std::string_view body) {
  static constexpr std::string_view kField = "\"purged\":";
  auto at = body.find(kField);
  if (at == std::string_view::npos) return -1;
  auto digits = body.substr(at + kField.size());
  size_t n = 0;
  while (n < digits.size() && digits[n] >= '0' && digits[n] <= '9') ++n;
  return parse_int(digits.substr(0, n)).value_or(-1);
}

void count(const std::string& upstream, const std::string& result) {
  obs::metrics()
      .counter("cdn_purge_forwards_total",
               "Purges forwarded to an upstream admin listener, by result",
               {{"upstream", upstream}, {"result", result}})
      .inc();
}

}  // namespace

// Every upstream's answers land here; the last one calls done.
struct PurgeForwarder::Gather {
  std::vector<UpstreamPurgeResult> results;
  size_t pending = 0;
  std::function<void(std::vector<UpstreamPurgeResult>)> done;
  void finished() {
    if (--pending == 0) done(std::move(results));
  }
};

// One request to one upstream admin. Keeps itself alive until the pool's last callback.
class PurgeForwarder::Call : public http::UpstreamCallbacks {
 public:
  Call(std::shared_ptr<Gather> g, size_t index) : gather_(std::move(g)), index_(index) {}
  void start(http::UpstreamPool& pool, std::string head, std::unique_ptr<Call> self) {
    self_ = std::move(self);
    pool_ = &pool;
    pool.send(std::move(head), false, this);
  }
  void on_upstream_head(int status, http::Headers&&) override { result().status = status; }
  void on_upstream_body(const Bytes& chunk) override {
    if (body_.size() + chunk->size() <= kMaxAnswerBytes) body_.append(chunk->data(), chunk->size());
  }
  void on_upstream_end(bool complete, http::UpstreamError err) override {
    auto& r = result();
    if (!complete) {
      r.status = 0;
      r.error = http::to_string(err);
      if (err == http::UpstreamError::Tls)  // which side refused what
        r.error += " (" + std::string(net::to_string(pool_->last_tls_failure())) + ")";
    } else {
      r.purged = purged_count(body_);
      if (!r.ok()) r.error = std::string(trim(body_));
    }
    count(r.address, r.ok() ? "ok" : r.status ? std::to_string(r.status) : r.error);
    if (!r.ok())
      obs::log(obs::Level::Warn, "purge not confirmed by upstream",
               {{"upstream", r.address}, {"status", std::to_string(r.status)}, {"error", r.error}});
    auto g = std::move(gather_);
    auto self = std::move(self_);  // freed when this call returns
    g->finished();
  }

 private:
  UpstreamPurgeResult& result() { return gather_->results[index_]; }

  std::shared_ptr<Gather> gather_;
  size_t index_;
  std::string body_;
  http::UpstreamPool* pool_ = nullptr;  // the forwarder's, which outlives its calls
  std::unique_ptr<Call> self_;
};

Result<std::unique_ptr<PurgeForwarder>> PurgeForwarder::create(net::Worker* loop,
                                                               const PurgeConfig& pc,
                                                               std::string token) {
  if (!pc.forward_to_upstreams || pc.upstream_admins.empty())
    return std::unique_ptr<PurgeForwarder>();
  std::shared_ptr<net::TlsClientContextHolder> tls;  // one for every https:// upstream admin
  std::vector<Target> targets;
  for (const auto& url : pc.upstream_admins) {
    const auto& hp = url.address;
    auto a = net::resolve_numeric(hp.host, hp.port);
    if (!a) return make_error("purge.upstream_admins " + hp.str() + ": " + a.error().message);
    Target t{hp.str(), a.value(), {}};
    if (url.tls) {
      if (!tls) {
        auto ctx = config::client_tls_context(pc.admin_client);
        if (!ctx) return make_error("purge.admin_client: " + ctx.error().message);
        tls = std::move(ctx.value());
      }
      t.tls = {tls, hp.host};  // the IP (or localhost) the admin certificate must carry
    }
    targets.push_back(std::move(t));
  }
  auto f = std::make_unique<PurgeForwarder>(loop, std::move(targets), std::move(token),
                                            pc.forward_timeout_ms);
  f->tls_files_ = pc.admin_client;
  f->tls_ = std::move(tls);
  return f;
}

Result<void> PurgeForwarder::reload_tls() {
  if (!tls_) return {};
  auto ctx = config::load_client_tls(tls_files_);
  if (!ctx) return make_error("purge.admin_client: " + ctx.error().message);
  tls_->set(std::move(ctx.value()));
  return {};
}

PurgeForwarder::PurgeForwarder(net::Worker* loop, std::vector<Target> targets, std::string token,
                               int64_t timeout_ms)
    : loop_(loop), targets_(std::move(targets)), token_(std::move(token)) {
  timeouts_.connect_ms = timeout_ms;
  timeouts_.first_byte_ms = timeout_ms;  // a prefix purge on a big shield answers late
  timeouts_.idle_ms = timeout_ms;
  pools_.resize(targets_.size());
}

PurgeForwarder::~PurgeForwarder() = default;

http::UpstreamPool& PurgeForwarder::pool(size_t i) {
  if (!pools_[i])
    pools_[i] = std::make_unique<http::UpstreamPool>(loop_, targets_[i].addr, timeouts_, 4,
                                                     targets_[i].tls);
  return *pools_[i];
}

void PurgeForwarder::forward(const std::string& path_and_query,
                             std::function<void(std::vector<UpstreamPurgeResult>)> done) {
  if (targets_.empty()) {
    done({});
    return;
  }
  auto g = std::make_shared<Gather>();
  g->pending = targets_.size();
  g->done = std::move(done);
  for (auto& t : targets_) g->results.push_back({t.name, 0, -1, {}});
  for (size_t i = 0; i < targets_.size(); ++i) {
    std::string head = "POST " + path_and_query + " HTTP/1.1\r\nHost: " + targets_[i].name +
                       "\r\nContent-Length: 0\r\n";
    if (!token_.empty()) head += "Authorization: Bearer " + token_ + "\r\n";
    head += "\r\n";
    auto call = std::make_unique<Call>(g, i);
    Call* c = call.get();
    c->start(pool(i), std::move(head), std::move(call));
  }
}

std::string to_json(const std::vector<UpstreamPurgeResult>& results) {
  std::string out = "[";
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (i) out += ',';
    out += "{\"address\":\"" + obs::json_escape(r.address) +
           "\",\"status\":" + std::to_string(r.status);
    if (r.purged >= 0) out += ",\"purged\":" + std::to_string(r.purged);
    if (!r.error.empty()) out += ",\"error\":\"" + obs::json_escape(r.error) + "\"";
    out += '}';
  }
  return out + "]";
}

}  // namespace cdn::proxy
