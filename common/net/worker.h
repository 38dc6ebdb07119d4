#pragma once
// One libuv loop per worker thread. Other threads hand work to a loop with post(); that is the
// only way state crosses threads besides the explicitly locked shared tables (cache, coalescing).
#include <uv.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/net/uv_handle.h"

namespace cdn::net {

class Worker {
 public:
  explicit Worker(int index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  int index() const { return index_; }
  uv_loop_t* loop() { return &loop_; }
  // Monotonic ms as of this loop iteration's wake-up (libuv refreshes it after every poll): the
  // time stamps of a request's life cost no clock read each, as nginx's cached time does not.
  // Same time base as mono_ms(), possibly up to one clock tick behind it.
  int64_t now_ms() const { return int64_t(uv_now(&loop_)); }
  // Thread-safe. Runs fn on this worker's loop thread. Returns false once the worker stopped.
  bool post(std::function<void()> fn);
  bool on_this_thread() const { return std::this_thread::get_id() == thread_id_; }
  // Loop thread only. While posted work runs, `fn` runs once that whole batch of it is done, so
  // output that many posted tasks produce for one connection (the waiters of one fill) can leave
  // in one write; false when no posted work is running (the caller goes on at once).
  bool after_posted(std::function<void()> fn);

  // Starts the thread; `init` runs first on the loop thread (create listeners there).
  void start(std::function<void(Worker&)> init);
  // Runs the loop on the calling thread (used by single-threaded tools and tests).
  void run_here(std::function<void(Worker&)> init);
  // Thread-safe. Work posted before stop() still runs, in order; then the loop returns at the end
  // of that iteration, after the close callbacks of handles that work closed. Handles still open
  // are closed by the destructor.
  void stop();
  void join();

  static Worker* current();  // the worker whose loop runs on this thread, or nullptr

 private:
  void drain_posted();
  void run(std::function<void(Worker&)> init);

  int index_;
  uv_loop_t loop_{};
  UvHandle<uv_async_t> async_;
  std::mutex mu_;
  std::vector<std::function<void()>> queue_;
  bool draining_ = false;                          // loop thread only
  std::vector<std::function<void()>> after_posted_;  // loop thread only
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::thread::id thread_id_;
};

}  // namespace cdn::net
