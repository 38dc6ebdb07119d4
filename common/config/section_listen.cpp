// listen, admin and tls sections.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <openssl/ssl.h>

#include "common/config/sections.h"

namespace cdn::config::sections {

namespace {
// OpenSSL is the judge of its own cipher strings: set the list on a throwaway context.
bool openssl_accepts(const std::string& list, bool tls13) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  if (!ctx) return false;
  bool ok = (tls13 ? SSL_CTX_set_ciphersuites(ctx, list.c_str()) : SSL_CTX_set_cipher_list(ctx, list.c_str())) == 1;
  SSL_CTX_free(ctx);
  return ok;
}
}  // namespace

void check_readable(MapReader& m, std::string_view key, const std::string& path, bool directory) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    m.error(key, "\"" + path + "\": " + std::strerror(errno));
    return;
  }
  if (directory && !S_ISDIR(st.st_mode)) {
    m.error(key, "\"" + path + "\" is not a directory");
  } else if (!directory && !S_ISREG(st.st_mode)) {
    m.error(key, "\"" + path + "\" is not a regular file");
  } else if (::access(path.c_str(), directory ? (R_OK | X_OK) : R_OK) != 0) {
    m.error(key, "\"" + path + "\" is not readable: " + std::strerror(errno));
  }
}

void read_listen(MapReader& root, std::vector<ListenConfig>& out) {
  for (MapReader& m : root.get_maps(required("listen"), 1)) {
    ListenConfig l;
    auto addr = m.get_host_port(required("address"));
    set(l.tls, m.get_bool("tls"));
    m.finish();
    if (!addr) continue;
    l.address = *addr;
    for (const auto& prev : out)
      if (prev.address == l.address) m.error("address", "duplicate listen address " + l.address.str());
    out.push_back(std::move(l));
  }
}

void read_pem_path(MapReader& m, Key key, std::string& out) {
  if (auto path = m.get_string(key, false)) {
    check_readable(m, key.name, *path, false);
    out = *path;
  }
}

void read_admin(MapReader& m, AdminConfig& out) {
  set(out.listen, m.get_host_port("listen"));
  set(out.token, m.get_string("token"));
  if (auto t = m.get_map("tls")) {
    AdminTlsConfig& tls = out.tls.emplace();
    read_pem_path(*t, required("cert"), tls.cert);
    read_pem_path(*t, required("key"), tls.key);
    read_pem_path(*t, "client_ca", tls.client_ca);
    t->finish();
  }
}

void read_tls_certificates(MapReader& m, Key key, size_t min_items,
                           std::vector<TlsCertificate>& out) {
  for (MapReader& c : m.get_maps(key, min_items)) {
    TlsCertificate cert;
    auto certfile = c.get_string(required("cert"), false);
    auto keyfile = c.get_string(required("key"), false);
    if (certfile) check_readable(c, "cert", *certfile, false);
    if (keyfile) check_readable(c, "key", *keyfile, false);
    c.finish();
    if (!certfile || !keyfile) continue;
    out.push_back({*certfile, *keyfile});
  }
}

void read_tls(MapReader& m, TlsConfig& out) {
  read_tls_certificates(m, required("certificates"), 1, out.certificates);
  set(out.session_tickets, m.get_bool("session_tickets"));
  if (auto v = m.get_int("tickets_per_handshake", 0, 8)) out.tickets_per_handshake = uint32_t(*v);
  set(out.session_cache_size, m.get_int("session_cache_size", 0, 10'000'000));
  if (auto v = m.get_string("ciphersuites", false)) {
    if (openssl_accepts(*v, true)) out.ciphersuites = *v;
    else m.error("ciphersuites", "\"" + *v + "\" is not a TLS 1.3 cipher suite list OpenSSL accepts");
  }
  if (auto v = m.get_string("ciphers", false)) {
    if (openssl_accepts(*v, false)) out.ciphers = *v;
    else m.error("ciphers", "\"" + *v + "\" is not a TLS 1.2 cipher list OpenSSL accepts");
  }
  read_pem_path(m, "client_ca", out.client_ca);
}

}  // namespace cdn::config::sections
