#pragma once
// A listening socket per worker loop, all bound to the same address with SO_REUSEPORT, so the
// kernel spreads accepts over workers without a shared accept lock.
#include <uv.h>

#include <functional>
#include <memory>

#include "common/net/address.h"
#include "common/net/uv_handle.h"
#include "common/util/result.h"

namespace cdn::net {

class Listener {
 public:
  using OnAccept = std::function<void(uv_tcp_t* accepted)>;  // ownership of the handle passes
  static Result<std::unique_ptr<Listener>> open(uv_loop_t* loop, const SockAddr& addr, OnAccept cb,
                                                int backlog = 1024);
  ~Listener() = default;
  void close() { tcp_.close(); }
  uint16_t bound_port() const;

 private:
  Listener() = default;
  static void on_connection(uv_stream_t* server, int status);
  UvHandle<uv_tcp_t> tcp_;
  OnAccept on_accept_;
  uv_loop_t* loop_ = nullptr;
};

}  // namespace cdn::net
