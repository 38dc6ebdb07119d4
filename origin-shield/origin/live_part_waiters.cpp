#include "origin-shield/origin/live_part_waiters.h"

#include <algorithm>

#include "common/net/worker.h"
#include "common/obs/metrics.h"
#include "origin-shield/origin/live_cmaf_output.h"

namespace cdn::origin {

namespace {

std::atomic<size_t> g_parked{0};

obs::Gauge& held_gauge() {
  static obs::Gauge& g =
      obs::metrics().gauge("cdn_live_held_requests",
                           "LL-HLS requests held for a part (blocking reloads, preload hints)");
  return g;
}

}  // namespace

void PartWaiters::count(Outcome o) {
  static const char* kNames[] = {"ready", "ended", "timeout", "gone"};
  obs::metrics()
      .counter("cdn_live_held_requests_total", "Held LL-HLS requests by how they ended",
               {{"result", kNames[int(o)]}})
      .inc();
}

// Shared between the registry (any thread: it only reads `ready` and `worker` under the
// registry's lock) and the parking loop (timer and completion). `fired` makes completion
// happen once whichever of wake, timeout and client-gone comes first.
struct PartWaiters::Waiter {
  net::Worker* worker = nullptr;
  Ready ready;
  Done done;
  net::UvHandle<uv_timer_t> timer;  // touched on the worker's thread only
  std::atomic<bool> fired{false};
  bool counted = true;

  // On the worker's thread.
  void finish(Outcome o) {
    if (fired.exchange(true)) return;
    g_parked.fetch_sub(1);
    held_gauge().add(-1);
    if (counted) count(o);
    uv_timer_stop(timer.get());
    // The timer's own reference; the caller holds another, so this cannot be the last one.
    if (auto* ref = static_cast<std::shared_ptr<Waiter>*>(timer->data)) {
      timer->data = nullptr;
      delete ref;
    }
    timer.close();
    Done d = std::move(done);
    if (d) d(o);
  }
};

size_t PartWaiters::parked() {
  return g_parked.load();
}

PartWaiters::~PartWaiters() {
  // Renditions outlive the workers' loops (they are retired, not destroyed, while serving runs),
  // so nothing is parked here by now; a leftover waiter just stays unanswered with its loop.
  std::lock_guard lk(mu_);
  waiting_.clear();
}

bool PartWaiters::park(net::Worker* worker, int64_t timeout_ms, Ready ready, Done done,
                       std::function<void()>* cancel,
                       const std::function<std::shared_ptr<const CmafSnapshot>()>& current,
                       bool counted) {
  if (g_parked.fetch_add(1) >= kMaxParked) {
    g_parked.fetch_sub(1);
    return false;
  }
  held_gauge().add(1);
  auto w = std::make_shared<Waiter>();
  w->worker = worker;
  w->counted = counted;
  w->ready = std::move(ready);
  w->done = std::move(done);
  uv_timer_init(worker->loop(), w->timer.get());
  w->timer.mark_initialized();
  // The timer's data is a strong reference handed over to the timer, dropped when it fires or
  // when finish() closes it (the close callback frees only the handle, so drop it there too).
  w->timer->data = new std::shared_ptr<Waiter>(w);
  uv_timer_start(
      w->timer.get(),
      [](uv_timer_t* t) {
        auto* ref = static_cast<std::shared_ptr<Waiter>*>(t->data);
        t->data = nullptr;
        std::shared_ptr<Waiter> keep = std::move(*ref);
        delete ref;
        keep->finish(Outcome::kTimeout);
      },
      uint64_t(std::max<int64_t>(1, timeout_ms)), 0);
  std::weak_ptr<Waiter> weak = w;
  *cancel = [weak] {
    if (auto s = weak.lock()) s->finish(Outcome::kGone);
  };
  {
    std::lock_guard lk(mu_);
    std::erase_if(waiting_, [](const std::shared_ptr<Waiter>& o) { return o->fired.load(); });
    waiting_.push_back(w);
  }
  auto now = current();
  if (!now) {
    w->finish(Outcome::kEnded);
  } else if (now->ended || w->ready(*now)) {
    w->finish(now->ended ? Outcome::kEnded : Outcome::kReady);
  }
  return true;
}

void PartWaiters::wake(const CmafSnapshot& snap, bool ended) {
  std::vector<std::shared_ptr<Waiter>> due;
  {
    std::lock_guard lk(mu_);
    auto keep = waiting_.begin();
    for (auto& w : waiting_) {
      if (w->fired.load()) continue;  // timed out or gone: drop it from the list
      if (ended || w->ready(snap)) {
        due.push_back(std::move(w));
      } else {
        *keep++ = std::move(w);
      }
    }
    waiting_.erase(keep, waiting_.end());
  }
  for (auto& w : due) {
    net::Worker* worker = w->worker;
    worker->post([w = std::move(w), ended]() mutable {
      w->finish(ended ? Outcome::kEnded : Outcome::kReady);
      w.reset();
    });
  }
}

}  // namespace cdn::origin
