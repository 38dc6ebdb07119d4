#include "common/net/tls_failures.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

namespace cdn::net {

std::string_view to_string(TlsFailure f) {
  switch (f) {
    case TlsFailure::ClientCertificateMissing:
      return "client-certificate-missing";
    case TlsFailure::ClientCertificateUntrusted:
      return "client-certificate-untrusted";
    case TlsFailure::PeerRejectedCertificate:
      return "peer-rejected-certificate";
    case TlsFailure::Protocol:
      return "protocol-error";
    case TlsFailure::UpstreamCertificateUntrusted:
      return "upstream-certificate-untrusted";
    case TlsFailure::UpstreamNameMismatch:
      return "upstream-name-mismatch";
    case TlsFailure::UpstreamRejectedCertificate:
      return "upstream-rejected-certificate";
    case TlsFailure::UpstreamProtocol:
      return "upstream-protocol-error";
    case TlsFailure::Count:
      break;
  }
  return "unknown";
}

namespace {

// Alerts a peer sends when it does not accept the certificate we showed (or did not show).
bool is_certificate_alert(int reason) {
  switch (reason) {
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return true;
    default:
      return false;
  }
}

bool is_name_mismatch(long verify) {
  return verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH;
}

}  // namespace

TlsFailure classify_tls_failure(const SSL* ssl, bool client) {
  const int reason = ERR_GET_REASON(ERR_peek_last_error());
  const long verify = SSL_get_verify_result(ssl);
  if (client) {
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED)
      return is_name_mismatch(verify) ? TlsFailure::UpstreamNameMismatch
                                      : TlsFailure::UpstreamCertificateUntrusted;
    if (is_certificate_alert(reason)) return TlsFailure::UpstreamRejectedCertificate;
    return TlsFailure::UpstreamProtocol;
  }
  if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
    return TlsFailure::ClientCertificateMissing;
  if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) return TlsFailure::ClientCertificateUntrusted;
  if (is_certificate_alert(reason)) return TlsFailure::PeerRejectedCertificate;
  return TlsFailure::Protocol;
}

TlsFailureCounts& tls_failures() {
  static TlsFailureCounts counts;
  return counts;
}

}  // namespace cdn::net
