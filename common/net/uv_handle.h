#pragma once
// RAII for libuv handles. A handle's memory must outlive uv_close(), so the wrapper heap-allocates
// it and frees it from the close callback; owners never see a dangling handle.
#include <uv.h>

#include <utility>

namespace cdn::net {

template <typename T>
class UvHandle {
 public:
  // The handle is allocated on first use: an owner that may never need it (a per-request timer)
  // costs no allocation.
  UvHandle() = default;
  ~UvHandle() { close(); }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  T* get() const {
    if (!h_) h_ = new T{};
    return h_;
  }
  T* operator->() const { return get(); }
  uv_handle_t* handle() const { return reinterpret_cast<uv_handle_t*>(get()); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(get()); }
  // Call after a successful uv_*_init so close() knows libuv owns it.
  void mark_initialized() { initialized_ = true; }
  bool initialized() const { return initialized_; }

  void close() {
    if (!h_) return;
    if (initialized_) {
      h_->data = nullptr;  // callbacks after close (write ECANCELED) must not reach the owner
      if (!uv_is_closing(handle()))
        uv_close(handle(), [](uv_handle_t* h) { delete reinterpret_cast<T*>(h); });
    } else {
      delete h_;
    }
    h_ = nullptr;
    initialized_ = false;
  }

 private:
  mutable T* h_ = nullptr;
  bool initialized_ = false;
};

}  // namespace cdn::net
