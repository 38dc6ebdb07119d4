#include "cdnctl/admin_client.h"

#include <cstdlib>

#include "common/http/upstream_client.h"
#include "common/net/tls_failures.h"
#include "common/net/worker.h"

namespace cdn::ctl {

namespace {

constexpr size_t kMaxBodyBytes = 64 << 20;  // /metrics of a busy node is a few MB
constexpr int64_t kTimeoutMs = 10'000;

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::move(fallback);
}

// What an operator should change when the handshake fails.
std::string tls_advice(net::TlsFailure f, const std::string& host) {
  switch (f) {
    case net::TlsFailure::UpstreamRejectedCertificate:
      return "the admin listener refused our client certificate, or wants one (--cert and "
             "--client-key)";
    case net::TlsFailure::UpstreamCertificateUntrusted:
      return "the admin listener's certificate is not signed by a CA we trust (--cacert)";
    case net::TlsFailure::UpstreamNameMismatch:
      return "the admin listener's certificate is not for " + host;
    default:
      return "TLS protocol error (is the listener plain http://?)";
  }
}

// Collects the one answer; the loop stops once it is complete or failed.
struct Answer : http::UpstreamCallbacks {
  net::Worker* loop = nullptr;
  std::unique_ptr<http::UpstreamPool>* pool = nullptr;
  AdminResponse response;
  bool complete = false;
  http::UpstreamError error = http::UpstreamError::None;
  net::TlsFailure tls_failure = net::TlsFailure::UpstreamProtocol;

  void on_upstream_head(int status, http::Headers&&) override { response.status = status; }
  void on_upstream_body(const Bytes& chunk) override {
    if (response.body.size() + chunk->size() <= kMaxBodyBytes) response.body += *chunk;
  }
  void on_upstream_end(bool ok, http::UpstreamError err) override {
    complete = ok;
    error = err;
    tls_failure = (*pool)->last_tls_failure();
    // The pool goes on the loop, after the connection it is deleting now; then the loop ends.
    loop->post([this] {
      pool->reset();
      loop->stop();
    });
  }
};

}  // namespace

const char* const kAdminOptionsUsage =
    "  --admin URL            admin listener, http:// or https:// (default http://127.0.0.1:9090,\n"
    "                         env CDN_ADMIN)\n"
    "  --token TOKEN          admin bearer token (env CDN_ADMIN_TOKEN)\n"
    "  --cacert FILE          https: the CA that signed the admin listener's certificate\n"
    "                         (default: the system's store; env CDN_ADMIN_CACERT)\n"
    "  --cert FILE            https: our client certificate, for an admin.tls.client_ca\n"
    "                         (env CDN_ADMIN_CERT)\n"
    "  --client-key FILE      its private key (env CDN_ADMIN_KEY)\n";

AdminTarget AdminTarget::from_env() {
  AdminTarget t;
  t.url = env_or("CDN_ADMIN", t.url);
  t.token = env_or("CDN_ADMIN_TOKEN", "");
  t.tls.ca = env_or("CDN_ADMIN_CACERT", "");
  t.tls.cert = env_or("CDN_ADMIN_CERT", "");
  t.tls.key = env_or("CDN_ADMIN_KEY", "");
  return t;
}

bool AdminTarget::take_option(int argc, char** argv, int& i) {
  if (i + 1 >= argc) return false;
  std::string a = argv[i];
  std::string* field = a == "--admin"        ? &url
                       : a == "--token"      ? &token
                       : a == "--cacert"     ? &tls.ca
                       : a == "--cert"       ? &tls.cert
                       : a == "--client-key" ? &tls.key
                                             : nullptr;
  if (!field) return false;
  *field = argv[++i];
  return true;
}

Result<AdminResponse> admin_request(const AdminTarget& target, const std::string& method,
                                    const std::string& path_and_query,
                                    const std::string& json_body) {
  auto url = config::parse_admin_url(target.url, true);
  if (!url) return make_error("admin URL: " + url.error().message);
  auto addr = net::resolve_numeric(url->address.host, url->address.port);
  if (!addr) return make_error(target.url + ": " + addr.error().message);
  http::UpstreamTls tls;
  if (url->tls) {
    auto ctx = config::client_tls_context(target.tls);
    if (!ctx) return ctx.error();
    tls.context = std::move(ctx.value());
    tls.peer_name = url->address.host;
  } else if (!target.tls.cert.empty() || !target.tls.ca.empty()) {
    return make_error("--cacert and --cert are for an https:// admin URL, not " + target.url);
  }
  std::string req = method + " " + path_and_query + " HTTP/1.1\r\nHost: " + url->address.str() +
                    "\r\nConnection: close\r\nUser-Agent: cdnctl\r\nContent-Length: " +
                    std::to_string(json_body.size()) + "\r\n";
  if (!json_body.empty()) req += "Content-Type: application/json\r\n";
  if (!target.token.empty()) req += "Authorization: Bearer " + target.token + "\r\n";
  req += "\r\n" + json_body;

  net::Worker loop(-1);
  std::unique_ptr<http::UpstreamPool> pool;
  Answer answer;
  answer.loop = &loop;
  answer.pool = &pool;
  loop.run_here([&](net::Worker& w) {
    pool = std::make_unique<http::UpstreamPool>(
        &w, addr.value(), http::UpstreamTimeouts{kTimeoutMs, kTimeoutMs, kTimeoutMs}, 0,
        std::move(tls));
    pool->send(std::move(req), method == "HEAD", &answer);
  });
  if (answer.complete) return answer.response;
  if (answer.error == http::UpstreamError::Tls)
    return make_error(target.url + ": TLS handshake failed: " +
                      tls_advice(answer.tls_failure, url->address.host) + " (" +
                      std::string(net::to_string(answer.tls_failure)) + ")");
  if (answer.error == http::UpstreamError::Connect)
    return make_error("cannot connect to " + target.url);
  std::string hint;
  if (!url->tls && answer.response.status == 0 &&
      (answer.error == http::UpstreamError::Reset ||
       answer.error == http::UpstreamError::BadResponse))
    hint = "; an admin listener with admin.tls speaks only https://";  // it drops plain HTTP
  return make_error(target.url + ": no complete answer (" + http::to_string(answer.error) + ")" +
                    hint);
}

}  // namespace cdn::ctl
