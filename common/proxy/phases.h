#pragma once
// The points where a tier program plugs its own behaviour into the one proxy core.
//
// Per-request state: the core asks the tier's Phases for a context when a request arrives
// (make_context), keeps it for the request's whole life (through a suspended request filter and
// every response the request gets) and hands that same object to every phase. A tier declares its
// own context type by deriving from RequestContext and its phases from PhasesFor<ThatType>, whose
// phases receive the context as that type. Nothing is looked up per request and nothing is kept
// on the exchange, so another protocol (HTTP/2 streams, LL-HLS blocking requests) drives the same
// phases without the tier programs changing.
#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include "common/http/exchange.h"

namespace cdn::proxy {

// One request's state as the phases see it. Tiers derive their own.
class RequestContext {
 public:
  virtual ~RequestContext() = default;
  // Set by the core before the request filter: the query the cache key and the upstream request
  // see (Phases::upstream_query, e.g. without the viewer token), computed once per request.
  std::string upstream_query;
};

// What the core calls; template-free, so the core knows no tier's types. Tiers implement it
// through PhasesFor below.
class Phases {
 public:
  virtual ~Phases() = default;
  enum class Filter {
    Continue,   // go on with the cache lookup now
    Handled,    // the phase answered the request (refusal, local endpoint)
    Suspended,  // the phase will call resume() later on this loop thread, or answer itself
  };
  enum class Body {
    AsIs,       // the body goes out as stored
    Transform,  // the body is handed to transform_body() whole first (playlists)
  };

  // A new request's context; the core owns it until the request's last response is over.
  virtual std::shared_ptr<RequestContext> make_context() = 0;
  // The query string that the cache key and the upstream request see (e.g. without the viewer
  // token). Also asked without a request context (a purge names a URL, not a request).
  virtual std::string upstream_query(const http::Request& req) { return req.query; }
  // The client's fields on their way upstream (hop-by-hop ones already gone): the tier removes
  // what it consumed itself, as upstream_query() does for the query (the edge: its token).
  virtual void strip_consumed_fields(const http::Request& req, http::Headers& fields) {
    (void)req;
    (void)fields;
  }
  // The core's calls of the phases, once per decision, always with the context make_context()
  // made for this request.
  virtual Filter run_request_filter(const std::shared_ptr<http::Exchange>& ex, RequestContext& ctx,
                                    std::function<void()> resume) = 0;
  virtual Body run_response_filter(const http::Exchange& ex, RequestContext& ctx, http::Headers& h,
                                   bool body_transformable) = 0;
  virtual std::string run_transform_body(const http::Exchange& ex, RequestContext& ctx,
                                         std::string body) = 0;
};

// A tier's phases over its own context type. Each phase has a default that changes nothing.
template <class Context>
class PhasesFor : public Phases {
  static_assert(std::is_base_of_v<RequestContext, Context>,
                "a phase context derives from RequestContext");

 public:
  // First phase, once per request. May be asynchronous (e.g. a Redis round trip for stream
  // sessions): Suspended, then resume() on this loop thread.
  virtual Filter request_filter(const std::shared_ptr<http::Exchange>& ex, Context& ctx,
                                std::function<void()> resume) {
    (void)ex;
    (void)ctx;
    (void)resume;
    return Filter::Continue;
  }
  // Once per response, errors included, before its head is sent: adjusts the client's headers
  // (CORS, renewed token cookies, ...) and, when `body_transformable` (a 200 whose whole body
  // the core can hand over), decides whether the body goes through transform_body().
  virtual Body response_filter(const http::Exchange& ex, Context& ctx, http::Headers& h,
                               bool body_transformable) {
    (void)ex;
    (void)ctx;
    (void)h;
    (void)body_transformable;
    return Body::AsIs;
  }
  // Once per body that response_filter() asked to transform.
  virtual std::string transform_body(const http::Exchange& ex, Context& ctx, std::string body) {
    (void)ex;
    (void)ctx;
    return body;
  }

  std::shared_ptr<RequestContext> make_context() final { return std::make_shared<Context>(); }
  // The context the core passes is the one make_context() made (final above), so it is a Context.
  Filter run_request_filter(const std::shared_ptr<http::Exchange>& ex, RequestContext& ctx,
                            std::function<void()> resume) final {
    return request_filter(ex, static_cast<Context&>(ctx), std::move(resume));
  }
  Body run_response_filter(const http::Exchange& ex, RequestContext& ctx, http::Headers& h,
                           bool body_transformable) final {
    Body b = response_filter(ex, static_cast<Context&>(ctx), h, body_transformable);
    return body_transformable ? b : Body::AsIs;
  }
  std::string run_transform_body(const http::Exchange& ex, RequestContext& ctx,
                                 std::string body) final {
    return transform_body(ex, static_cast<Context&>(ctx), std::move(body));
  }
};

// A tier without phases of its own (the shield).
using DefaultPhases = PhasesFor<RequestContext>;

}  // namespace cdn::proxy
