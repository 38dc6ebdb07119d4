#include "common/proxy/upstream_set.h"

#include <algorithm>

#include "common/cache/key.h"
#include "common/util/clock.h"

namespace cdn::proxy {

namespace {

Result<std::shared_ptr<net::TlsClientContext>> client_context(const config::UpstreamTlsConfig& c) {
  auto ctx = net::TlsClientContext::create({c.ca, c.cert, c.key});
  if (!ctx) return make_error("upstream.tls: " + ctx.error().message);
  return ctx;
}

}  // namespace

Result<std::vector<UpstreamServerSpec>> upstream_servers(const config::UpstreamConfig& cfg) {
  std::shared_ptr<net::TlsClientContextHolder> tls;
  std::vector<UpstreamServerSpec> out;
  for (auto& s : cfg.servers) {
    auto a = net::resolve_numeric(s.address.host, s.address.port);
    if (!a) return make_error("upstream " + s.address.str() + ": " + a.error().message);
    UpstreamServerSpec spec{a.value(), s.address.str(), s.backup, {}};
    if (s.tls) {
      if (!tls) {
        auto ctx = client_context(cfg.tls);
        if (!ctx) return ctx.error();
        tls = std::make_shared<net::TlsClientContextHolder>();
        tls->set(std::move(ctx.value()));
      }
      spec.tls = {tls, s.server_name};
    }
    out.push_back(std::move(spec));
  }
  return out;
}

Result<void> UpstreamSet::reload_tls(const config::UpstreamTlsConfig& cfg) {
  for (auto& s : servers_) {
    if (!s->spec.tls.context) continue;
    auto ctx = client_context(cfg);
    if (!ctx) return ctx.error();
    s->spec.tls.context->set(std::move(ctx.value()));  // every TLS server shares this holder
    return {};
  }
  return {};
}

UpstreamSet::UpstreamSet(SelectPolicy policy, std::vector<UpstreamServerSpec> servers, uint32_t max_fails,
                         int64_t fail_timeout_ms, http::UpstreamTimeouts timeouts, size_t workers)
    : policy_(policy), max_fails_(std::max<uint32_t>(max_fails, 1)), fail_timeout_ms_(fail_timeout_ms),
      timeouts_(timeouts) {
  for (auto& s : servers) {
    auto srv = std::make_unique<Server>();
    srv->seed = cache::hash64(s.name);
    srv->spec = std::move(s);
    servers_.push_back(std::move(srv));
  }
  pools_.resize(workers + 1);
}

bool UpstreamSet::is_up(size_t i) const {
  return servers_[i]->down_until_ms.load(std::memory_order_relaxed) <= mono_ms();
}

void UpstreamSet::order(std::string_view key_text, std::vector<size_t>& out) const {
  out.clear();
  for (size_t i = 0; i < servers_.size(); ++i) out.push_back(i);
  if (policy_ == SelectPolicy::Rendezvous) {
    // Highest random weight: score(server, key) = hash(key, seed(server)).
    std::vector<uint64_t> score(servers_.size());
    for (size_t i = 0; i < servers_.size(); ++i) score[i] = cache::hash64_seeded(key_text, servers_[i]->seed);
    std::sort(out.begin(), out.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
  } else {
    std::stable_sort(out.begin(), out.end(),
                     [&](size_t a, size_t b) { return !servers_[a]->spec.backup && servers_[b]->spec.backup; });
  }
  std::stable_partition(out.begin(), out.end(), [&](size_t i) { return is_up(i); });
}

void UpstreamSet::report(size_t i, bool ok) {
  Server& s = *servers_[i];
  if (ok) {
    s.fails.store(0, std::memory_order_relaxed);
    return;
  }
  if (s.fails.fetch_add(1, std::memory_order_relaxed) + 1 >= max_fails_) {
    s.down_until_ms.store(mono_ms() + fail_timeout_ms_, std::memory_order_relaxed);
    s.fails.store(0, std::memory_order_relaxed);
  }
}

void UpstreamSet::drop_pools(net::Worker& w) {
  std::vector<std::unique_ptr<http::UpstreamPool>> row;
  {
    std::lock_guard lk(pools_mu_);
    if (size_t(w.index()) < pools_.size()) row.swap(pools_[size_t(w.index())]);
  }
}

http::UpstreamPool& UpstreamSet::pool(net::Worker& w, size_t i) {
  std::lock_guard lk(pools_mu_);
  size_t wi = size_t(w.index());
  if (pools_.size() <= wi) pools_.resize(wi + 1);
  auto& row = pools_[wi];
  if (row.empty()) {
    for (auto& s : servers_)
      row.push_back(std::make_unique<http::UpstreamPool>(&w, s->spec.addr, timeouts_, 64, s->spec.tls));
  }
  return *row[i];
}

}  // namespace cdn::proxy
