#pragma once
// Incremental HTTP/1.1 response parser on llhttp for the upstream client: interim (1xx)
// responses skipped, bounded header count and size, HEAD responses without a body, and bodies
// framed by Content-Length, chunked coding or the end of the connection.
#include <llhttp.h>

#include <functional>
#include <string>

#include "common/http/message.h"

namespace cdn::http {

class ResponseParser {
 public:
  struct Callbacks {
    std::function<void(int status, Headers&& headers)> on_head;
    std::function<void(const char* data, size_t len)> on_body;
    // Interim responses other than 100 and 101 (RFC 9110 §15.2: 103 Early Hints), before the head.
    std::function<void(int status, Headers&& headers)> on_interim = nullptr;
  };
  enum class State { Head, Body, Done, Error };

  explicit ResponseParser(Callbacks cb, size_t max_headers = 200, size_t max_header_bytes = 65536);
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Starts a new response; `head_request` = the request was HEAD (no body follows the head).
  void reset(bool head_request);
  // Returns the state after consuming what it could. Done: the message ended (bytes after it
  // are not consumed; `consumed` says how many were).
  State feed(const char* data, size_t len, size_t* consumed = nullptr);
  // The peer closed the connection: ends a close-delimited body, anything else is an error.
  State finish();
  State state() const { return state_; }
  bool keep_alive() const { return keep_alive_; }
  const std::string& error() const { return error_; }

 private:
  static int on_field(llhttp_t*, const char*, size_t);
  static int on_value(llhttp_t*, const char*, size_t);
  static int on_headers_complete(llhttp_t*);
  static int on_body(llhttp_t*, const char*, size_t);
  static int on_message_complete(llhttp_t*);

  Callbacks cb_;
  size_t max_headers_, max_header_bytes_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  Headers headers_;
  size_t header_bytes_ = 0;
  bool in_value_ = false;
  bool head_request_ = false;
  bool keep_alive_ = false;
  State state_ = State::Head;
  std::string error_;
};

}  // namespace cdn::http
