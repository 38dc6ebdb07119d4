#include "common/http/query.h"

#include <algorithm>

#include "common/util/strings.h"

namespace cdn::http {

bool QueryParam::decoded_value(std::string& out) const {
  return url_decode_into(value, out);
}

bool QueryParam::decoded_name(std::string& out) const {
  return url_decode_into(name, out);
}

void QueryIterator::advance() {
  while (!rest_.empty()) {
    size_t amp = rest_.find('&');
    std::string_view pair = rest_.substr(0, amp);
    rest_ = amp == std::string_view::npos ? std::string_view() : rest_.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    cur_.pair = pair;
    cur_.name = pair.substr(0, eq);
    cur_.has_value = eq != std::string_view::npos;
    cur_.value = cur_.has_value ? pair.substr(eq + 1) : std::string_view();
    return;
  }
  at_end_ = true;
  cur_ = QueryParam{};
}

std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  for (const QueryParam& p : QueryParams(query)) {
    if (p.name != name) continue;
    std::string out;
    if (!p.decoded_value(out)) return std::nullopt;
    return out;
  }
  return std::nullopt;
}

std::string query_without(std::string_view query, std::initializer_list<std::string_view> names) {
  std::string out;
  out.reserve(query.size());
  for (const QueryParam& p : QueryParams(query)) {
    bool dropped = std::any_of(names.begin(), names.end(),
                               [&](std::string_view n) { return !n.empty() && n == p.name; });
    if (dropped) continue;
    if (!out.empty()) out += '&';
    out += p.pair;
  }
  return out;
}

}  // namespace cdn::http
