// How many TLS 1.3 session tickets the server sends after a full handshake
// (tls.tickets_per_handshake), counted by a client in memory, and that the one ticket resumes.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "common/net/tls_context.h"
#include "common/net/tls_session.h"

namespace cdn::net {
namespace {

int g_tickets = 0;
SSL_SESSION* g_last = nullptr;

int on_new_session(SSL*, SSL_SESSION* s) {
  ++g_tickets;
  if (g_last) SSL_SESSION_free(g_last);
  g_last = s;
  return 1;  // we keep the reference
}

class TlsTicketsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdn-tls-tickets-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    PkeyPtr key(EVP_EC_gen("P-256"));
    X509Ptr x(X509_new());
    X509_set_version(x.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(x.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
    X509_set_pubkey(x.get(), key.get());
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("edge.test"), -1, -1, 0);
    X509_set_issuer_name(x.get(), X509_get_subject_name(x.get()));
    X509_sign(x.get(), key.get(), EVP_sha256());
    FILE* f = std::fopen((dir_ + "/cert.pem").c_str(), "w");
    PEM_write_X509(f, x.get());
    std::fclose(f);
    f = std::fopen((dir_ + "/key.pem").c_str(), "w");
    PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    client_ctx_.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_min_proto_version(client_ctx_.get(), TLS1_3_VERSION);
    SSL_CTX_set_session_cache_mode(client_ctx_.get(),
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(client_ctx_.get(), on_new_session);
    g_tickets = 0;
  }
  void TearDown() override {
    if (g_last) SSL_SESSION_free(g_last);
    g_last = nullptr;
    std::filesystem::remove_all(dir_);
  }

  std::shared_ptr<TlsContext> server(int tickets) {
    TlsOptions o;
    o.certificates.push_back({dir_ + "/cert.pem", dir_ + "/key.pem"});
    o.tickets_per_handshake = tickets;
    auto r = TlsContext::create(o);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : nullptr;
  }

  // A handshake and one request each way, in memory; true when the client resumed `resume`.
  bool connect(const std::shared_ptr<TlsContext>& ctx, SSL_SESSION* resume) {
    TlsSession s(ctx);
    SslPtr ssl(SSL_new(client_ctx_.get()));
    if (resume) SSL_set_session(ssl.get(), resume);
    auto c = TlsSession::client(std::move(ssl));
    std::string plain, request;
    EXPECT_EQ(c->feed(nullptr, 0, plain), TlsSession::Status::Ok);
    for (int round = 0; round < 10; ++round) {
      std::string wire = c->take_ciphertext();
      if (wire.empty()) break;
      EXPECT_EQ(s.feed(wire.data(), wire.size(), request), TlsSession::Status::Ok)
          << s.last_error();
      wire = s.take_ciphertext();
      EXPECT_EQ(c->feed(wire.data(), wire.size(), plain), TlsSession::Status::Ok)
          << c->last_error();
    }
    EXPECT_TRUE(c->handshake_done() && s.handshake_done());
    // Tickets follow the handshake: one exchange after it delivers them.
    std::string wire;
    c->write_to(wire, "GET / HTTP/1.1\r\n\r\n", 18);
    EXPECT_EQ(s.feed(wire.data(), wire.size(), request), TlsSession::Status::Ok);
    EXPECT_EQ(request, "GET / HTTP/1.1\r\n\r\n");
    std::string answer;
    s.write_to(answer, "HTTP/1.1 204 \r\n\r\n", 17);
    EXPECT_EQ(c->feed(answer.data(), answer.size(), plain), TlsSession::Status::Ok);
    // A clean close, as a player's: OpenSSL would otherwise mark the session not resumable.
    SSL_set_shutdown(c->native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    return SSL_session_reused(c->native_handle()) == 1;
  }

  std::string dir_;
  SslCtxPtr client_ctx_;
};

TEST_F(TlsTicketsTest, TheServerSendsAsManyTicketsAsConfigured) {
  for (int n : {0, 1, 2}) {
    SCOPED_TRACE(n);
    g_tickets = 0;
    EXPECT_FALSE(connect(server(n), nullptr));
    EXPECT_EQ(g_tickets, n);
  }
}

TEST_F(TlsTicketsTest, TheOneTicketResumesAndTheResumptionBringsANewOne) {
  auto ctx = server(1);
  EXPECT_FALSE(connect(ctx, nullptr));
  ASSERT_EQ(g_tickets, 1);
  SSL_SESSION* first = g_last;
  SSL_SESSION_up_ref(first);
  EXPECT_TRUE(connect(ctx, first));
  EXPECT_EQ(g_tickets, 2);  // the next reconnection has a ticket of its own
  EXPECT_NE(g_last, first);
  SSL_SESSION_free(first);
}

TEST(TlsOptionsDefaults, OneTicketPerHandshake) {
  EXPECT_EQ(TlsOptions{}.tickets_per_handshake, 1);
}

}  // namespace
}  // namespace cdn::net
