#include "origin-shield/origin/ingest/query_params.h"

#include "common/util/strings.h"

namespace cdn::origin::ingest {

std::optional<std::vector<std::pair<std::string, std::string>>> query_params(
    std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto part : split(query, '&')) {
    auto eq = part.find('=');
    auto value =
        url_decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    if (!value) return std::nullopt;
    out.emplace_back(std::string(part.substr(0, eq)), std::move(*value));
  }
  return out;
}

}  // namespace cdn::origin::ingest
