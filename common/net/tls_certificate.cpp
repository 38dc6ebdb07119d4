#include "common/net/tls_certificate.h"

#include "common/net/tls_context.h"

namespace cdn::net {

Result<void> use_certificate(SSL_CTX* ctx, const std::string& cert_path,
                             const std::string& key_path) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_path.c_str()) != 1)
    return make_error(cert_path + ": cannot load certificate: " + openssl_error_string());
  if (SSL_CTX_use_PrivateKey_file(ctx, key_path.c_str(), SSL_FILETYPE_PEM) != 1)
    return make_error(key_path + ": cannot load private key: " + openssl_error_string());
  if (SSL_CTX_check_private_key(ctx) != 1)
    return make_error(key_path + ": private key does not match " + cert_path);
  return {};
}

}  // namespace cdn::net
