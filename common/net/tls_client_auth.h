#pragma once
// Server side of mutual TLS: demand a client certificate and verify it against a CA file. A
// connection without one, or with one the CA did not sign, fails in the handshake (counted in
// tls_failures()), before any HTTP byte is read.
#include <openssl/ssl.h>

#include <string>

#include "common/util/result.h"

namespace cdn::net {

Result<void> require_client_certificates(SSL_CTX* ctx, const std::string& ca_file);

}  // namespace cdn::net
