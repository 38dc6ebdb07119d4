// Client-side TLS against the server side in memory (no sockets): verification of the peer's
// certificate and name, client certificates (mTLS), and how each failure is classified.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/net/tls_client_context.h"
#include "common/net/tls_context.h"
#include "common/net/tls_failures.h"
#include "common/net/tls_resumption.h"
#include "common/net/tls_session.h"

namespace cdn::net {
namespace {

struct Issued {
  PkeyPtr key;
  X509Ptr cert;
};

// A certificate for `cn` with `ext` extensions ("name=value" lines), signed by `ca` (self-signed
// when null).
Issued issue(const std::string& cn, const Issued* ca,
             const std::vector<std::pair<int, std::string>>& ext) {
  static long serial = 1;
  Issued out{PkeyPtr(EVP_EC_gen("P-256")), X509Ptr(X509_new())};
  X509* x = out.cert.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, out.key.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* issuer = ca ? ca->cert.get() : x;
  X509_set_issuer_name(x, X509_get_subject_name(issuer));
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, issuer, x, nullptr, nullptr, 0);
  for (auto& [nid, value] : ext) {
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
  }
  X509_sign(x, ca ? ca->key.get() : out.key.get(), EVP_sha256());
  return out;
}

Issued make_ca(const std::string& cn) {
  return issue(
      cn, nullptr,
      {{NID_basic_constraints, "critical,CA:TRUE"}, {NID_key_usage, "critical,keyCertSign"}});
}

Issued make_leaf(const std::string& cn, const Issued& ca, const std::string& san) {
  return issue(cn, &ca,
               {{NID_subject_alt_name, san}, {NID_ext_key_usage, "serverAuth,clientAuth"}});
}

class TlsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdn-tls-client-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    ca_ = make_ca("tier-ca");
    rogue_ca_ = make_ca("rogue-ca");
    write("ca.pem", ca_, false);
    write("rogue-ca.pem", rogue_ca_, false);
    write("server", make_leaf("server", ca_, "IP:127.0.0.1,DNS:shield.test"), true);
    write("client", make_leaf("client", ca_, "DNS:edge.test"), true);
    write("rogue-client", make_leaf("client", rogue_ca_, "DNS:edge.test"), true);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // name.pem (+ name.key when with_key).
  void write(const std::string& name, const Issued& i, bool with_key) {
    std::string base = with_key ? path(name) + ".pem" : path(name);
    FILE* f = std::fopen(base.c_str(), "w");
    PEM_write_X509(f, i.cert.get());
    std::fclose(f);
    if (!with_key) return;
    f = std::fopen((path(name) + ".key").c_str(), "w");
    PEM_write_PrivateKey(f, i.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
  }

  std::shared_ptr<TlsContext> server(bool require_client_cert) {
    TlsOptions o;
    o.certificates.push_back({path("server.pem"), path("server.key")});
    if (require_client_cert) o.client_ca = path("ca.pem");
    auto r = TlsContext::create(o);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : nullptr;
  }

  std::unique_ptr<TlsSession> client(const std::string& ca, const std::string& cert,
                                     const std::string& peer) {
    TlsClientOptions o{path(ca), cert.empty() ? "" : path(cert + ".pem"),
                       cert.empty() ? "" : path(cert + ".key")};
    auto ctx = TlsClientContext::create(o);
    EXPECT_TRUE(ctx.ok()) << (ctx.ok() ? "" : ctx.error().message);
    std::string error;
    SslPtr ssl = ctx.value()->new_ssl(peer, error);
    EXPECT_TRUE(ssl) << error;
    return TlsSession::client(std::move(ssl));
  }

  struct Outcome {
    TlsSession::Status client = TlsSession::Status::Ok, server = TlsSession::Status::Ok;
    std::string request_seen_by_server;
  };

  // Runs the handshake in memory, the client sending one request as soon as its side is done
  // (a TLS 1.3 server's verdict on the client certificate comes after that), and hands each
  // side's alert to the other when it fails.
  Outcome run(TlsSession& c, TlsSession& s) {
    Outcome o;
    std::string plain;
    bool sent = false;
    o.client = c.feed(nullptr, 0, plain);  // the ClientHello
    for (int round = 0; round < 10; ++round) {
      std::string wire = c.take_ciphertext();
      if (c.handshake_done() && !sent) {
        sent = true;
        c.write_to(wire, "GET / HTTP/1.1\r\n\r\n", 18);
      }
      if (wire.empty()) break;
      o.server = s.feed(wire.data(), wire.size(), o.request_seen_by_server);
      wire = s.take_ciphertext();
      if (!wire.empty()) o.client = c.feed(wire.data(), wire.size(), plain);
      if (o.server != TlsSession::Status::Ok) break;
      if (o.client != TlsSession::Status::Ok) {
        wire = c.take_ciphertext();
        if (!wire.empty()) o.server = s.feed(wire.data(), wire.size(), o.request_seen_by_server);
        break;
      }
    }
    return o;
  }

  std::string dir_;
  Issued ca_, rogue_ca_;
};

TEST_F(TlsClientTest, MutualTlsByNameAndByIp) {
  for (const char* peer : {"shield.test", "127.0.0.1"}) {
    SCOPED_TRACE(peer);
    auto s = std::make_unique<TlsSession>(server(true));
    auto c = client("ca.pem", "client", peer);
    Outcome o = run(*c, *s);
    EXPECT_EQ(o.client, TlsSession::Status::Ok) << c->last_error();
    EXPECT_EQ(o.server, TlsSession::Status::Ok) << s->last_error();
    EXPECT_TRUE(c->handshake_done() && s->handshake_done());
    EXPECT_EQ(o.request_seen_by_server, "GET / HTTP/1.1\r\n\r\n");
    EXPECT_EQ(s->sni(),
              std::string(peer) == "shield.test" ? "shield.test" : "");  // no SNI for an IP
  }
}

TEST_F(TlsClientTest, ANameOrIpTheCertificateDoesNotCarryIsRefused) {
  for (const char* peer : {"other.test", "127.0.0.2"}) {
    SCOPED_TRACE(peer);
    auto s = std::make_unique<TlsSession>(server(false));
    auto c = client("ca.pem", "", peer);
    Outcome o = run(*c, *s);
    EXPECT_EQ(o.client, TlsSession::Status::Error);
    EXPECT_EQ(c->failure(), TlsFailure::UpstreamNameMismatch) << c->last_error();
    EXPECT_TRUE(o.request_seen_by_server.empty());
  }
}

TEST_F(TlsClientTest, AServerFromAnotherCaIsRefusedAndTheServerCountsIt) {
  uint64_t before = tls_failures().get(TlsFailure::PeerRejectedCertificate);
  auto s = std::make_unique<TlsSession>(server(false));
  auto c = client("rogue-ca.pem", "", "shield.test");
  Outcome o = run(*c, *s);
  EXPECT_EQ(o.client, TlsSession::Status::Error);
  EXPECT_EQ(c->failure(), TlsFailure::UpstreamCertificateUntrusted) << c->last_error();
  EXPECT_EQ(o.server, TlsSession::Status::Error);
  EXPECT_EQ(tls_failures().get(TlsFailure::PeerRejectedCertificate), before + 1);
}

TEST_F(TlsClientTest, AMissingOrUntrustedClientCertificateIsRefused) {
  struct Case {
    const char* cert;
    TlsFailure server_sees;
  };
  for (Case k : {Case{"", TlsFailure::ClientCertificateMissing},
                 Case{"rogue-client", TlsFailure::ClientCertificateUntrusted}}) {
    SCOPED_TRACE(k.cert);
    uint64_t before = tls_failures().get(k.server_sees);
    auto s = std::make_unique<TlsSession>(server(true));
    auto c = client("ca.pem", k.cert, "shield.test");
    Outcome o = run(*c, *s);
    EXPECT_EQ(o.server, TlsSession::Status::Error);
    EXPECT_EQ(s->failure(), k.server_sees) << s->last_error();
    EXPECT_EQ(tls_failures().get(k.server_sees), before + 1);
    EXPECT_TRUE(o.request_seen_by_server.empty());
    // TLS 1.3: the client learns it from the alert that answers its first write.
    EXPECT_EQ(o.client, TlsSession::Status::Error);
    EXPECT_EQ(c->failure(), TlsFailure::UpstreamRejectedCertificate) << c->last_error();
  }
}

TEST_F(TlsClientTest, TheNextConnectionResumesTheSessionTheServerGave) {
  auto server_ctx = server(true);
  auto ctx = TlsClientContext::create({path("ca.pem"), path("client.pem"), path("client.key")});
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  TlsResumption resumption;
  bool reused[2] = {};
  for (bool& r : reused) {
    std::string error;
    SslPtr ssl = ctx.value()->new_ssl("shield.test", error);
    ASSERT_TRUE(ssl) << error;
    SSL* raw = ssl.get();
    resumption.attach(raw);
    auto c = TlsSession::client(std::move(ssl));
    auto s = std::make_unique<TlsSession>(server_ctx);
    Outcome o = run(*c, *s);
    ASSERT_EQ(o.client, TlsSession::Status::Ok) << c->last_error();
    ASSERT_EQ(o.request_seen_by_server, "GET / HTTP/1.1\r\n\r\n");
    r = SSL_session_reused(raw) == 1;
  }
  EXPECT_FALSE(reused[0]);
  EXPECT_TRUE(reused[1]);
}

TEST_F(TlsClientTest, ContextErrorsNameTheFile) {
  auto missing = TlsClientContext::create({path("none.pem"), "", ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find(path("none.pem")), std::string::npos)
      << missing.error().message;
  auto half = TlsClientContext::create({path("ca.pem"), path("client.pem"), ""});
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.error().message.find("both cert and key"), std::string::npos);
  auto mismatch =
      TlsClientContext::create({path("ca.pem"), path("client.pem"), path("server.key")});
  ASSERT_FALSE(mismatch.ok());
  // OpenSSL refuses a key that is not the certificate's when it loads it.
  EXPECT_EQ(mismatch.error().message.rfind(path("server.key") + ": cannot load private key", 0), 0u)
      << mismatch.error().message;
  TlsOptions o;
  o.certificates.push_back({path("server.pem"), path("server.key")});
  o.client_ca = path("none.pem");
  auto server_missing_ca = TlsContext::create(o);
  ASSERT_FALSE(server_missing_ca.ok());
  EXPECT_NE(server_missing_ca.error().message.find(path("none.pem")), std::string::npos);
}

TEST(TlsFailureNames, AreDistinctAndUpstreamOnesSayUpstream) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < size_t(TlsFailure::Count); ++i) {
    auto f = TlsFailure(i);
    EXPECT_TRUE(seen.insert(to_string(f)).second) << to_string(f);
    EXPECT_EQ(to_string(f).rfind("upstream-", 0) == 0,
              f >= TlsFailure::UpstreamCertificateUntrusted)
        << to_string(f);
  }
}

}  // namespace
}  // namespace cdn::net
