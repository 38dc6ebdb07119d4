#include "common/proxy/pass_through.h"

#include "common/http/request_target.h"
#include "common/obs/metrics.h"
#include "common/proxy/method_rules.h"
#include "common/proxy/response_headers.h"
#include "common/proxy/service_metrics.h"
#include "common/util/strings.h"

namespace cdn::proxy {

namespace {
// Unsent request-body bytes on the upstream socket above which the client is not read; reading
// goes on once they fall to UpstreamPool::body_low_water.
constexpr size_t kBodyHighWater = 256 * 1024;
}  // namespace

void PassThrough::start() {
  self_ = shared_from_this();
  const auto& req = ex_->request();
  if (const std::string* cl = req.headers.get("content-length")) {
    declared_length_ = uint64_t(std::max<int64_t>(parse_int(*cl).value_or(0), 0));
    framing_ = Framing::Length;
  } else if (req.has_body) {
    framing_ = Framing::Chunked;  // the length is not known before the end
  }
  if (framing_ == Framing::Length && declared_length_ > ctx_->max_body_bytes) {
    // Known too large before a byte goes upstream.
    count_error("body-too-large");
    fail(413, "body-too-large");
    return;
  }
  if (send_upstream() && req.has_body) read_body();
}

void PassThrough::read_body() {
  std::weak_ptr<PassThrough> weak = weak_from_this();
  // Bytes that came while a phase was suspended are replayed from here.
  ex_->set_body_handler(
      [weak](const char* d, size_t n) {
        if (auto s = weak.lock()) s->on_body(d, n);
      },
      [weak](bool ok) {
        if (auto s = weak.lock()) s->on_body_end(ok);
      });
}

http::UpstreamPool& PassThrough::pool() {
  return ctx_->upstreams->pool(*ex_->worker(), server_);
}

void PassThrough::on_body(const char* data, size_t len) {
  if (body_over_ || len == 0) return;
  body_seen_ += len;
  if (body_seen_ > ctx_->max_body_bytes) {
    refuse_body();
    return;
  }
  std::string_view bytes(data, len);
  Bytes piece;
  if (framing_ == Framing::Chunked) {
    char size[24];
    int n = snprintf(size, sizeof size, "%zx\r\n", len);
    std::string framed;
    framed.reserve(size_t(n) + len + 2);
    framed.append(size, size_t(n)).append(bytes).append("\r\n");
    piece = make_bytes(framed);
  } else {
    piece = make_bytes(bytes);
  }
  if (!pool().write_body(token_, piece)) {
    body_over_ = true;  // the upstream request is over (answered early, or failed)
    return;
  }
  if (!reading_paused_ && pool().unsent_bytes(token_) > kBodyHighWater) {
    reading_paused_ = true;
    ex_->pause_request_body();
  }
}

void PassThrough::on_upstream_writable() {
  if (!reading_paused_ || body_over_) return;
  reading_paused_ = false;
  ex_->resume_request_body();
}

void PassThrough::on_body_end(bool ok) {
  if (body_over_) return;
  body_over_ = true;
  if (!ok) {
    // The client left mid-body: cut the upstream request so no truncated body looks complete.
    count_error("client-aborted");
    pool().cancel(token_);
    upstream_done_ = true;
    release();
    return;
  }
  if (framing_ == Framing::Chunked)
    pool().write_body(token_, make_bytes(std::string_view("0\r\n\r\n")));
  pool().end_body(token_);
}

void PassThrough::refuse_body() {
  body_over_ = true;
  count_error("body-too-large");
  if (!upstream_done_) {
    pool().cancel(token_);  // the origin sees a cut connection, never a complete shorter body
    upstream_done_ = true;
  }
  if (ex_->started()) ex_->end_stream(false);
  fail(413, "body-too-large");
}

std::string PassThrough::request_head() const {
  const auto& req = ex_->request();
  http::Headers fields = forwarded_fields(req, *ctx_->forward, false);
  fields.remove("transfer-encoding");
  ctx_->phases->strip_consumed_fields(req, fields);
  add_forwarding_fields(req, ex_->client_ip(), ex_->tls(), ctx_->via_name, *ctx_->forward, fields);
  std::string h = req.method + " " +
                  (rc_->upstream_query.empty() ? req.path : req.path + "?" + rc_->upstream_query) +
                  " HTTP/1.1\r\nHost: " + std::string(req.headers.get_or("host", req.host)) +
                  "\r\n";
  for (const auto& f : fields) h += f.name + ": " + f.value + "\r\n";
  if (framing_ == Framing::Length)
    h += "Content-Length: " + std::to_string(req.has_body ? declared_length_ : 0) + "\r\n";
  if (framing_ == Framing::Chunked) h += "Transfer-Encoding: chunked\r\n";
  h += "\r\n";
  return h;
}

bool PassThrough::send_upstream() {
  if (!ex_->alive() || ex_->started()) {
    release();
    return false;
  }
  std::vector<size_t> order;
  const auto& req = ex_->request();
  ctx_->upstreams->order(req.path, order);
  if (order.empty()) {
    fail(502, "upstream-unavailable");
    return false;
  }
  // Sent once, to one server: retrying an unsafe request elsewhere could apply it twice.
  server_ = order.front();
  std::weak_ptr<PassThrough> weak = weak_from_this();
  ex_->on_proceed([weak] {
    auto s = weak.lock();
    if (s && s->paused_) {
      s->paused_ = false;
      s->pool().resume(s->token_);
    }
  });
  ex_->on_abort([weak] {
    if (auto s = weak.lock()) {
      if (!s->upstream_done_) s->count_error("client-aborted");
      s->body_over_ = true;
      s->pool().cancel(s->token_);
      s->upstream_done_ = true;
      s->release();
    }
  });
  if (req.has_body) {
    token_ = pool().send_streaming(request_head(), this);
  } else {
    token_ = pool().send(request_head(), false, this, is_idempotent_method(req.method));
  }
  return !upstream_done_;
}

void PassThrough::count_error(const char* reason) {
  obs::metrics()
      .counter("cdn_pass_errors_total", "Requests passed through uncached that failed, by reason",
               with_service({{"reason", reason}}, ex_->log.service_label))
      .inc();
}

void PassThrough::count(const std::string& status) {
  obs::metrics()
      .counter("cdn_upstream_requests_total",
               "Requests sent upstream, by server and status or error",
               with_service({{"upstream", ctx_->upstreams->name(server_)}, {"status", status}},
                            ex_->log.service_label))
      .inc();
}

void PassThrough::fail(int status, const char* reason) {
  if (ex_->alive() && !ex_->started()) {
    http::Headers h;
    ctx_->phases->run_response_filter(*ex_, *rc_, h, false);
    ex_->respond_error(status, reason, std::move(h));
  }
  release();
}

void PassThrough::invalidate_targets(const http::Headers& response) {
  const auto& req = ex_->request();
  ctx_->invalidate(req.host, req.path, rc_->upstream_query);
  // RFC 9111 §4.4: Location and Content-Location too, when they name the same host.
  for (const char* name : {"location", "content-location"}) {
    const std::string* v = response.get(name);
    if (!v) continue;
    std::string_view ref = *v;
    for (std::string_view scheme : {"http://", "https://"}) {
      if (!starts_with(ref, scheme)) continue;
      ref.remove_prefix(scheme.size());
      size_t slash = ref.find('/');
      std::string_view host = ref.substr(0, std::min(slash, ref.find(':')));
      if (!iequals(host, req.host))
        ref = {};
      else
        ref = slash == std::string_view::npos ? std::string_view("/") : ref.substr(slash);
    }
    if (ref.empty() || ref[0] != '/')
      continue;  // another host, or a relative reference we do not resolve
    auto target = http::normalize_target(ref, http::EscapedSlashes::Keep);
    if (target.ok()) ctx_->invalidate(req.host, target.path, target.query);
  }
}

void PassThrough::on_upstream_head(int status, http::Headers&& headers) {
  count(std::to_string(status));
  ctx_->upstreams->report(server_, status < 500);
  head_seen_ = true;
  http::strip_hop_by_hop(headers);
  if (!is_safe_method(ex_->request().method) && status >= 200 && status < 400)
    invalidate_targets(headers);
  int64_t content_length = -1;
  if (auto* cl = headers.get("content-length")) content_length = parse_int(*cl).value_or(-1);
  int64_t age = headers.get("age") ? parse_int(*headers.get("age")).value_or(0) : 0;
  http::Headers h = client_headers(headers, age, "MISS", ctx_->via_name, ctx_->strip_surrogate_keys);
  ctx_->phases->run_response_filter(*ex_, *rc_, h, false);
  ex_->log.cache = "MISS";
  ex_->log.upstream = ctx_->upstreams->name(server_);
  ex_->start(status, std::move(h), content_length);
}

void PassThrough::on_upstream_interim(int status, http::Headers&& headers) {
  http::strip_hop_by_hop(headers);
  ex_->send_interim(status, headers);  // RFC 9110 §15.2
}

void PassThrough::on_upstream_body(const Bytes& chunk) {
  if (!ex_->alive()) return;
  ex_->write(chunk);
  if (!ex_->can_write() && !paused_) {
    paused_ = true;
    ctx_->upstreams->pool(*ex_->worker(), server_).pause(token_);
  }
}

void PassThrough::on_upstream_end(bool complete, http::UpstreamError err) {
  upstream_done_ = true;
  body_over_ = true;
  if (!head_seen_) {
    count(http::to_string(err));
    ctx_->upstreams->report(server_, false);
    // IdleTimeout before a head: a streamed body made no progress on the socket for idle_ms.
    bool timeout = err == http::UpstreamError::FirstByteTimeout ||
                   err == http::UpstreamError::ConnectTimeout ||
                   err == http::UpstreamError::IdleTimeout;
    // Cut after the request went out: it may have been applied, and it is not sent again.
    bool cut = err == http::UpstreamError::Reset || err == http::UpstreamError::BadResponse;
    const char* reason = timeout ? "upstream-timeout"
                         : cut   ? "upstream-reset"
                                 : "upstream-unavailable";
    count_error(reason);
    fail(timeout ? 504 : 502, reason);
    return;
  }
  ex_->end_stream(complete);
  release();
}

void PassThrough::release() {
  // Later, on the loop: this may run inside the upstream's own callback.
  if (self_) ex_->worker()->post([s = std::move(self_)]() {});
}

}  // namespace cdn::proxy
