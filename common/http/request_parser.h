#pragma once
// Incremental HTTP/1.1 request parser on llhttp, with the limits and the request-smuggling
// rules a shared cache needs. It stops after the head and after each message so the connection
// can answer pipelined requests strictly in order.
#include <llhttp.h>

#include <cstddef>
#include <functional>
#include <string>

#include "common/http/head_scanner.h"
#include "common/http/message.h"
#include "common/http/request_target.h"

namespace cdn::http {

struct ParseLimits {
  size_t max_url_bytes = 8192;
  size_t max_header_bytes = 16384;
  size_t max_field_bytes = 8192;  // one field name or value; at most max_header_bytes
  size_t max_headers = 100;
  EscapedSlashes escaped_slashes = EscapedSlashes::Refuse;
};

class RequestParser {
 public:
  struct Step {
    bool head_complete = false;     // request() now holds a new head
    bool message_complete = false;  // parsing paused after this message; call next() to go on
    bool error = false;
    size_t consumed = 0;
  };
  // Body bytes go to this sink; bytes parsed before a sink is set are held and replayed to it.
  using BodySink = std::function<void(const char*, size_t)>;

  explicit RequestParser(ParseLimits limits);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  Step feed(const char* data, size_t len);
  Request& request() { return req_; }
  void set_body_sink(BodySink sink);
  // Body bytes parsed while no sink was set.
  size_t held_body_bytes() const { return held_body_.size(); }
  // After MessageComplete: prepare for the next pipelined request.
  void next();
  bool in_head() const { return state_ == State::Head; }
  bool started() const { return started_ || scanner_.bytes() > 0; }
  int error_status() const { return error_status_; }
  const std::string& error_reason() const { return error_reason_; }

 private:
  enum class State { Head, Body, Done };
  static int on_message_begin(llhttp_t*);
  static int on_url(llhttp_t*, const char*, size_t);
  static int on_header_field(llhttp_t*, const char*, size_t);
  static int on_header_value(llhttp_t*, const char*, size_t);
  static int on_headers_complete(llhttp_t*);
  static int on_body(llhttp_t*, const char*, size_t);
  static int on_message_complete(llhttp_t*);
  int fail(int status, const char* reason);
  int finish_head();
  int take_absolute_form(std::string& authority);
  int check_host(const std::string& absolute_authority, size_t hosts);
  int normalize();
  // Counts head bytes that llhttp hands to a callback: the head limit holds in the parser itself,
  // for trailers too, whatever the scanner let through.
  int count_head_bytes(size_t len);
  void fail_from_llhttp(llhttp_errno_t err);

  ParseLimits limits_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  Request req_;
  BodySink body_sink_;
  State state_ = State::Head;
  bool started_ = false;
  bool in_value_ = false;
  bool head_ready_ = false;
  HeadScanner scanner_;
  size_t callback_bytes_ = 0;
  std::string held_body_;
  int error_status_ = 0;
  std::string error_reason_;
};

}  // namespace cdn::http
