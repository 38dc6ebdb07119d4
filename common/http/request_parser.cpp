#include "common/http/request_parser.h"

#include "common/util/strings.h"

namespace cdn::http {

static RequestParser* self_of(llhttp_t* p) { return static_cast<RequestParser*>(p->data); }

RequestParser::RequestParser(ParseLimits limits) : limits_(limits) {
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

int RequestParser::on_message_begin(llhttp_t* p) {
  auto* self = self_of(p);
  self->req_.clear();
  self->state_ = State::Head;
  self->started_ = true;
  self->in_value_ = false;
  return 0;
}

int RequestParser::on_url(llhttp_t* p, const char* at, size_t len) {
  auto* self = self_of(p);
  if (self->req_.target.size() + len > self->limits_.max_url_bytes) return self->fail(414, "url-too-long");
  self->req_.target.append(at, len);
  return 0;
}

int RequestParser::on_header_field(llhttp_t* p, const char* at, size_t len) {
  auto* self = self_of(p);
  auto& hs = self->req_.headers.raw();
  if (self->in_value_ || hs.empty()) {
    if (hs.size() >= self->limits_.max_headers) return self->fail(431, "too-many-headers");
    hs.push_back({});
    self->in_value_ = false;
  }
  hs.back().name.append(at, len);
  return 0;
}

int RequestParser::on_header_value(llhttp_t* p, const char* at, size_t len) {
  auto* self = self_of(p);
  self->in_value_ = true;
  self->req_.headers.raw().back().value.append(at, len);
  return 0;
}

int RequestParser::finish_head() {
  auto& r = req_;
  const char* m = llhttp_method_name(llhttp_method_t(parser_.method));
  r.method = m;
  r.version_minor = parser_.http_minor;
  if (parser_.http_major != 1) return fail(400, "bad-version");
  // RFC 9112 §3.2.2: absolute-form must be accepted; its authority replaces the Host header.
  std::string absolute_host;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (r.target.size() > scheme.size() && iequals(std::string_view(r.target).substr(0, scheme.size()), scheme)) {
      std::string_view rest = std::string_view(r.target).substr(scheme.size());
      size_t slash = rest.find_first_of("/?");
      absolute_host = std::string(rest.substr(0, slash));
      if (absolute_host.empty()) return fail(400, "bad-request-target");
      r.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
      if (r.target[0] == '?') r.target.insert(0, "/");
      break;
    }
  }
  if (r.target.empty() || (r.target[0] != '/' && !(r.method == "OPTIONS" && r.target == "*")))
    return fail(400, "bad-request-target");
  auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  r.query = q == std::string::npos ? "" : r.target.substr(q + 1);
  for (auto& h : r.headers.raw()) h.value = std::string(trim(h.value));

  // Request smuggling: a message whose length two parties could read differently is refused.
  size_t cl = r.headers.count("content-length"), te = r.headers.count("transfer-encoding");
  if (cl > 1) return fail(400, "duplicate-content-length");
  if (cl && te) return fail(400, "content-length-with-transfer-encoding");
  if (te) {
    if (te > 1 || !iequals(trim(*r.headers.get("transfer-encoding")), "chunked"))
      return fail(400, "unsupported-transfer-encoding");
  }
  size_t hosts = r.headers.count("host");
  if (hosts > 1) return fail(400, "duplicate-host");
  if (hosts == 0 && r.version_minor >= 1 && absolute_host.empty()) return fail(400, "missing-host");
  if (!absolute_host.empty()) r.headers.set("Host", absolute_host);
  if (hosts || !absolute_host.empty()) {
    std::string_view h = *r.headers.get("host");
    if (!h.empty() && h.front() == '[') {
      auto close = h.find(']');
      h = close == std::string_view::npos ? h : h.substr(0, close + 1);
    } else if (auto colon = h.find(':'); colon != std::string_view::npos) {
      h = h.substr(0, colon);
    }
    r.host = to_lower(h);
  }
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

// llhttp tolerates a bare LF and obs-fold in places; a cache in front of other parsers must not
// (RFC 9112 §2.2, §5.2), and the head size limit must hold however the bytes are split.
bool RequestParser::scan_head(const char* data, size_t len) {
  for (size_t i = 0; i < len && !head_scanned_; ++i) {
    char c = data[i];
    char prev = char(last4_ & 0xff);
    if (c == '\n' && prev != '\r') {
      fail(400, "bare-lf");
      return false;
    }
    if ((c == ' ' || c == '\t') && prev == '\n' && head_bytes_ > 2) {
      fail(400, "obs-fold");
      return false;
    }
    last4_ = (last4_ << 8) | uint8_t(c);
    if (++head_bytes_ > limits_.max_header_bytes) {
      fail(431, "header-too-large");
      return false;
    }
    if (last4_ == 0x0d0a0d0a) head_scanned_ = true;
  }
  return true;
}

RequestParser::Step RequestParser::feed(const char* data, size_t len) {
  Step st;
  if (error_status_) {
    st.error = true;
    return st;
  }
  if (!head_scanned_ && !scan_head(data, len)) {
    st.error = true;
    return st;
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
  return st;
}

void RequestParser::next() {
  llhttp_resume(&parser_);
  state_ = State::Head;
  started_ = false;
  head_bytes_ = 0;
  head_scanned_ = false;
  last4_ = 0;
  body_sink_ = nullptr;
  held_body_.clear();
}

}  // namespace cdn::http
