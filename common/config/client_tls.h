#pragma once
// What every TLS client of ours is configured with (an upstream tier's `upstream.tls`, cdn-geo's
// `admin_client`, a tier's `purge.admin_client`): the CA to verify the server with and an optional
// client certificate for mTLS. And the address of an admin listener as its clients write it,
// `http://host:port` or `https://host:port`.
#include <memory>
#include <string>
#include <string_view>

#include "common/config/parse_units.h"
#include "common/net/tls_client_context.h"
#include "common/util/result.h"

namespace cdn::config {

class MapReader;

struct ClientTlsConfig {
  std::string ca;    // PEM CA bundle; empty = the system's CA store
  std::string cert;  // client certificate chain; empty = none
  std::string key;   // its private key (with cert)
};

// Reads `ca`, `cert` and `key` from `m` (each a readable file; cert and key only together).
void read_client_tls(MapReader& m, ClientTlsConfig& out);
// read_client_tls, then loads the files as a client context would, reporting at `m` what OpenSSL
// refuses (a key that is not the certificate's, a file that is not PEM): --check-config finds it.
void read_loadable_client_tls(MapReader& m, ClientTlsConfig& out);

// The context a client dials with, from these files (again on a reload).
Result<std::shared_ptr<net::TlsClientContext>> load_client_tls(const ClientTlsConfig& c);
// ... in a holder that a reload can swap it in.
Result<std::shared_ptr<net::TlsClientContextHolder>> client_tls_context(const ClientTlsConfig& c);

struct AdminUrl {
  HostPort address;
  bool tls = false;  // https://
  std::string str() const { return (tls ? "https://" : "http://") + address.str(); }
};

// "http://host:port" or "https://host:port" (a trailing '/' is ignored); with `bare_means_http`,
// "host:port" alone is plain HTTP too. The message names what was expected.
Result<AdminUrl> parse_admin_url(std::string_view text, bool bare_means_http);

}  // namespace cdn::config
