#include "cdnctl/token_cmd.h"

#include <openssl/rand.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "common/auth/base64url.h"
#include "common/auth/json.h"
#include "common/auth/jwks.h"
#include "common/auth/jws.h"
#include "common/auth/ossl.h"
#include "common/auth/verifier.h"
#include "common/util/clock.h"
#include "common/util/strings.h"
#include "common/auth/signing_key.h"

namespace cdn::ctl {

namespace {

namespace json = auth::json;

int token_usage() {
  fprintf(stderr,
          "usage: cdnctl token sign --key FILE.jwk --sub SUB [--sid SID] [--jti ID] [--exp-in 1h]\n"
          "                  [--nbf-in 0s] [--iss ISS] [--aud AUD] [--path /vod/] [--regex RE] [--hash URI]\n"
          "                  [--climit N] [--cbeh EVICT_OLDEST|BLOCK_NEW] [--cdniets SECONDS --cdnistt 1|2]\n"
          "                  [--cip ADDR[/BITS]]\n"
          "         prints a signed token (JWT). Durations: 30s, 5m, 1h, 2d or seconds; may be negative.\n"
          "       cdnctl token verify --jwks FILE [--iss ISS] [--aud AUD] [--path /p?q] [--client ADDR]\n"
          "                  [--leeway 30s] TOKEN\n"
          "         prints OK and the claims, or the rejection reason and detail (exit 1).\n"
          "       cdnctl token keygen --alg ES256|EdDSA|HS256 --kid KID     prints a private JWK\n"
          "       cdnctl token keygen --public FILE.jwk                     prints its public JWKS\n");
  return 2;
}

// "90", "30s", "5m", "1h", "2d", with an optional leading '-'.
std::optional<int64_t> parse_seconds(std::string_view s) {
  bool neg = !s.empty() && s[0] == '-';
  if (neg) s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  int64_t mult = 1;
  switch (s.back()) {
    case 's': mult = 1; break;
    case 'm': mult = 60; break;
    case 'h': mult = 3600; break;
    case 'd': mult = 86400; break;
    default: mult = 0;
  }
  if (mult) s.remove_suffix(1);
  else mult = 1;
  auto v = parse_int(s);
  if (!v || *v < 0) return std::nullopt;
  return (neg ? -1 : 1) * *v * mult;
}

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// --name value pairs; a flag given twice or without a value is an error.
bool parse_options(int argc, char** argv, std::map<std::string, std::string>& opts,
                   std::vector<std::string>& positional) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0 && a.size() > 2) {
      if (i + 1 >= argc) {
        fprintf(stderr, "cdnctl token: %s needs a value\n", a.c_str());
        return false;
      }
      if (!opts.emplace(a.substr(2), argv[++i]).second) {
        fprintf(stderr, "cdnctl token: %s given twice\n", a.c_str());
        return false;
      }
    } else {
      positional.push_back(a);
    }
  }
  return true;
}

bool only_known(const std::map<std::string, std::string>& opts, std::initializer_list<std::string_view> known) {
  for (auto& [k, v] : opts) {
    bool ok = false;
    for (auto n : known) ok = ok || n == k;
    if (!ok) {
      fprintf(stderr, "cdnctl token: unknown option --%s\n", k.c_str());
      return false;
    }
  }
  return true;
}

json::Value num(int64_t v) { return json::Value{json::Number{double(v), v}}; }

int sign_cmd(std::map<std::string, std::string>& o) {
  if (!only_known(o, {"key", "sub", "sid", "jti", "exp-in", "nbf-in", "iss", "aud", "path", "regex", "hash",
                      "climit", "cbeh", "cdniets", "cdnistt", "cip"}))
    return token_usage();
  if (!o.count("key") || !o.count("sub")) return token_usage();
  auto key = auth::load_signing_key(o["key"]);
  if (!key) {
    fprintf(stderr, "cdnctl token sign: %s\n", key.error().message.c_str());
    return 1;
  }
  int64_t now = unix_now();
  json::Object c;
  auto bad = [](const char* what, const std::string& v) {
    fprintf(stderr, "cdnctl token sign: bad %s: %s\n", what, v.c_str());
    return 2;
  };
  if (o.count("iss")) c.push_back({"iss", json::Value{o["iss"]}});
  if (o.count("aud")) c.push_back({"aud", json::Value{o["aud"]}});
  c.push_back({"sub", json::Value{o["sub"]}});
  if (o.count("sid")) c.push_back({"sid", json::Value{o["sid"]}});
  std::string jti = o.count("jti") ? o["jti"] : "";
  if (jti.empty()) {
    unsigned char r[12];
    if (RAND_bytes(r, sizeof r) != 1) return 1;
    jti = auth::base64url_encode(std::string_view(reinterpret_cast<char*>(r), sizeof r));
  }
  c.push_back({"jti", json::Value{jti}});
  c.push_back({"iat", num(now)});
  auto exp_in = parse_seconds(o.count("exp-in") ? o["exp-in"] : "1h");
  if (!exp_in) return bad("--exp-in", o["exp-in"]);
  c.push_back({"exp", num(now + *exp_in)});
  if (o.count("nbf-in")) {
    auto nbf = parse_seconds(o["nbf-in"]);
    if (!nbf) return bad("--nbf-in", o["nbf-in"]);
    c.push_back({"nbf", num(now + *nbf)});
  }
  if (o.count("path")) c.push_back({"path", json::Value{o["path"]}});
  if (o.count("regex") && o.count("hash")) {
    fprintf(stderr, "cdnctl token sign: --regex and --hash both fill cdniuc; give one\n");
    return 2;
  }
  if (o.count("regex")) c.push_back({"cdniuc", json::Value{"regex:" + o["regex"]}});
  if (o.count("hash")) {
    std::string digest = auth::ossl::sha256_digest(o["hash"]);
    c.push_back({"cdniuc", json::Value{"hash:" + auth::base64url_encode(digest)}});
  }
  if (o.count("climit")) {
    auto n = parse_int(o["climit"]);
    if (!n || *n < 0) return bad("--climit", o["climit"]);
    c.push_back({"climit", num(*n)});
  }
  if (o.count("cbeh")) {
    if (o["cbeh"] != "EVICT_OLDEST" && o["cbeh"] != "BLOCK_NEW") return bad("--cbeh", o["cbeh"]);
    c.push_back({"cbeh", json::Value{o["cbeh"]}});
  }
  if (o.count("cdniets")) {
    auto n = parse_seconds(o["cdniets"]);
    if (!n || *n <= 0) return bad("--cdniets", o["cdniets"]);
    c.push_back({"cdniets", num(*n)});
  }
  if (o.count("cdnistt")) {
    if (o["cdnistt"] != "1" && o["cdnistt"] != "2") return bad("--cdnistt", o["cdnistt"]);
    c.push_back({"cdnistt", num(o["cdnistt"] == "1" ? 1 : 2)});
  }
  if (o.count("cip")) c.push_back({"cip", json::Value{o["cip"]}});
  auto token = auth::sign(json::serialize(json::Value{std::move(c)}), *key.value());
  if (!token) {
    fprintf(stderr, "cdnctl token sign: %s\n", token.error().message.c_str());
    return 1;
  }
  printf("%s\n", token.value().c_str());
  return 0;
}

