#pragma once
// The current version of an immutable object that a reload replaces (TLS contexts): readers on
// any thread take a reference and keep using what they took, so work in flight finishes under
// the version it started with.
#include <memory>
#include <mutex>

namespace cdn::net {

template <typename T>
class Swappable {
 public:
  void set(std::shared_ptr<T> v) {
    std::lock_guard lk(mu_);
    value_ = std::move(v);
  }
  std::shared_ptr<T> get() const {
    std::lock_guard lk(mu_);
    return value_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<T> value_;
};

}  // namespace cdn::net
