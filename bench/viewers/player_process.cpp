#include "bench/viewers/player_process.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/auth/jws.h"
#include "common/auth/signing_key.h"
#include "common/net/address.h"

namespace cdn::viewers {

namespace json = auth::json;

PlayerProcess::PlayerProcess(const Options& o, uint32_t proc, uint64_t start_ns, int out_fd)
    : opts_(o), proc_(proc), start_ns_(start_ns), out_fd_(out_fd), rng_(o.seed * 1000003 + proc) {
  uv_loop_init(&loop_);
}

PlayerProcess::~PlayerProcess() {
  viewers_.clear();
  tick_timer_.close();
  uv_run(&loop_, UV_RUN_NOWAIT);  // let the closed handles' callbacks free them
  uv_loop_close(&loop_);
}

double PlayerProcess::now() {
  return double(int64_t(uv_hrtime() - start_ns_)) / 1e9;
}

Result<void> PlayerProcess::setup() {
  auto addr = net::resolve_numeric(opts_.address, opts_.port);
  if (!addr) return addr.error();
  endpoint_.addr = addr->storage;
  endpoint_.host = opts_.host_header;
  if (opts_.tls) {
    auto ctx = make_client_tls_context(opts_.cacert);
    if (!ctx) return ctx.error();
    tls_ = std::move(ctx.value());
    endpoint_.tls = tls_.get();
  }
  if (!opts_.token_key.empty()) {
    auto key = auth::load_signing_key(opts_.token_key);
    if (!key) return key.error();
    key_ = key.value();
  }
  // Viewer g of the run joins at g * ramp / N: the crowd arrives evenly over the ramp.
  for (uint32_t g = proc_; g < opts_.viewers; g += opts_.procs) {
    viewers_.push_back(std::make_unique<Viewer>(*this, g));
    join_at_.push_back(opts_.viewers > 1 ? opts_.ramp_s * double(g) / double(opts_.viewers) : 0);
  }
  return {};
}

std::string PlayerProcess::token_for(uint32_t id, uint32_t session) {
  if (!key_) return {};
  int64_t t = int64_t(std::time(nullptr));
  json::Object c;
  if (!opts_.token_aud.empty()) c.push_back({"aud", json::Value{opts_.token_aud}});
  c.push_back({"sub", json::Value{"viewer-" + std::to_string(id)}});
  c.push_back({"sid", json::Value{"s-" + std::to_string(id) + "-" + std::to_string(session)}});
  c.push_back({"jti", json::Value{"j-" + std::to_string(id) + "-" + std::to_string(session) + "-" +
                                  std::to_string(t)}});
  c.push_back({"iat", json_uint(uint64_t(t))});
  c.push_back({"exp", json_uint(uint64_t(t + opts_.token_ttl_s))});
  auto tok = auth::sign(json::serialize(json::Value{std::move(c)}), *key_);
  if (!tok) {
    count([&](Tally& tl) { tl.add_error(0, "token-sign"); });
    return {};
  }
  return tok.value();
}

void PlayerProcess::emit(const std::string& line) {
  std::string l = line + "\n";
  const char* p = l.data();
  size_t left = l.size();
  while (left > 0) {
    ssize_t n = ::write(out_fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // the parent is gone; the run ends anyway
    }
    p += n;
    left -= size_t(n);
  }
}

void PlayerProcess::on_tick() {
  double t = now();
  if (t < 0) return;  // the run's start is still ahead
  while (!ending_ && next_join_ < viewers_.size() && join_at_[next_join_] <= t)
    viewers_[next_join_++]->join();
  if (!ending_ && t >= opts_.duration_s) {
    ending_ = true;
    for (auto& v : viewers_) v->leave();
  }
  // Once a second (the timer runs every 10 ms for the joins): the second's tally.
  uint64_t second = uint64_t(std::floor(t));
  if (second < tick_no_ + 1 && !ending_) return;
  uint32_t playing = 0, active = 0;
  for (auto& v : viewers_) {
    v->account();
    playing += v->playing();
    active += v->active();
  }
  json::Object o;
  o.push_back({"proc", json_uint(proc_)});
  o.push_back({"t", json_uint(tick_no_ + 1)});
  o.push_back({"playing", json_uint(playing)});
  o.push_back({"active", json_uint(active)});
  o.push_back({"tally", to_json(tick_)});
  emit(json::serialize(json::Value{std::move(o)}));
  tick_ = Tally{};
  ++tick_no_;
  if (ending_) uv_stop(&loop_);
}

int PlayerProcess::run() {
  if (auto r = setup(); !r) {
    std::fprintf(stderr, "cdn-viewers: %s\n", r.error().message.c_str());
    return 2;
  }
  uv_timer_init(&loop_, tick_timer_.get());
  tick_timer_.mark_initialized();
  tick_timer_->data = this;
  uv_timer_start(
      tick_timer_.get(), [](uv_timer_t* t) { static_cast<PlayerProcess*>(t->data)->on_tick(); }, 0,
      10);
  uv_run(&loop_, UV_RUN_DEFAULT);
  json::Object o;
  o.push_back({"proc", json_uint(proc_)});
  o.push_back({"final", json::Value{true}});
  o.push_back({"seconds", json_real(now())});
  o.push_back({"tally", to_json(total_)});
  emit(json::serialize(json::Value{std::move(o)}));
  return 0;
}

}  // namespace cdn::viewers