int verify_cmd(std::map<std::string, std::string>& o, const std::vector<std::string>& pos) {
  if (!only_known(o, {"jwks", "iss", "aud", "path", "client", "leeway"})) return token_usage();
  if (!o.count("jwks") || pos.size() != 1) return token_usage();
  auto keys = auth::load_jwks(o["jwks"]);
  if (!keys) {
    fprintf(stderr, "cdnctl token verify: %s\n", keys.error().message.c_str());
    return 2;
  }
  auth::VerifyPolicy policy;
  policy.issuer = o["iss"];
  policy.audience = o["aud"];
  if (o.count("leeway")) {
    auto l = parse_seconds(o["leeway"]);
    if (!l || *l < 0) {
      fprintf(stderr, "cdnctl token verify: bad --leeway\n");
      return 2;
    }
    policy.leeway_s = *l;
  }
  auth::Verifier v(std::make_shared<const auth::KeySet>(std::move(keys.value())), policy, 0);
  std::string path = o.count("path") ? o["path"] : "/";
  std::string client = o.count("client") ? o["client"] : "127.0.0.1";
  auto r = v.verify(pos[0], {path, client, unix_now()});
  if (!r) {
    printf("REJECTED %s: %s\n", r.rejection().reason.c_str(), r.rejection().detail.c_str());
    return 1;
  }
  const auth::Claims& c = r.claims();
  printf("OK\n%s\n", c.raw_payload.c_str());
  printf("sub=%s sid=%s%s", c.sub.c_str(), c.sid.c_str(), c.sid_derived ? " (derived)" : "");
  if (c.exp) printf(" exp=%lld (in %llds)", (long long)*c.exp, (long long)(*c.exp - unix_now()));
  printf("\n");
  return 0;
}

int keygen_cmd(std::map<std::string, std::string>& o) {
  if (!only_known(o, {"alg", "kid", "public"})) return token_usage();
  if (o.count("public")) {
    if (o.size() != 1) return token_usage();
    auto text = read_text(o["public"]);
    if (!text) {
      fprintf(stderr, "cdnctl token keygen: %s\n", text.error().message.c_str());
      return 1;
    }
    auto doc = json::parse(text.value());
    std::vector<std::string> jwks;
    if (doc && doc->find("keys") && doc->find("keys")->as_array()) {
      for (auto& k : *doc->find("keys")->as_array()) jwks.push_back(json::serialize(k));
    } else {
      jwks.push_back(text.value());
    }
    std::string out = "{\"keys\":[";
    for (size_t i = 0; i < jwks.size(); ++i) {
      auto pub = auth::public_jwk(jwks[i]);
      if (!pub) {
        fprintf(stderr, "cdnctl token keygen: %s\n", pub.error().message.c_str());
        return 1;
      }
      out += (i ? "," : "") + pub.value();
    }
    printf("%s]}\n", out.c_str());
    return 0;
  }
  if (!o.count("alg") || !o.count("kid")) return token_usage();
  auto alg = auth::alg_from_name(o["alg"]);
  if (!alg) {
    fprintf(stderr, "cdnctl token keygen: --alg must be ES256, EdDSA or HS256\n");
    return 2;
  }
  auto jwk = auth::generate_jwk(*alg, o["kid"]);
  if (!jwk) {
    fprintf(stderr, "cdnctl token keygen: %s\n", jwk.error().message.c_str());
    return 1;
  }
  printf("%s\n", jwk.value().c_str());
  return 0;
}

}  // namespace

int token_main(int argc, char** argv) {
  if (argc < 1) return token_usage();
  std::string sub = argv[0];
  std::map<std::string, std::string> opts;
  std::vector<std::string> pos;
  if (!parse_options(argc - 1, argv + 1, opts, pos)) return 2;
  if (sub == "sign" && pos.empty()) return sign_cmd(opts);
  if (sub == "verify") return verify_cmd(opts, pos);
  if (sub == "keygen" && pos.empty()) return keygen_cmd(opts);
  return token_usage();
}

}  // namespace cdn::ctl
