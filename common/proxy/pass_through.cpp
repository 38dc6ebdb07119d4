#include "common/proxy/pass_through.h"

#include "common/http/request_target.h"
#include "common/obs/metrics.h"
#include "common/proxy/method_rules.h"
#include "common/proxy/response_headers.h"
#include "common/util/strings.h"

namespace cdn::proxy {

void PassThrough::start() {
  self_ = shared_from_this();
  if (!ex_->request().has_body) {
    send_upstream();
    return;
  }
  // The body is read whole first (bounded), so a retry-free single send carries it with a
  // Content-Length whatever framing the client used.
  std::weak_ptr<PassThrough> weak = weak_from_this();
  ex_->set_body_handler(
      [weak](const char* d, size_t n) {
        if (auto s = weak.lock()) s->on_body(d, n);
      },
      [weak](bool ok) {
        auto s = weak.lock();
        if (!s) return;
        if (ok && !s->too_large_) {
          s->send_upstream();
        } else {
          s->release();
        }
      });
}

void PassThrough::on_body(const char* data, size_t len) {
  if (too_large_) return;
  if (body_.size() + len > ctx_->max_body_bytes) {
    too_large_ = true;
    body_.clear();
    fail(413, "body-too-large");
    return;
  }
  body_.append(data, len);
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
  if (req.has_body || !body_.empty())
    h += "Content-Length: " + std::to_string(body_.size()) + "\r\n";
  h += "\r\n";
  return h;
}

void PassThrough::send_upstream() {
  if (sent_ || !ex_->alive() || ex_->started()) {
    release();
    return;
  }
  sent_ = true;
  std::vector<size_t> order;
  const auto& req = ex_->request();
  ctx_->upstreams->order(req.path, order);
  if (order.empty()) {
    fail(502, "upstream-unavailable");
    return;
  }
  // An unsafe request is sent once, to one server: retrying it elsewhere could apply it twice.
  server_ = order.front();
  std::string out = request_head() + body_;
  body_.clear();
  std::weak_ptr<PassThrough> weak = weak_from_this();
  ex_->on_proceed([weak] {
    auto s = weak.lock();
    if (s && s->paused_) {
      s->paused_ = false;
      s->ctx_->upstreams->pool(*s->ex_->worker(), s->server_).resume(s->token_);
    }
  });
  ex_->on_abort([weak] {
    if (auto s = weak.lock()) {
      s->ctx_->upstreams->pool(*s->ex_->worker(), s->server_).cancel(s->token_);
      s->release();
    }
  });
  token_ = ctx_->upstreams->pool(*ex_->worker(), server_).send(std::move(out), false, this);
}

void PassThrough::count(const std::string& status) {
  obs::metrics()
      .counter("cdn_upstream_requests_total",
               "Requests sent upstream, by server and status or error",
               {{"upstream", ctx_->upstreams->name(server_)}, {"status", status}})
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
  if (!head_seen_) {
    count(http::to_string(err));
    ctx_->upstreams->report(server_, false);
    bool timeout =
        err == http::UpstreamError::FirstByteTimeout || err == http::UpstreamError::ConnectTimeout;
    fail(timeout ? 504 : 502, timeout ? "upstream-timeout" : "upstream-unavailable");
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
