#pragma once
// Byte-by-byte check of a request head before llhttp sees it. llhttp tolerates a bare LF,
// obs-fold and any byte in a field name in places, skips empty lines before the request line, and
// has no per-field cap; a cache in front of other parsers must refuse all of that (RFC 9112 §2.2,
// §5.2) and must bound the head however its bytes are split. The verdict for a byte depends only on
// the bytes before it, so every split of the input gives the same outcome.
#include <cstddef>
#include <cstdint>

namespace cdn::http {

struct HeadScanLimits {
  size_t max_url_bytes;
  size_t max_header_bytes;  // every byte until the head is complete, leading empty lines included
  size_t max_field_bytes;   // one field name or value
};

class HeadScanner {
 public:
  struct Result {
    // Bytes scanned: through the end of the head (then complete()), or up to the refused byte.
    size_t used = 0;
    int status = 0;  // nonzero: data[used] is refused for `reason`
    const char* reason = "";
  };

  explicit HeadScanner(HeadScanLimits limits) : limits_(limits) {}
  Result scan(const char* data, size_t len);
  bool complete() const { return state_ == State::Done; }
  size_t bytes() const { return bytes_; }
  void reset();

 private:
  enum class State {
    Leading,
    LeadingCR,
    RequestLine,
    RequestLineCR,
    LineStart,
    Name,
    Value,
    ValueCR,
    EndCR,
    Done
  };
  // The refusal for byte c, or nullptr; advances the state.
  const char* step(unsigned char c, int& status);
  const char* step_request_line(unsigned char c, int& status);

  HeadScanLimits limits_;
  State state_ = State::Leading;
  size_t bytes_ = 0;
  size_t spaces_ = 0;  // in the request line: the target lies after the first
  size_t url_bytes_ = 0;
  size_t version_bytes_ = 0;
  size_t field_bytes_ = 0;
};

}  // namespace cdn::http
