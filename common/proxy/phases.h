#pragma once
// The points where a tier program plugs its own behaviour into the one proxy core.
#include <functional>
#include <memory>
#include <string>

#include "common/http/exchange.h"
#include "common/util/bytes.h"

namespace cdn::proxy {

class Phases {
 public:
  virtual ~Phases() = default;
  enum class Filter {
    Continue,   // go on with the cache lookup now
    Handled,    // the phase answered the request (refusal, local endpoint)
    Suspended,  // the phase will call resume() later on this loop thread, or answer itself
  };
  // First phase. May be asynchronous (e.g. a Redis round trip for stream sessions).
  virtual Filter request_filter(const std::shared_ptr<http::Exchange>& ex, std::function<void()> resume) {
    (void)ex;
    (void)resume;
    return Filter::Continue;
  }
  // The query string that the cache key and the upstream request see (e.g. without the viewer
  // token).
  virtual std::string upstream_query(const http::Request& req) { return req.query; }
  // Adjusts client response headers (CORS, renewed token cookies, ...), errors included.
  virtual void response_filter(const http::Exchange& ex, http::Headers& h) {
    (void)ex;
    (void)h;
  }
  // When true for this response, the body is handed to transform_body() whole (playlists).
  virtual bool wants_body_transform(const http::Exchange& ex, const http::Headers& h) {
    (void)ex;
    (void)h;
    return false;
  }
  virtual std::string transform_body(const http::Exchange& ex, std::string body) {
    (void)ex;
    return body;
  }
};

}  // namespace cdn::proxy
