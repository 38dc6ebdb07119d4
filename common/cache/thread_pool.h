#pragma once
// A fixed set of worker threads for blocking disk I/O, so that it never runs on an event loop.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cdn::cache {

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads);
  // Runs every task already submitted, then joins: queued writes are not lost on shutdown.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Tasks must not throw (an escaping exception terminates, as on any std::thread).
  void submit(std::function<void()> task);
  // Blocks until the queue is empty and no task is running.
  void wait_idle();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable work_cv_, idle_cv_;
  std::deque<std::function<void()>> queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace cdn::cache
