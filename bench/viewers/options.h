#pragma once
// The simulator's command line.
#include <cstdint>
#include <string>
#include <vector>

#include "common/util/result.h"

namespace cdn::viewers {

enum class RenditionChoice { First, Lowest, Highest, Random };

struct Options {
  std::string url;  // http(s)://HOST:PORT/path/master.m3u8
  bool tls = true;
  std::string address;  // HOST from the URL (a literal address)
  uint16_t port = 0;
  std::string host_header;    // --host, else HOST
  std::string master_target;  // the path and query
  uint32_t viewers = 100;
  uint32_t procs = 1;
  double ramp_s = 10;         // every viewer joins within this many seconds (a flash crowd)
  double duration_s = 60;     // from the first join to the end of the run
  double session_mean_s = 0;  // churn: mean watch time (exponential); 0 = everyone stays
  double rejoin_after_s = 5;  // churn: pause before a viewer who left joins again
  int start_back = 3;         // live start: this many segments before the end of the playlist
  double timeout_s = 10;      // per request
  RenditionChoice rendition = RenditionChoice::Random;
  std::string token_key;  // JWK file; empty = no token
  std::string token_aud;
  std::string token_param = "token";
  int64_t token_ttl_s = 86400;
  std::string cacert;      // verify the edge's certificate against this CA file
  int edge_pid = 0;        // read its CPU and RSS from /proc
  std::string healthz;     // http://HOST:PORT/healthz of the edge's admin listener
  std::string out_json;    // final report (also printed on stdout)
  std::string out_series;  // per-second TSV for the plot
  bool quiet = false;      // no live line
  uint64_t seed = 1;
};

Result<Options> parse_options(int argc, char** argv);
const char* usage();

}  // namespace cdn::viewers
