#include "common/proxy/purge_spec.h"

#include "common/cache/surrogate_keys.h"
#include "common/http/query.h"
#include "common/util/strings.h"

namespace cdn::proxy {

const char* to_string(PurgeKind k) {
  switch (k) {
    case PurgeKind::Url:
      return "url";
    case PurgeKind::Prefix:
      return "prefix";
    case PurgeKind::Key:
      return "key";
  }
  return "url";
}

Result<PurgeSpec> purge_spec_from_query(std::string_view query) {
  PurgeSpec p;
  int given = 0;
  for (PurgeKind k : {PurgeKind::Url, PurgeKind::Prefix, PurgeKind::Key}) {
    auto v = http::query_value(query, to_string(k));
    if (!v || v->empty()) continue;
    ++given;
    p.kind = k;
    p.value = std::move(*v);
  }
  if (given != 1) return make_error("purge-needs-url-prefix-or-key");
  if (p.kind == PurgeKind::Key && !cache::valid_surrogate_key(p.value))
    return make_error("purge-bad-surrogate-key");
  auto soft = http::query_value(query, "soft").value_or("0");
  if (soft != "0" && soft != "1") return make_error("purge-bad-soft");
  p.soft = soft == "1";
  p.id = http::query_value(query, "id").value_or("");
  if (p.id.size() > 64) return make_error("purge-bad-id");
  p.service = http::query_value(query, "service").value_or("");
  if (p.service.size() > 32) return make_error("purge-bad-service");
  return p;
}

std::string to_query(const PurgeSpec& p) {
  std::string q = std::string(to_string(p.kind)) + "=" + percent_encode(p.value);
  if (p.soft) q += "&soft=1";
  if (!p.id.empty()) q += "&id=" + percent_encode(p.id);
  if (!p.service.empty()) q += "&service=" + percent_encode(p.service);
  return q;
}

}  // namespace cdn::proxy
