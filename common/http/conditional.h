#pragma once
// Client conditionals (RFC 9110 §13.1.1-13.1.3) for a 200 representation: the one rule that the
// origin and the caching tiers both apply. If-None-Match, when present, decides alone (weak
// comparison, lists and "*"); otherwise If-Modified-Since against Last-Modified.
#include <cstdint>
#include <string_view>

#include "common/http/message.h"

namespace cdn::http {

bool etag_list_matches(std::string_view if_none_match, std::string_view etag);
// last_modified_s < 0: unknown (If-Modified-Since then never matches).
bool not_modified(const Request& req, std::string_view etag, int64_t last_modified_s);

}  // namespace cdn::http
