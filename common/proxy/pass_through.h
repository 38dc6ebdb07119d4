#pragma once
// A request the cache does not answer (methods other than GET and HEAD, RFC 9111 §2): passed to
// the upstream once, the response relayed as it arrives and never stored. Its head goes upstream
// as soon as it is in and its body follows as it arrives (a Content-Length body as it is, a
// chunked one re-chunked), with flow control: the client is not read while the upstream socket
// holds more than a small window, so a fast uploader into a slow origin costs a bounded amount.
// limits.max_body_bytes bounds the whole body (413; the upstream request is cut, so the origin
// never takes a truncated body for a complete one). A request that is not idempotent, or whose
// body was streamed, is never sent twice (RFC 9110 §9.2.2). A non-error response to an unsafe
// method invalidates what is stored for its target and for a same-host Location /
// Content-Location (RFC 9111 §4.4).
#include <functional>
#include <memory>
#include <string>

#include "common/http/exchange.h"
#include "common/http/upstream_client.h"
#include "common/proxy/forward_request.h"
#include "common/proxy/phases.h"
#include "common/proxy/upstream_set.h"

namespace cdn::proxy {

struct PassContext {
  UpstreamSet* upstreams = nullptr;
  Phases* phases = nullptr;
  const ForwardPolicy* forward = nullptr;
  std::string via_name;
  bool strip_surrogate_keys = true;  // ProxyOptions::strip_surrogate_keys
  uint64_t max_body_bytes = 1 << 20;
  // Drops what the caches hold for this host and target (path and query).
  std::function<void(std::string_view host, std::string_view path, std::string_view query)>
      invalidate;
};

class PassThrough : public http::UpstreamCallbacks,
                    public std::enable_shared_from_this<PassThrough> {
 public:
  PassThrough(const PassContext* ctx, std::shared_ptr<http::Exchange> ex,
              std::shared_ptr<RequestContext> rc)
      : ctx_(ctx), ex_(std::move(ex)), rc_(std::move(rc)) {}
  void start();

 private:
  // How the request's body is framed upstream.
  enum class Framing { None, Length, Chunked };
  // False when the request already ended (no upstream, or it failed at once).
  bool send_upstream();
  void read_body();
  void on_body(const char* data, size_t len);
  void on_body_end(bool ok);
  void refuse_body();
  std::string request_head() const;
  http::UpstreamPool& pool();
  void fail(int status, const char* reason);
  void count_error(const char* reason);
  void invalidate_targets(const http::Headers& response);
  void on_upstream_head(int status, http::Headers&& headers) override;
  void on_upstream_interim(int status, http::Headers&& headers) override;
  void on_upstream_body(const Bytes& chunk) override;
  void on_upstream_writable() override;
  void on_upstream_end(bool complete, http::UpstreamError err) override;
  void count(const std::string& status);
  void release();

  const PassContext* ctx_;
  std::shared_ptr<http::Exchange> ex_;
  std::shared_ptr<RequestContext> rc_;
  Framing framing_ = Framing::None;
  uint64_t declared_length_ = 0;
  uint64_t body_seen_ = 0;
  bool body_over_ = false;       // no more body goes upstream (all sent, refused, or request over)
  bool reading_paused_ = false;  // the client's body is not read until the upstream drains
  bool upstream_done_ = false;
  size_t server_ = 0;
  uint64_t token_ = 0;
  bool paused_ = false;
  bool head_seen_ = false;
  std::shared_ptr<PassThrough> self_;  // alive while the upstream request runs
};

}  // namespace cdn::proxy
