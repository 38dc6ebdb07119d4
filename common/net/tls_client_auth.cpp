#include "common/net/tls_client_auth.h"

#include "common/net/tls_context.h"

namespace cdn::net {

Result<void> require_client_certificates(SSL_CTX* ctx, const std::string& ca_file) {
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1)
    return make_error(ca_file + ": cannot load client CA certificates: " + openssl_error_string());
  // The CA names go into the CertificateRequest so a client holding several certificates picks
  // the right one.
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca_file.c_str());
  if (!names)
    return make_error(ca_file + ": no CA certificate in the file: " + openssl_error_string());
  SSL_CTX_set_client_CA_list(ctx, names);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return {};
}

}  // namespace cdn::net
