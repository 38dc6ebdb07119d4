#include "common/http/request_parser.h"

#include "common/http/host.h"
#include "common/util/strings.h"

namespace cdn::http {

static RequestParser* self_of(llhttp_t* p) { return static_cast<RequestParser*>(p->data); }

RequestParser::RequestParser(ParseLimits limits)
    : limits_(limits), scanner_({limits.max_url_bytes, limits.max_header_bytes, limits.max_field_bytes}) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = &RequestParser::on_message_begin;
  settings_.on_url = &RequestParser::on_url;
  settings_.on_header_field = &RequestParser::on_header_field;
  settings_.on_header_value = &RequestParser::on_header_value;
  settings_.on_headers_complete = &RequestParser::on_headers_complete;
  settings_.on_body = &RequestParser::on_body;
  settings_.on_message_complete = &RequestParser::on_message_complete;
  llhttp_init(&parser_, HTTP_REQUEST, &settings_);
  parser_.data = this;
}

int RequestParser::fail(int status, const char* reason) {
  error_status_ = status;
  error_reason_ = reason;
  return -1;
}

int RequestParser::count_head_bytes(size_t len) {
  callback_bytes_ += len;
  return callback_bytes_ > limits_.max_header_bytes ? fail(431, "header-too-large") : 0;
}

int RequestParser::on_message_begin(llhttp_t* p) {
  auto* self = self_of(p);
  self->req_.clear();
  self->state_ = State::Head;
  self->started_ = true;
  self->in_value_ = false;
  self->callback_bytes_ = 0;
  return 0;
}

int RequestParser::on_url(llhttp_t* p, const char* at, size_t len) {
  auto* self = self_of(p);
  if (self->req_.target.size() + len > self->limits_.max_url_bytes) return self->fail(414, "url-too-long");
  self->req_.target.append(at, len);
  return self->count_head_bytes(len);
}

int RequestParser::on_header_field(llhttp_t* p, const char* at, size_t len) {
  auto* self = self_of(p);
  auto& hs = self->req_.headers.raw();
  if (self->in_value_ || hs.empty()) {
    if (hs.size() >= self->limits_.max_headers) return self->fail(431, "too-many-headers");
    hs.push_back({});
    self->in_value_ = false;
  }
  if (hs.back().name.size() + len > self->limits_.max_field_bytes) return self->fail(431, "field-too-large");
  hs.back().name.append(at, len);
  return self->count_head_bytes(len);
}

int RequestParser::on_header_value(llhttp_t* p, const char* at, size_t len) {
  auto* self = self_of(p);
  self->in_value_ = true;
  auto& value = self->req_.headers.raw().back().value;
  if (value.size() + len > self->limits_.max_field_bytes) return self->fail(431, "field-too-large");
  value.append(at, len);
  return self->count_head_bytes(len);
}

// RFC 9112 §3.2.2: absolute-form must be accepted; its authority replaces the Host header.
int RequestParser::take_absolute_form(std::string& authority) {
  auto& target = req_.target;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() <= scheme.size() || !iequals(std::string_view(target).substr(0, scheme.size()), scheme))
      continue;
    std::string_view rest = std::string_view(target).substr(scheme.size());
    size_t end = rest.find_first_of("/?#");
    authority = std::string(rest.substr(0, end));
    if (authority.empty()) return fail(400, "bad-request-target");
    if (end != std::string_view::npos && rest[end] == '#') return fail(400, "bad-request-target");
    std::string origin_form = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
    if (origin_form[0] == '?') origin_form.insert(0, "/");
    target = std::move(origin_form);
    return 0;
  }
  return 0;
}

int RequestParser::check_host(const std::string& absolute_authority, size_t hosts) {
  auto& r = req_;
  if (hosts > 1) return fail(400, "duplicate-host");
  if (hosts == 0 && r.version_minor >= 1 && absolute_authority.empty()) return fail(400, "missing-host");
  // The Host header is checked even when absolute-form overrides it: a proxy behind us may not.
  if (const std::string* header = r.headers.get("host")) {
    auto host = host_of_authority(*header);
    if (!host) return fail(400, "bad-host");
    r.host = to_lower(*host);
  }
  if (absolute_authority.empty()) return 0;
  auto host = host_of_authority(absolute_authority);
  if (!host) return fail(400, "bad-host");
  r.host = to_lower(*host);
  r.headers.set("Host", absolute_authority);
  return 0;
}

int RequestParser::normalize() {
  auto& r = req_;
  if (r.method == "OPTIONS" && r.target == "*") {
    r.path = r.target;
    return 0;
  }
  NormalizedTarget t = normalize_target(r.target, limits_.escaped_slashes);
  if (!t.ok()) return fail(400, t.error);
  r.path = std::move(t.path);
  r.query = std::move(t.query);
  // Most targets are canonical already: keep the parsed string rather than build an equal one.
  std::string_view before(r.target);
  bool same = before.starts_with(r.path) &&
              (t.has_query ? before.size() == r.path.size() + 1 + r.query.size() && before[r.path.size()] == '?' &&
                                 before.substr(r.path.size() + 1) == r.query
                           : before.size() == r.path.size());
  if (!same) r.target = t.has_query ? r.path + '?' + r.query : r.path;
  return 0;
}

