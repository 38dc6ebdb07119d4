#include "cdnctl/purge_report.h"

#include "common/auth/json.h"

namespace cdn::ctl {

namespace {

std::string string_of(const auth::json::Value& v, std::string_view key) {
  const auto* m = v.find(key);
  const std::string* s = m ? m->as_string() : nullptr;
  return s ? *s : std::string();
}

std::string int_of(const auth::json::Value& v, std::string_view key) {
  const auto* m = v.find(key);
  auto i = m ? m->as_int() : std::nullopt;
  return i ? std::to_string(*i) : std::string();
}

}  // namespace

std::string purge_report(std::string_view body) {
  auto doc = auth::json::parse(body);
  if (!doc || !doc->find("purged")) return {};
  std::string node = string_of(*doc, "node");
  std::string out =
      (node.empty() ? "this node" : node) + ": purged " + int_of(*doc, "purged") + "\n";
  const auto* ups = doc->find("upstreams");
  if (!ups || !ups->as_array()) return out;
  for (const auto& u : *ups->as_array()) {
    std::string line = "  upstream " + string_of(u, "address") + ": ";
    std::string status = int_of(u, "status"), purged = int_of(u, "purged"),
                error = string_of(u, "error");
    if (status == "200")
      line += "purged " + (purged.empty() ? "?" : purged);
    else if (status.empty() || status == "0")
      line += "FAILED, no answer (" + error + ")";
    else
      line += "FAILED, status " + status + (error.empty() ? "" : " (" + error + ")");
    out += line + "\n";
  }
  return out;
}

}  // namespace cdn::ctl
