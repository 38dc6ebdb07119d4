// Fuzzes the query reader: every byte of a query is either inside exactly one pair the iterator
// yields (in order, none empty, none holding '&') or a separating '&'; a pair's name holds no '=';
// decoding never grows a value, leaves escape-free values alone and inverts percent_encode;
// query_value() answers the first pair of a name; query_without() removes exactly the names given,
// is idempotent and keeps every other pair's bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/query.h"
#include "common/util/strings.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cdn::http::QueryParam;
  using cdn::http::QueryParams;
  std::string_view q(reinterpret_cast<const char*>(data), size);

  const char* pos = q.data();  // everything before it is accounted for
  std::string joined, buf, again;
  std::string_view first_name;
  bool any = false;
  for (const QueryParam& p : QueryParams(q)) {
    check(!p.pair.empty() && p.pair.find('&') == std::string_view::npos);
    check(p.pair.data() >= pos && p.pair.data() + p.pair.size() <= q.data() + q.size());
    for (const char* c = pos; c < p.pair.data(); ++c) check(*c == '&');
    pos = p.pair.data() + p.pair.size();
    check(p.name.find('=') == std::string_view::npos);
    check(p.has_value ? p.pair.size() == p.name.size() + 1 + p.value.size() : p.pair == p.name);
    if (p.decoded_value(buf)) {
      check(buf.size() <= p.value.size());
      if (p.value.find_first_of("%+") == std::string_view::npos) check(buf == p.value);
      check(cdn::url_decode_into(cdn::percent_encode(buf), again) && again == buf);
    }
    if (!any) first_name = p.name;
    if (!joined.empty()) joined += '&';
    joined += p.pair;
    any = true;
  }
  for (const char* c = pos; c < q.data() + q.size(); ++c) check(*c == '&');

  check(cdn::http::query_without(q, {}) == joined);
  if (!any) return 0;
  // The first pair of its name is what query_value() answers.
  QueryParam first = *QueryParams(q).begin();
  auto v = cdn::http::query_value(q, first_name);
  check(v.has_value() == first.decoded_value(buf) && (!v || *v == buf));
  if (first_name.empty()) return 0;
  std::string without = cdn::http::query_without(q, {first_name});
  for (const QueryParam& p : QueryParams(without)) check(p.name != first_name);
  check(cdn::http::query_without(without, {first_name}) == without);
  check(without.size() < joined.size());
  return 0;
}