int RequestParser::finish_head() {
  auto& r = req_;
  r.method = llhttp_method_name(llhttp_method_t(parser_.method));
  r.version_minor = parser_.http_minor;
  if (parser_.http_major != 1) return fail(400, "bad-version");
  std::string absolute_authority;
  if (int rc = take_absolute_form(absolute_authority); rc != 0) return rc;
  if (int rc = normalize(); rc != 0) return rc;
  for (auto& h : r.headers.raw()) h.value = std::string(trim(h.value));

  // Request smuggling: a message whose length two parties could read differently is refused.
  size_t cl = r.headers.count("content-length"), te = r.headers.count("transfer-encoding");
  if (cl > 1) return fail(400, "duplicate-content-length");
  if (cl && te) return fail(400, "content-length-with-transfer-encoding");
  if (te) {
    if (te > 1 || !iequals(trim(*r.headers.get("transfer-encoding")), "chunked"))
      return fail(400, "unsupported-transfer-encoding");
  }
  if (int rc = check_host(absolute_authority, r.headers.count("host")); rc != 0) return rc;
  r.keep_alive = llhttp_should_keep_alive(&parser_);
  r.has_body = te || (cl && parser_.content_length > 0);
  return 0;
}

int RequestParser::on_headers_complete(llhttp_t* p) {
  auto* self = self_of(p);
  if (int rc = self->finish_head(); rc != 0) return rc;
  self->state_ = State::Body;
  self->head_ready_ = true;
  return 0;
}

int RequestParser::on_body(llhttp_t* p, const char* at, size_t len) {
  auto* self = self_of(p);
  if (self->body_sink_) {
    self->body_sink_(at, len);
  } else {
    self->held_body_.append(at, len);
  }
  return 0;
}

int RequestParser::on_message_complete(llhttp_t* p) {
  self_of(p)->state_ = State::Done;
  return HPE_PAUSED;
}

void RequestParser::set_body_sink(BodySink sink) {
  body_sink_ = std::move(sink);
  if (body_sink_ && !held_body_.empty()) {
    std::string held;
    held.swap(held_body_);
    body_sink_(held.data(), held.size());
  }
}

void RequestParser::fail_from_llhttp(llhttp_errno_t err) {
  error_status_ = 400;
  error_reason_ = "malformed-request";
  if (err == HPE_UNEXPECTED_CONTENT_LENGTH) {
    // llhttp uses one code for both shapes; its message tells them apart.
    std::string_view why = llhttp_get_error_reason(&parser_) ? llhttp_get_error_reason(&parser_) : "";
    error_reason_ = why.find("Duplicate") != std::string_view::npos ? "duplicate-content-length"
                                                                     : "content-length-with-transfer-encoding";
  }
  if (err == HPE_INVALID_CONTENT_LENGTH) error_reason_ = "bad-content-length";
  if (err == HPE_INVALID_METHOD) error_reason_ = "bad-method";
  if (err == HPE_INVALID_VERSION) error_reason_ = "bad-version";
  if (err == HPE_INVALID_TRANSFER_ENCODING) error_reason_ = "unsupported-transfer-encoding";
  if (err == HPE_INVALID_URL) error_reason_ = "bad-request-target";
}

RequestParser::Step RequestParser::feed(const char* data, size_t len) {
  Step st;
  if (error_status_) {
    st.error = true;
    return st;
  }
  if (!scanner_.complete()) {
    HeadScanner::Result scan = scanner_.scan(data, len);
    if (scan.status) {
      // llhttp reads the bytes before the refused one first, so that an earlier error it finds
      // keeps its own reason, as it would have had the bytes arrived one at a time.
      llhttp_errno_t err = llhttp_execute(&parser_, data, scan.used);
      if (!error_status_ && err != HPE_OK) fail_from_llhttp(err);
      if (!error_status_) fail(scan.status, scan.reason);
      st.error = true;
      return st;
    }
  }
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  st.consumed = len;
  if (err == HPE_PAUSED) st.consumed = size_t(llhttp_get_error_pos(&parser_) - data);
  st.head_complete = head_ready_;
  head_ready_ = false;
  if (error_status_) {
    st.error = true;
    return st;
  }
  if (err == HPE_PAUSED) {
    st.message_complete = true;
    return st;
  }
  if (err != HPE_OK) {
    st.error = true;
    fail_from_llhttp(err);
  }
  return st;
}

void RequestParser::next() {
  llhttp_resume(&parser_);
  state_ = State::Head;
  started_ = false;
  scanner_.reset();
  body_sink_ = nullptr;
  held_body_.clear();
}

}  // namespace cdn::http
