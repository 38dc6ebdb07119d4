// Fuzzes the upstream response parser: arbitrary bytes from an origin, split at a
// fuzzer-chosen point, with and without a HEAD request, ended by a connection close.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/http/response_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t step = (data[0] & 0x7f) + 1;
  bool head = data[0] & 0x80;
  size_t body = 0;
  cdn::http::ResponseParser p(cdn::http::ResponseParser::Callbacks{
      [](int, cdn::http::Headers&&) {}, [&body](const char*, size_t n) { body += n; }}, 32, 4096);
  p.reset(head);
  const char* in = reinterpret_cast<const char*>(data + 1);
  size_t len = size - 1;
  for (size_t i = 0; i < len; i += step) {
    auto st = p.feed(in + i, std::min(step, len - i));
    if (st == cdn::http::ResponseParser::State::Done || st == cdn::http::ResponseParser::State::Error) break;
  }
  p.finish();
  return 0;
}
