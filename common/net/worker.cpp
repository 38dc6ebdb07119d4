#include "common/net/worker.h"

namespace cdn::net {

static thread_local Worker* t_current = nullptr;

Worker::Worker(int index) : index_(index) {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, async_.get(), [](uv_async_t* a) {
    if (a->data) static_cast<Worker*>(a->data)->drain_posted();
  });
  async_.mark_initialized();
  async_->data = this;
}

Worker::~Worker() {
  join();
  async_.close();
  // Let close callbacks of every remaining handle run so their memory is freed.
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

Worker* Worker::current() { return t_current; }

bool Worker::post(std::function<void()> fn) {
  {
    std::lock_guard lk(mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(fn));
  }
  uv_async_send(async_.get());
  return true;
}

bool Worker::after_posted(std::function<void()> fn) {
  if (!draining_) return false;
  after_posted_.push_back(std::move(fn));
  return true;
}

void Worker::drain_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lk(mu_);
    batch.swap(queue_);
  }
  draining_ = true;
  for (auto& fn : batch) fn();
  draining_ = false;
  auto after = std::move(after_posted_);
  after_posted_.clear();
  for (auto& fn : after) fn();
  if (stopping_) {
    {
      std::lock_guard lk(mu_);
      batch.swap(queue_);
    }
    for (auto& fn : batch) fn();
    uv_stop(&loop_);
  }
}

void Worker::run(std::function<void(Worker&)> init) {
  t_current = this;
  thread_id_ = std::this_thread::get_id();
  if (init) init(*this);
  uv_run(&loop_, UV_RUN_DEFAULT);
  t_current = nullptr;
}

void Worker::start(std::function<void(Worker&)> init) {
  thread_ = std::thread([this, init = std::move(init)]() mutable { run(std::move(init)); });
}

void Worker::run_here(std::function<void(Worker&)> init) { run(std::move(init)); }

void Worker::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  uv_async_send(async_.get());
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace cdn::net
