#include "common/net/tls_session.h"

#include <openssl/err.h>

namespace cdn::net {

namespace {

// A sink BIO: every write appends to the std::string its data pointer names.
int sink_write(BIO* b, const char* data, int len) {
  auto* out = static_cast<std::string*>(BIO_get_data(b));
  if (!out || len < 0) return -1;
  out->append(data, size_t(len));
  return len;
}

long sink_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int sink_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

const BIO_METHOD* sink_method() {
  static BIO_METHOD* m = [] {
    BIO_METHOD* meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cdn-ciphertext-sink");
    BIO_meth_set_write(meth, sink_write);
    BIO_meth_set_ctrl(meth, sink_ctrl);
    BIO_meth_set_create(meth, sink_create);
    return meth;
  }();
  return m;
}

}  // namespace

TlsSession::TlsSession(std::shared_ptr<TlsContext> ctx) : ctx_(std::move(ctx)), ssl_(ctx_->new_ssl()) {
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(sink_method());
  BIO_set_data(wbio_, &protocol_out_);
  BIO_set_mem_eof_return(rbio_, -1);
  SSL_set_bio(ssl_.get(), rbio_, wbio_);
  SSL_set_accept_state(ssl_.get());
}

TlsSession::~TlsSession() = default;

TlsSession::Status TlsSession::feed(const char* data, size_t len, std::string& plain) {
  if (len > 0 && BIO_write(rbio_, data, int(len)) != int(len)) return Status::Error;
  char buf[16384];
  while (true) {
    int n = SSL_read(ssl_.get(), buf, sizeof buf);
    if (n > 0) {
      plain.append(buf, size_t(n));
      continue;
    }
    int err = SSL_get_error(ssl_.get(), n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::Ok;
    if (err == SSL_ERROR_ZERO_RETURN) return Status::Closed;
    error_ = openssl_error_string();
    return Status::Error;
  }
}

TlsSession::Status TlsSession::write_to(std::string& out, const char* data, size_t len) {
  // Protocol output queued earlier must precede these records on the wire.
  if (!protocol_out_.empty()) {
    out.append(protocol_out_);
    protocol_out_.clear();
  }
  BIO_set_data(wbio_, &out);
  Status st = Status::Ok;
  while (len > 0) {
    int n = SSL_write(ssl_.get(), data, int(len > (1 << 30) ? (1 << 30) : len));
    if (n <= 0) {
      error_ = openssl_error_string();
      st = Status::Error;
      break;
    }
    data += n;
    len -= size_t(n);
  }
  BIO_set_data(wbio_, &protocol_out_);
  return st;
}

void TlsSession::shutdown() { SSL_shutdown(ssl_.get()); }

std::string TlsSession::take_ciphertext() {
  std::string out;
  out.swap(protocol_out_);
  return out;
}

std::string TlsSession::sni() const {
  const char* n = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name);
  return n ? n : "";
}

}  // namespace cdn::net
