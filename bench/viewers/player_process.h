#pragma once
// One process's share of the audience: its own libuv loop, TLS context and token key, its
// viewers joining on the run's schedule, and one JSON line per second (that second's tally) on
// `out_fd`, then a final line with the whole run's.
#include <uv.h>

#include <memory>
#include <random>
#include <vector>

#include "bench/viewers/viewer.h"
#include "common/auth/key.h"

namespace cdn::viewers {

class PlayerProcess : public ViewerHost {
 public:
  // Viewers proc, proc + procs, proc + 2 procs, ... of the run; `start_ns` is the run's start on
  // uv_hrtime()'s clock (CLOCK_MONOTONIC, shared by the processes of the run).
  PlayerProcess(const Options& o, uint32_t proc, uint64_t start_ns, int out_fd);
  ~PlayerProcess() override;
  int run();

  uv_loop_t* loop() override { return &loop_; }
  const Endpoint* endpoint() override { return &endpoint_; }
  const Options& options() override { return opts_; }
  double now() override;
  std::mt19937_64& rng() override { return rng_; }
  void count(const std::function<void(Tally&)>& f) override {
    f(tick_);
    f(total_);
  }
  std::string token_for(uint32_t id, uint32_t session) override;

 private:
  Result<void> setup();
  void on_tick();
  void emit(const std::string& line);

  Options opts_;
  uint32_t proc_;
  uint64_t start_ns_;
  int out_fd_;
  uv_loop_t loop_;
  Endpoint endpoint_;
  net::SslCtxPtr tls_;
  std::shared_ptr<const auth::Key> key_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<Viewer>> viewers_;
  std::vector<double> join_at_;  // each viewer's first join, seconds after the start
  size_t next_join_ = 0;
  net::UvHandle<uv_timer_t> tick_timer_;
  uint64_t tick_no_ = 0;
  Tally tick_, total_;
  bool ending_ = false;
};

}  // namespace cdn::viewers
