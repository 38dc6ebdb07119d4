#include "common/config/client_tls.h"

#include <unistd.h>

#include "common/config/sections.h"

namespace cdn::config {

void read_client_tls(MapReader& m, ClientTlsConfig& out) {
  sections::read_pem_path(m, "ca", out.ca);
  sections::read_pem_path(m, "cert", out.cert);
  sections::read_pem_path(m, "key", out.key);
  if (!out.key.empty() && out.cert.empty())
    m.error("key", "a client key needs its certificate (cert)");
  if (!out.cert.empty() && out.key.empty())
    m.error("cert", "a client certificate needs its private key (key)");
}

void read_loadable_client_tls(MapReader& m, ClientTlsConfig& out) {
  read_client_tls(m, out);
  if (out.cert.empty() != out.key.empty()) return;  // reported
  for (const auto* f : {&out.ca, &out.cert, &out.key})
    if (!f->empty() && ::access(f->c_str(), R_OK) != 0) return;  // reported
  if (auto ctx = client_tls_context(out); !ctx) m.error(ctx.error().message);
}

Result<std::shared_ptr<net::TlsClientContext>> load_client_tls(const ClientTlsConfig& c) {
  return net::TlsClientContext::create({c.ca, c.cert, c.key});
}

Result<std::shared_ptr<net::TlsClientContextHolder>> client_tls_context(const ClientTlsConfig& c) {
  auto ctx = load_client_tls(c);
  if (!ctx) return ctx.error();
  auto holder = std::make_shared<net::TlsClientContextHolder>();
  holder->set(std::move(ctx.value()));
  return holder;
}

Result<AdminUrl> parse_admin_url(std::string_view text, bool bare_means_http) {
  AdminUrl out;
  std::string_view v = text;
  if (v.starts_with("https://")) {
    out.tls = true;
    v.remove_prefix(8);
  } else if (v.starts_with("http://")) {
    v.remove_prefix(7);
  } else if (!bare_means_http || v.find("://") != std::string_view::npos) {
    return make_error("expected http://host:port or https://host:port, got \"" + std::string(text) +
                      "\"");
  }
  if (v.ends_with("/")) v.remove_suffix(1);
  auto hp = parse_host_port(v);
  if (!hp) return make_error(hp.error().message + " in \"" + std::string(text) + "\"");
  out.address = hp.value();
  return out;
}

}  // namespace cdn::config
