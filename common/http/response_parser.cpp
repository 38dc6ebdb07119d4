#include "common/http/response_parser.h"

namespace cdn::http {

static ResponseParser* self_of(llhttp_t* p) { return static_cast<ResponseParser*>(p->data); }

ResponseParser::ResponseParser(Callbacks cb, size_t max_headers, size_t max_header_bytes)
    : cb_(std::move(cb)), max_headers_(max_headers), max_header_bytes_(max_header_bytes) {
  llhttp_settings_init(&settings_);
  settings_.on_header_field = &ResponseParser::on_field;
  settings_.on_header_value = &ResponseParser::on_value;
  settings_.on_headers_complete = &ResponseParser::on_headers_complete;
  settings_.on_body = &ResponseParser::on_body;
  settings_.on_message_complete = &ResponseParser::on_message_complete;
  reset(false);
}

void ResponseParser::reset(bool head_request) {
  llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
  parser_.data = this;
  headers_.clear();
  header_bytes_ = 0;
  in_value_ = false;
  head_request_ = head_request;
  keep_alive_ = false;
  state_ = State::Head;
  error_.clear();
}

int ResponseParser::on_field(llhttp_t* p, const char* at, size_t n) {
  auto* s = self_of(p);
  s->header_bytes_ += n;
  if (s->in_value_ || s->headers_.empty()) {
    if (s->headers_.size() >= s->max_headers_) {
      s->error_ = "too-many-headers";
      return -1;
    }
    s->headers_.add({}, {});
    s->in_value_ = false;
  }
  s->headers_.raw().back().name.append(at, n);
  if (s->header_bytes_ > s->max_header_bytes_) {
    s->error_ = "header-too-large";
    return -1;
  }
  return 0;
}

int ResponseParser::on_value(llhttp_t* p, const char* at, size_t n) {
  auto* s = self_of(p);
  s->header_bytes_ += n;
  if (s->header_bytes_ > s->max_header_bytes_) {
    s->error_ = "header-too-large";
    return -1;
  }
  s->in_value_ = true;
  s->headers_.raw().back().value.append(at, n);
  return 0;
}

int ResponseParser::on_headers_complete(llhttp_t* p) {
  auto* s = self_of(p);
  int status = p->status_code;
  if (status >= 100 && status < 200) {  // interim response: its headers are not the response's
    // 100 answers this hop's Expect and 101 its Upgrade: only the others may go further.
    if (s->cb_.on_interim && status != 100 && status != 101)
      s->cb_.on_interim(status, std::move(s->headers_));
    s->headers_.clear();
    s->header_bytes_ = 0;
    s->in_value_ = false;
    return 0;
  }
  s->state_ = State::Body;
  s->keep_alive_ = llhttp_should_keep_alive(p);
  for (auto& h : s->headers_.raw()) {
    while (!h.value.empty() && (h.value.back() == ' ' || h.value.back() == '\t')) h.value.pop_back();
  }
  if (s->cb_.on_head) s->cb_.on_head(status, std::move(s->headers_));
  s->headers_.clear();
  // A HEAD response, a 204 and a 304 have no body whatever their headers say (RFC 9110 §6.4.1):
  // a 304's Content-Length describes the stored representation, not bytes that follow.
  return s->head_request_ || status == 204 || status == 304 ? 1 : 0;
}

int ResponseParser::on_body(llhttp_t* p, const char* at, size_t n) {
  auto* s = self_of(p);
  if (s->cb_.on_body) s->cb_.on_body(at, n);
  return 0;
}

int ResponseParser::on_message_complete(llhttp_t* p) {
  auto* s = self_of(p);
  if (s->state_ != State::Body) return 0;  // the end of an interim response
  s->state_ = State::Done;
  return HPE_PAUSED;
}

ResponseParser::State ResponseParser::feed(const char* data, size_t len, size_t* consumed) {
  if (state_ == State::Done || state_ == State::Error) {
    if (consumed) *consumed = 0;
    return state_;
  }
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  size_t used = len;
  if (err == HPE_PAUSED) {
    used = size_t(llhttp_get_error_pos(&parser_) - data);
  } else if (err != HPE_OK) {
    state_ = State::Error;
    if (error_.empty()) error_ = llhttp_errno_name(err);
  }
  if (consumed) *consumed = used;
  return state_;
}

ResponseParser::State ResponseParser::finish() {
  if (state_ != State::Body) {
    if (state_ == State::Head) {
      state_ = State::Error;
      error_ = "closed-before-head";
    }
    return state_;
  }
  // llhttp ends a close-delimited body here; a body with a known length ends in error.
  llhttp_errno_t err = llhttp_finish(&parser_);
  if (err == HPE_PAUSED || (err == HPE_OK && state_ == State::Done)) {
    state_ = State::Done;
    keep_alive_ = false;
  } else {
    state_ = State::Error;
    error_ = "truncated";
  }
  return state_;
}

}  // namespace cdn::http
