#include "origin-shield/origin/ingest/srt_url.h"

#include "common/util/strings.h"
#include "common/http/query.h"

namespace cdn::origin::ingest {

Result<SrtPullUrl> parse_srt_url(std::string_view url) {
  if (!starts_with(url, "srt://")) return Error{"must start with srt://"};
  std::string_view rest = url.substr(6);
  auto q = rest.find('?');
  SrtPullUrl out;
  auto hp = config::parse_host_port(rest.substr(0, q));
  if (!hp) return hp.error();
  out.address = hp.value();
  out.text = "srt://" + out.address.str();
  out.configured = std::string(url);
  if (q == std::string_view::npos) return out;
  std::string v;
  for (const http::QueryParam& p : http::QueryParams(rest.substr(q + 1))) {
    if (!p.decoded_value(v)) return Error{"bad percent-encoding"};
    const std::string* value = &v;
    const std::string_view name = p.name;
    if (name == "streamid") {
      if (value->size() > 512) return Error{"streamid longer than 512 bytes"};
      out.streamid = *value;
    } else if (name == "passphrase") {
      if (value->size() < 10 || value->size() > 79) return Error{"passphrase must be 10-79 bytes"};
      out.passphrase = *value;
    } else if (name == "latency") {
      auto ms = config::parse_duration_ms(*value);
      if (!ms) return ms.error();
      if (ms.value() < 20 || ms.value() > 10'000) return Error{"latency must be 20ms..10s"};
      out.latency_ms = ms.value();
    } else {
      return Error{"unknown parameter \"" + std::string(name) + "\" (streamid, passphrase, latency)"};
    }
  }
  return out;
}

}  // namespace cdn::origin::ingest
