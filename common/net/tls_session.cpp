#include "common/net/tls_session.h"

#include <openssl/err.h>

#include <algorithm>
#include <cstring>

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

// A source BIO: reads come from the span its data pointer names, which feed() sets for the length
// of one call. Unlike a memory BIO it keeps no buffer of its own between reads, so an idle
// session holds no input buffer sized by the largest burst it ever received.
struct Source {
  const char* data = nullptr;
  size_t len = 0;
};

int source_read(BIO* b, char* out, int len) {
  auto* in = static_cast<Source*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  if (!in || in->len == 0 || len <= 0) {
    BIO_set_retry_read(b);  // not EOF: more ciphertext comes with the next socket read
    return -1;
  }
  size_t n = std::min(in->len, size_t(len));
  std::memcpy(out, in->data, n);
  in->data += n;
  in->len -= n;
  return int(n);
}

long source_ctrl(BIO* b, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_PENDING: {
      auto* in = static_cast<Source*>(BIO_get_data(b));
      return in ? long(in->len) : 0;
    }
    case BIO_CTRL_FLUSH:
      return 1;
    default:
      return 0;
  }
}

const BIO_METHOD* source_method() {
  static BIO_METHOD* m = [] {
    BIO_METHOD* meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cdn-ciphertext-source");
    BIO_meth_set_read(meth, source_read);
    BIO_meth_set_ctrl(meth, source_ctrl);
    BIO_meth_set_create(meth, sink_create);
    return meth;
  }();
  return m;
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
  attach_bios();
  SSL_set_accept_state(ssl_.get());
}

TlsSession::TlsSession(SslPtr client_ssl) : ssl_(std::move(client_ssl)) {
  attach_bios();
  SSL_set_connect_state(ssl_.get());
}

void TlsSession::attach_bios() {
  rbio_ = BIO_new(source_method());
  wbio_ = BIO_new(sink_method());
  BIO_set_data(wbio_, &protocol_out_);
  SSL_set_bio(ssl_.get(), rbio_, wbio_);
}

std::unique_ptr<TlsSession> TlsSession::client(SslPtr ssl) {
  return std::unique_ptr<TlsSession>(new TlsSession(std::move(ssl)));
}

TlsSession::~TlsSession() = default;

TlsSession::Status TlsSession::feed(const char* data, size_t len, std::string& plain) {
  Source in{data, len};
  BIO_set_data(rbio_, &in);
  char buf[16384];
  Status st;
  while (true) {
    int n = SSL_read(ssl_.get(), buf, sizeof buf);
    if (n > 0) {
      plain.append(buf, size_t(n));
      continue;
    }
    int err = SSL_get_error(ssl_.get(), n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      st = Status::Ok;  // the source is empty: every byte is in OpenSSL's record buffer or used
    } else if (err == SSL_ERROR_ZERO_RETURN) {
      st = Status::Closed;
    } else {
      const bool client = ctx_ == nullptr;
      failure_ = classify_tls_failure(ssl_.get(), client);
      // Our own connections' failures are counted by their owner, which also sees a TLS 1.3
      // server refuse our certificate after the client's side of the handshake finished.
      if (!client && !handshake_done()) tls_failures().add(failure_);
      error_ = openssl_error_string();
      st = Status::Error;
    }
    break;
  }
  BIO_set_data(rbio_, nullptr);
  return st;
}

TlsSession::Status TlsSession::write_to(std::string& out, const char* data, size_t len) {
  // Protocol output queued earlier must precede these records on the wire.
  if (!protocol_out_.empty()) {
    out.append(protocol_out_);
    std::string().swap(protocol_out_);  // a session at rest keeps no buffer
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

void TlsSession::keep_buffers(bool keep) {
  if (keep) {
    SSL_clear_mode(ssl_.get(), SSL_MODE_RELEASE_BUFFERS);
    return;
  }
  SSL_set_mode(ssl_.get(), SSL_MODE_RELEASE_BUFFERS);
  SSL_free_buffers(ssl_.get());
}

std::string TlsSession::take_ciphertext() {
  std::string out;
  out.swap(protocol_out_);
  return out;
}

std::string TlsSession::sni() const {
  const char* n = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name);
  return n ? n : "";
}

std::string_view TlsSession::alpn() const {
  const unsigned char* p = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_.get(), &p, &len);
  return p ? std::string_view(reinterpret_cast<const char*>(p), len) : std::string_view();
}

}  // namespace cdn::net
