// Fuzzes the request parser the way a server connection drives it: arbitrary bytes, split at
// a fuzzer-chosen point, pipelined messages continued after each completes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/http/request_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t split = data[0];
  std::string in(reinterpret_cast<const char*>(data + 1), size - 1);
  cdn::http::ParseLimits limits;
  limits.max_url_bytes = 512;
  limits.max_header_bytes = 2048;
  limits.max_headers = 16;
  cdn::http::RequestParser p(limits);
  size_t body = 0;
  std::string pending;
  size_t pos = 0;
  size_t step = split ? split : in.size();
  for (int guard = 0; guard < 100000 && (pos < in.size() || !pending.empty()); ++guard) {
    if (pending.empty()) {
      pending = in.substr(pos, step);
      pos += pending.size();
    }
    auto st = p.feed(pending.data(), pending.size());
    if (st.head_complete) p.set_body_sink([&body](const char*, size_t n) { body += n; });
    if (st.error) break;
    pending.erase(0, st.consumed);
    if (st.message_complete) p.next();
  }
  return 0;
}
