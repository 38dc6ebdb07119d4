// Fuzzes the request parser the way a server connection drives it: arbitrary bytes, split at
// a fuzzer-chosen point, pipelined messages continued after each completes. Every accepted head
// must hold a normalized target (normalizing it again changes nothing; no "//", "/./", "/../")
// and a Host that passes the Host check.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/http/conditional.h"
#include "common/http/host.h"
#include "common/http/request_parser.h"
#include "common/http/request_target.h"

namespace {

void check_accepted(const cdn::http::Request& r, cdn::http::EscapedSlashes slashes) {
  if (r.target == "*") return;
  auto again = cdn::http::normalize_target(r.target, slashes);
  if (!again.ok() || again.path != r.path || again.query != r.query) __builtin_trap();
  for (const char* bad : {"//", "/./", "/../"})
    if (r.path.find(bad) != std::string::npos) __builtin_trap();
  if (!r.host.empty() && !cdn::http::host_of_authority(r.host)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t split = data[0] & 0x7f;
  auto slashes =
      data[0] & 0x80 ? cdn::http::EscapedSlashes::Keep : cdn::http::EscapedSlashes::Refuse;
  std::string in(reinterpret_cast<const char*>(data + 1), size - 1);
  cdn::http::ParseLimits limits;
  limits.max_url_bytes = 512;
  limits.max_header_bytes = 2048;
  limits.max_field_bytes = 1024;
  limits.max_headers = 16;
  limits.escaped_slashes = slashes;
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
    if (st.head_complete) {
      check_accepted(p.request(), slashes);
      // Client conditionals (RFC 9110 §13.1): any field value against a stored entity-tag.
      cdn::http::not_modified(p.request(), "W/\"a,b\"", 1'700'000'000);
      p.set_body_sink([&body](const char*, size_t n) { body += n; });
    }
    if (st.error) break;
    pending.erase(0, st.consumed);
    if (st.message_complete) p.next();
  }
  return 0;
}
