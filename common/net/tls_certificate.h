#pragma once
// Loads a certificate chain and its private key into an SSL_CTX (server certificates and our
// client certificate alike), checking that they belong together.
#include <openssl/ssl.h>

#include <string>

#include "common/util/result.h"

namespace cdn::net {

Result<void> use_certificate(SSL_CTX* ctx, const std::string& cert_path,
                             const std::string& key_path);

}  // namespace cdn::net
