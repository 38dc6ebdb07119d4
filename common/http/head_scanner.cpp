#include "common/http/head_scanner.h"

#include "common/http/uri_chars.h"

namespace cdn::http {

void HeadScanner::reset() {
  state_ = State::Leading;
  bytes_ = spaces_ = url_bytes_ = version_bytes_ = field_bytes_ = 0;
}

HeadScanner::Result HeadScanner::scan(const char* data, size_t len) {
  Result r;
  for (; r.used < len && state_ != State::Done; ++r.used) {
    int status = 400;
    const char* why = step(static_cast<unsigned char>(data[r.used]), status);
    if (why) {
      r.status = status;
      r.reason = why;
      return r;
    }
  }
  return r;
}

const char* HeadScanner::step(unsigned char c, int& status) {
  if (++bytes_ > limits_.max_header_bytes) {
    status = 431;
    return "header-too-large";
  }
  auto field_byte = [&]() -> const char* {
    if (++field_bytes_ <= limits_.max_field_bytes) return nullptr;
    status = 431;
    return "field-too-large";
  };
  switch (state_) {
    case State::Leading:  // RFC 9112 §2.2: empty lines before the request line are skipped
      if (c == '\r') {
        state_ = State::LeadingCR;
        break;
      }
      if (c == '\n') return "bare-lf";
      state_ = State::RequestLine;
      return step_request_line(c, status);
    case State::LeadingCR:
      if (c != '\n') return "malformed-request";
      state_ = State::Leading;
      break;
    case State::RequestLine:
      return step_request_line(c, status);
    case State::RequestLineCR:
    case State::EndCR:
      if (c != '\n') return "malformed-request";
      state_ = state_ == State::EndCR ? State::Done : State::LineStart;
      break;
    case State::LineStart:
      if (c == '\r') {
        state_ = State::EndCR;
        break;
      }
      if (c == '\n') return "bare-lf";
      if (c == ' ' || c == '\t') return "obs-fold";
      field_bytes_ = 0;
      state_ = State::Name;
      [[fallthrough]];
    case State::Name:
      if (c == ':' && field_bytes_ > 0) {
        field_bytes_ = 0;
        state_ = State::Value;
        break;
      }
      if (!is_tchar(c)) return "bad-header-name";
      return field_byte();
    case State::Value:
      if (c == '\r') {
        state_ = State::ValueCR;
        break;
      }
      if (c == '\n') return "bare-lf";
      if ((c < 0x20 && c != '\t') || c == 0x7f) return "bad-header-value";
      if (field_bytes_ == 0 && (c == ' ' || c == '\t'))
        break;  // leading OWS is not part of the value
      return field_byte();
    case State::ValueCR:
      if (c != '\n') return "bad-header-value";
      state_ = State::LineStart;
      break;
    case State::Done:
      break;
  }
  return nullptr;
}

// Method, target and version are llhttp's to check; the target's length is bounded here so that
// the URL limit, like the others, does not depend on how the bytes arrive.
const char* HeadScanner::step_request_line(unsigned char c, int& status) {
  if (c == '\r') {
    state_ = State::RequestLineCR;
    return nullptr;
  }
  if (c == '\n') return "bare-lf";
  if (c == ' ') {
    // A third space, or a second one not followed by the version, means a space inside the
    // target (RFC 9112 §3.2 has none): say so rather than blame the version.
    if (++spaces_ > 2) return "bad-request-target";
  } else if (spaces_ == 1 && ++url_bytes_ > limits_.max_url_bytes) {
    status = 414;
    return "url-too-long";
  } else if (spaces_ == 2 && version_bytes_++ == 0 && c != 'H') {
    return "bad-request-target";
  }
  return nullptr;
}

}  // namespace cdn::http
