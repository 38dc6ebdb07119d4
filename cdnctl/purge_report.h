#pragma once
// `cdnctl purge` prints one line per tier from a node's purge answer
// ({"purged":N,"node":…,"upstreams":[{"address":…,"status":…,"purged":…,"error":…},…]}).
#include <string>
#include <string_view>

namespace cdn::ctl {

// The lines to print, or an empty string when the body is not a purge answer (print it as is).
std::string purge_report(std::string_view body);

}  // namespace cdn::ctl
