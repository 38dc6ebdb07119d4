#include "bench/viewers/options.h"

#include <cstdlib>
#include <map>

namespace cdn::viewers {

const char* usage() {
  return "usage: cdn-viewers --url https://HOST:PORT/live/CH/master.m3u8 [options]\n"
         "  --viewers N (100)  --procs P (1; forks P players' processes and merges them)\n"
         "  --ramp S (10: all join within S s)  --duration S (60)\n"
         "  --session-mean S (0 = no churn)  --rejoin-after S (5)\n"
         "  --start-back N (3 segments from the live edge)  --timeout S (10)\n"
         "  --rendition first|lowest|highest|random (random)\n"
         "  --token-key FILE.jwk [--token-aud AUD] [--token-param token] [--token-ttl S]\n"
         "  --host NAME (Host and SNI)  --cacert FILE (verify the certificate)\n"
         "  --edge-pid PID  --healthz http://HOST:PORT/healthz\n"
         "  --out FILE.json  --series FILE.tsv  --quiet  --seed N\n";
}

namespace {

bool to_double(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end && *end == 0 && out >= 0;
}

bool to_uint(const std::string& s, uint64_t& out) {
  char* end = nullptr;
  out = std::strtoull(s.c_str(), &end, 10);
  return !s.empty() && s[0] != '-' && end && *end == 0;
}

Result<void> split_url(Options& o) {
  std::string rest;
  if (o.url.rfind("https://", 0) == 0) {
    o.tls = true;
    rest = o.url.substr(8);
  } else if (o.url.rfind("http://", 0) == 0) {
    o.tls = false;
    rest = o.url.substr(7);
  } else {
    return Error{"--url must start with http:// or https://"};
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  o.master_target = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  uint64_t port = o.tls ? 443 : 80;
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    if (!to_uint(authority.substr(colon + 1), port) || port == 0 || port > 65535)
      return Error{"bad port in --url"};
    authority = authority.substr(0, colon);
  }
  if (authority.size() > 2 && authority.front() == '[')
    authority = authority.substr(1, authority.size() - 2);
  o.address = authority;
  o.port = uint16_t(port);
  if (o.host_header.empty()) o.host_header = o.address;
  return {};
}

}  // namespace

Result<Options> parse_options(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string> kv;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quiet") {
      o.quiet = true;
      continue;
    }
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) return Error{"unexpected argument " + a};
    kv[a.substr(2)] = argv[++i];
  }
  for (auto& [k, v] : kv) {
    uint64_t u = 0;
    double d = 0;
    bool ok = true;
    if (k == "url")
      o.url = v;
    else if (k == "host")
      o.host_header = v;
    else if (k == "viewers")
      ok = to_uint(v, u) && u > 0 && u <= 10000000 && ((o.viewers = uint32_t(u)), true);
    else if (k == "procs")
      ok = to_uint(v, u) && u > 0 && u <= 256 && ((o.procs = uint32_t(u)), true);
    else if (k == "ramp")
      ok = to_double(v, o.ramp_s);
    else if (k == "duration")
      ok = to_double(v, o.duration_s) && o.duration_s > 0;
    else if (k == "session-mean")
      ok = to_double(v, o.session_mean_s);
    else if (k == "rejoin-after")
      ok = to_double(v, o.rejoin_after_s);
    else if (k == "start-back")
      ok = to_uint(v, u) && u >= 1 && u <= 100 && ((o.start_back = int(u)), true);
    else if (k == "timeout")
      ok = to_double(v, o.timeout_s) && o.timeout_s > 0;
    else if (k == "rendition") {
      if (v == "first")
        o.rendition = RenditionChoice::First;
      else if (v == "lowest")
        o.rendition = RenditionChoice::Lowest;
      else if (v == "highest")
        o.rendition = RenditionChoice::Highest;
      else if (v == "random")
        o.rendition = RenditionChoice::Random;
      else
        ok = false;
    } else if (k == "token-key")
      o.token_key = v;
    else if (k == "token-aud")
      o.token_aud = v;
    else if (k == "token-param")
      o.token_param = v;
    else if (k == "token-ttl")
      ok = to_double(v, d) && d >= 1 && ((o.token_ttl_s = int64_t(d)), true);
    else if (k == "cacert")
      o.cacert = v;
    else if (k == "edge-pid")
      ok = to_uint(v, u) && u > 0 && u < (1u << 31) && ((o.edge_pid = int(u)), true);
    else if (k == "healthz")
      o.healthz = v;
    else if (k == "out")
      o.out_json = v;
    else if (k == "series")
      o.out_series = v;
    else if (k == "seed")
      ok = to_uint(v, o.seed);
    else
      return Error{"unknown option --" + k};
    if (!ok) return Error{"bad value for --" + k + ": " + v};
  }
  if (o.url.empty()) return Error{"--url is required"};
  auto r = split_url(o);
  if (!r) return r.error();
  if (o.procs > o.viewers) o.procs = o.viewers;
  return o;
}

}  // namespace cdn::viewers
