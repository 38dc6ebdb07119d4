#pragma once
// The latest published immutable value, for many readers and one writer at a time: readers take
// a reference (shared_ptr) and keep it as long as they need; publishing never waits for them.
//
// This is what std::atomic<std::shared_ptr<const T>> is for, but libstdc++ 12's load() releases
// its internal lock bit with a relaxed store, so its read of the pointer is not ordered before the
// next store's write: a data race by the memory model that TSan reports
// (google/sanitizers#1558). Here a mutex of this slot alone is held for the pointer copy or swap
// (one refcount increment); the value a store replaces is released outside it.
#include <memory>
#include <mutex>

namespace cdn::origin {

template <typename T>
class SnapshotSlot {
 public:
  std::shared_ptr<const T> load() const {
    std::lock_guard lk(mu_);
    return value_;
  }
  void store(std::shared_ptr<const T> v) {
    {
      std::lock_guard lk(mu_);
      value_.swap(v);
    }
    // `v` (the replaced value) is released here, outside the lock.
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const T> value_;
};

}  // namespace cdn::origin
