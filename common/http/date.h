#pragma once
#include <string>

#include "common/util/http_date.h"

namespace cdn::http {

// The current Date value, formatted once per second per thread.
const std::string& current_http_date();

}  // namespace cdn::http
