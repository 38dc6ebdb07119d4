#pragma once
// The `name=value&...` parameters of an ingest address (a streamid, an srt:// URL), values
// percent-decoded.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdn::origin::ingest {

// nullopt when a value's percent-encoding is broken; a name without '=' has an empty value.
std::optional<std::vector<std::pair<std::string, std::string>>> query_params(
    std::string_view query);

}  // namespace cdn::origin::ingest
