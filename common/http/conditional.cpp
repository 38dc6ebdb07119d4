#include "common/http/conditional.h"

#include "common/util/http_date.h"
#include "common/util/strings.h"

namespace cdn::http {

bool etag_list_matches(std::string_view list, std::string_view etag) {
  if (etag.empty()) return false;
  auto weak_strip = [](std::string_view t) {
    t = trim(t);
    if (t.size() > 2 && t[0] == 'W' && t[1] == '/') t.remove_prefix(2);
    return t;
  };
  if (trim(list) == "*") return true;
  for (auto part : split(list, ','))
    if (weak_strip(part) == weak_strip(etag)) return true;
  return false;
}

bool not_modified(const Request& req, std::string_view etag, int64_t last_modified_s) {
  if (auto* inm = req.headers.get("if-none-match")) return etag_list_matches(*inm, etag);
  if (auto* ims = req.headers.get("if-modified-since"); ims && last_modified_s >= 0) {
    int64_t since = parse_http_date(*ims);
    return since >= 0 && last_modified_s <= since;
  }
  return false;
}

}  // namespace cdn::http
