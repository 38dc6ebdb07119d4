// answer_query() on queries built with libknot: every rcode path, the zone's records, EDNS, TC
// and the question echoed byte for byte.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <stdexcept>

#include "geo/dns/dns_server.h"
#include "tests/unit/geo_dns/dns_wire.h"
#include "tests/unit/geo_dns/fake_steering.h"

namespace cdn::geo {
namespace {

using testing::Answer;
using testing::build_query;
using testing::QuerySpec;

sockaddr_storage resolver_address(const char* ip = "203.0.113.7") {
  sockaddr_storage ss{};
  auto* in = reinterpret_cast<sockaddr_in*>(&ss);
  in->sin_family = AF_INET;
  inet_pton(AF_INET, ip, &in->sin_addr);
  return ss;
}

class AnswerQuery : public ::testing::Test {
 protected:
  AnswerQuery() { testing::fill_test_steering(steering); }
  std::string raw(const std::string& q, bool tcp = false, uint16_t our_payload = 1232) {
    return answer_query(zone, steering, reinterpret_cast<const uint8_t*>(q.data()), q.size(),
                        resolver_address(), tcp, our_payload);
  }
  Answer ask(const QuerySpec& s, bool tcp = false, uint16_t our_payload = 1232) {
    return Answer(raw(build_query(s), tcp, our_payload));
  }
  ZoneConfig zone = testing::test_zone();
  testing::FakeSteering steering;
};

TEST_F(AnswerQuery, DeliveryHostAGetsTheSteeredAddresses) {
  Answer a = ask({.name = "video.cdn.example"});
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.id(), 0x4242);
  EXPECT_EQ(a.rcode(), KNOT_RCODE_NOERROR);
  EXPECT_TRUE(a.aa());
  EXPECT_FALSE(a.tc());
  EXPECT_EQ(a.addresses(KNOT_RRTYPE_A), (std::vector<std::string>{"127.0.0.11", "127.0.0.12"}));
  EXPECT_EQ(a.rrsets(KNOT_ANSWER, KNOT_RRTYPE_A)[0]->ttl, 30u);
  EXPECT_EQ(steering.last().host, "video.cdn.example");
  EXPECT_EQ(steering.last().family, AF_INET);
  EXPECT_FALSE(steering.last().ecs.has_value());
  EXPECT_EQ(steering.last().resolver.ss_family, AF_INET);
}

TEST_F(AnswerQuery, DeliveryHostAaaaAndTheSteeringTtl) {
  steering.ttl = 17;
  Answer a = ask({.name = "video.cdn.example", .qtype = KNOT_RRTYPE_AAAA});
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.addresses(KNOT_RRTYPE_AAAA), (std::vector<std::string>{"2001:db8::11"}));
  EXPECT_EQ(a.rrsets(KNOT_ANSWER, KNOT_RRTYPE_AAAA)[0]->ttl, 17u);
  EXPECT_EQ(steering.last().family, AF_INET6);
}

TEST_F(AnswerQuery, NoAddressOfTheFamilyIsNodata) {
  Answer a = ask({.name = "noecs.cdn.example", .qtype = KNOT_RRTYPE_AAAA});
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(a.section(KNOT_ANSWER)->count, 0);
  EXPECT_EQ(a.count(KNOT_AUTHORITY, KNOT_RRTYPE_SOA), 1u);
}

TEST_F(AnswerQuery, MixedCaseQuestionIsEchoedByteForByte) {
  std::string q = build_query({.name = "ViDeO.cDn.ExAmPlE"});
  Answer a(raw(q));
  ASSERT_TRUE(a.ok);
  size_t question =
      q.size() - KNOT_WIRE_HEADER_SIZE;  // no OPT: the rest of the query is the question
  EXPECT_EQ(a.wire.substr(KNOT_WIRE_HEADER_SIZE, question), q.substr(KNOT_WIRE_HEADER_SIZE));
  EXPECT_EQ(a.addresses(KNOT_RRTYPE_A).size(), 2u);
  EXPECT_EQ(steering.last().host, "video.cdn.example");  // steering sees the lowercase name
}

TEST_F(AnswerQuery, ApexSoa) {
  Answer a = ask({.name = "cdn.example", .qtype = KNOT_RRTYPE_SOA});
  ASSERT_TRUE(a.ok);
  EXPECT_TRUE(a.aa());
  ASSERT_EQ(a.count(KNOT_ANSWER, KNOT_RRTYPE_SOA), 1u);
  const knot_rrset_t* soa = a.rrsets(KNOT_ANSWER, KNOT_RRTYPE_SOA)[0];
  EXPECT_EQ(soa->ttl, zone.apex_ttl);
  EXPECT_EQ(knot_soa_serial(soa->rrs.rdata), zone.soa_serial);
  EXPECT_EQ(knot_soa_minimum(soa->rrs.rdata), zone.soa_minimum);
  char mname[KNOT_DNAME_TXT_MAXLEN];
  knot_dname_to_str(mname, knot_soa_primary(soa->rrs.rdata), sizeof mname);
  EXPECT_STREQ(mname, "ns1.cdn.example.");
  char rname[KNOT_DNAME_TXT_MAXLEN];
  knot_dname_to_str(rname, knot_soa_mailbox(soa->rrs.rdata), sizeof rname);
  EXPECT_STREQ(rname, "hostmaster.cdn.example.");
  EXPECT_FALSE(steering.calls());
}

TEST_F(AnswerQuery, ApexNsWithGlue) {
  Answer a = ask({.name = "cdn.example", .qtype = KNOT_RRTYPE_NS});
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.count(KNOT_ANSWER, KNOT_RRTYPE_NS), 2u);
  EXPECT_EQ(a.count(KNOT_ADDITIONAL, KNOT_RRTYPE_A), 2u);
  EXPECT_EQ(a.count(KNOT_ADDITIONAL, KNOT_RRTYPE_AAAA), 1u);
}

TEST_F(AnswerQuery, GlueNamesAnswerTheirAddresses) {
  Answer a = ask({.name = "ns2.cdn.example"});
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.addresses(KNOT_RRTYPE_A), (std::vector<std::string>{"198.51.100.53"}));
}

TEST_F(AnswerQuery, EdgeNamesAnswerTheirFixedAddresses) {
  Answer a = ask({.name = "edge-a.cdn.example"});
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.addresses(KNOT_RRTYPE_A), (std::vector<std::string>{"127.0.0.11"}));
  EXPECT_EQ(a.rrsets(KNOT_ANSWER, KNOT_RRTYPE_A)[0]->ttl, zone.edge_name_ttl);
  Answer v6 = ask({.name = "edge-a.cdn.example", .qtype = KNOT_RRTYPE_AAAA});
  EXPECT_EQ(v6.addresses(KNOT_RRTYPE_AAAA), (std::vector<std::string>{"::1"}));
  Answer none = ask({.name = "edge-b.cdn.example", .qtype = KNOT_RRTYPE_AAAA});
  EXPECT_EQ(none.rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(none.section(KNOT_ANSWER)->count, 0);
  EXPECT_FALSE(steering.calls());
}

TEST_F(AnswerQuery, UnknownNameIsNxdomainWithTheSoa) {
  Answer a = ask({.name = "nope.cdn.example"});
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.rcode(), KNOT_RCODE_NXDOMAIN);
  EXPECT_TRUE(a.aa());
  ASSERT_EQ(a.count(KNOT_AUTHORITY, KNOT_RRTYPE_SOA), 1u);
  // RFC 2308: the negative TTL is min(SOA TTL, SOA MINIMUM).
  EXPECT_EQ(a.rrsets(KNOT_AUTHORITY, KNOT_RRTYPE_SOA)[0]->ttl, zone.soa_minimum);
  EXPECT_EQ(ask({.name = "a.nope.video.cdn.example"}).rcode(), KNOT_RCODE_NXDOMAIN);
}

TEST_F(AnswerQuery, ExistingNameWithoutTheTypeIsNodata) {
  for (const char* name : {"video.cdn.example", "cdn.example", "edge-a.cdn.example"}) {
    Answer a = ask({.name = name, .qtype = KNOT_RRTYPE_TXT});
    ASSERT_TRUE(a.ok) << name;
    EXPECT_EQ(a.rcode(), KNOT_RCODE_NOERROR) << name;
    EXPECT_EQ(a.section(KNOT_ANSWER)->count, 0) << name;
    EXPECT_EQ(a.count(KNOT_AUTHORITY, KNOT_RRTYPE_SOA), 1u) << name;
  }
}

TEST_F(AnswerQuery, EmptyNonTerminalIsNodataNotNxdomain) {
  Answer a = ask({.name = "eu.cdn.example"});
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(a.count(KNOT_AUTHORITY, KNOT_RRTYPE_SOA), 1u);
  EXPECT_EQ(ask({.name = "deep.eu.cdn.example"}).addresses(KNOT_RRTYPE_A),
            (std::vector<std::string>{"127.0.0.11"}));
}

TEST_F(AnswerQuery, OutsideTheZoneIsRefusedWithoutAa) {
  for (const char* name : {"example.org", "xcdn.example", "example", "."}) {
    Answer a = ask({.name = name});
    ASSERT_TRUE(a.ok) << name;
    EXPECT_EQ(a.rcode(), KNOT_RCODE_REFUSED) << name;
    EXPECT_FALSE(a.aa()) << name;
    EXPECT_EQ(a.section(KNOT_ANSWER)->count, 0) << name;
  }
}

TEST_F(AnswerQuery, OtherClassesAndZoneTransfersAreRefused) {
  EXPECT_EQ(ask({.name = "cdn.example", .qclass = KNOT_CLASS_CH}).rcode(), KNOT_RCODE_REFUSED);
  EXPECT_EQ(ask({.name = "cdn.example", .qtype = KNOT_RRTYPE_AXFR}).rcode(), KNOT_RCODE_REFUSED);
}

TEST_F(AnswerQuery, AnyGetsOneRrset) {
  Answer apex = ask({.name = "cdn.example", .qtype = KNOT_RRTYPE_ANY});
  EXPECT_EQ(apex.count(KNOT_ANSWER, KNOT_RRTYPE_SOA), 1u);
  EXPECT_EQ(apex.section(KNOT_ANSWER)->count, 1);
  Answer host = ask({.name = "video.cdn.example", .qtype = KNOT_RRTYPE_ANY});
  EXPECT_EQ(host.count(KNOT_ANSWER, KNOT_RRTYPE_A), 2u);
}

TEST_F(AnswerQuery, OptOnlyWhenTheQueryHadOne) {
  EXPECT_FALSE(ask({}).has_opt());
  Answer a = ask({.edns = true});
  ASSERT_TRUE(a.has_opt());
  EXPECT_EQ(knot_edns_get_payload(a.pkt->opt_rr), 1232);
  EXPECT_EQ(knot_edns_get_version(a.pkt->opt_rr), 0);
  EXPECT_FALSE(a.ecs().has_value());
}

TEST_F(AnswerQuery, EdnsVersionAboveZeroIsBadvers) {
  Answer a = ask({.edns = true, .edns_version = 1});
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.rcode(), KNOT_RCODE_BADVERS);
  ASSERT_TRUE(a.has_opt());
  EXPECT_EQ(knot_edns_get_version(a.pkt->opt_rr), 0);
  EXPECT_EQ(a.section(KNOT_ANSWER)->count, 0);
  EXPECT_FALSE(steering.calls());
}

// 52 A records: about 870 bytes, more than 512 and 700, less than 1232. An RRset goes in whole
// or not at all, so a truncated answer carries the question (and OPT) with TC.
class Truncation : public AnswerQuery {
 protected:
  Truncation() {
    auto& v4 = steering.v4["video.cdn.example"];
    for (int i = 0; i < 50; ++i) v4.push_back("198.51.100." + std::to_string(i));
  }
};

TEST_F(Truncation, WithoutEdnsTheAnswerFits512BytesWithTc) {
  std::string w = raw(build_query({}));
  EXPECT_LE(w.size(), 512u);
  Answer a(w);
  ASSERT_TRUE(a.ok);
  EXPECT_TRUE(a.tc());
  EXPECT_EQ(a.rcode(), KNOT_RCODE_NOERROR);
}

TEST_F(Truncation, TheRequestersPayloadSizeIsRespected) {
  Answer big(raw(build_query({.edns = true, .payload = 1232})));
  ASSERT_TRUE(big.ok);
  EXPECT_FALSE(big.tc());
  EXPECT_GT(big.wire.size(), 700u);
  EXPECT_EQ(big.count(KNOT_ANSWER, KNOT_RRTYPE_A), 52u);
  std::string w = raw(build_query({.edns = true, .payload = 700}));
  EXPECT_LE(w.size(), 700u);
  Answer a(w);
  ASSERT_TRUE(a.ok);
  EXPECT_TRUE(a.tc());
  EXPECT_TRUE(a.has_opt());  // room for the OPT is kept
}

TEST_F(Truncation, OurPayloadSizeCapsTheRequesters) {
  std::string w = raw(build_query({.edns = true, .payload = 4096}), false, 700);
  EXPECT_LE(w.size(), 700u);
  Answer a(w);
  EXPECT_TRUE(a.tc());
  EXPECT_EQ(knot_edns_get_payload(a.pkt->opt_rr), 700);
}

TEST_F(Truncation, PayloadBelow512CountsAs512) {
  Answer a(raw(
      build_query({.name = "cdn.example", .qtype = KNOT_RRTYPE_NS, .edns = true, .payload = 100})));
  ASSERT_TRUE(a.ok);
  EXPECT_GT(a.wire.size(), 100u);
  EXPECT_FALSE(a.tc());
  EXPECT_TRUE(Answer(raw(build_query({.edns = true, .payload = 100}))).tc());
}

TEST_F(Truncation, OverTcpEverythingFitsWithoutTc) {
  Answer a(raw(build_query({.edns = true, .payload = 512}), true));
  ASSERT_TRUE(a.ok);
  EXPECT_FALSE(a.tc());
  EXPECT_EQ(a.count(KNOT_ANSWER, KNOT_RRTYPE_A), 52u);
}

TEST_F(AnswerQuery, SmallAnswersAreNotTruncated) {
  EXPECT_FALSE(ask({}).tc());
  EXPECT_FALSE(ask({.name = "cdn.example", .qtype = KNOT_RRTYPE_NS}).tc());
}

TEST_F(AnswerQuery, ShortPacketsAndAnswersAreDropped) {
  std::string q = build_query({});
  EXPECT_EQ(raw(q.substr(0, 11)), "");
  EXPECT_EQ(raw(""), "");
  knot_wire_set_qr(reinterpret_cast<uint8_t*>(q.data()));
  EXPECT_EQ(raw(q), "");  // an answer is never answered (no reflection loops)
}

TEST_F(AnswerQuery, MalformedQueriesAreFormerr) {
  std::string q = build_query({});
  std::string no_question = q.substr(0, KNOT_WIRE_HEADER_SIZE);
  knot_wire_set_qdcount(reinterpret_cast<uint8_t*>(no_question.data()), 0);
  std::string two_questions = q;
  knot_wire_set_qdcount(reinterpret_cast<uint8_t*>(two_questions.data()), 2);
  std::string cut = q.substr(0, q.size() - 3);  // the question's type and class cut short
  std::string trailing = q + "xyz";
  std::string claimed_answer = q;
  knot_wire_set_ancount(reinterpret_cast<uint8_t*>(claimed_answer.data()), 1);  // nothing follows
  for (const std::string* bad : {&no_question, &two_questions, &cut, &trailing, &claimed_answer}) {
    std::string w = raw(*bad);
    ASSERT_GE(w.size(), size_t{KNOT_WIRE_HEADER_SIZE});
    const auto* h = reinterpret_cast<const uint8_t*>(w.data());
    EXPECT_EQ(knot_wire_get_rcode(h), KNOT_RCODE_FORMERR);
    EXPECT_EQ(knot_wire_get_id(h), 0x4242);
    EXPECT_TRUE(knot_wire_get_qr(h));
  }
  EXPECT_FALSE(steering.calls());
}

TEST_F(AnswerQuery, OtherOpcodesAreNotimp) {
  for (int opcode :
       std::initializer_list<int>{KNOT_OPCODE_NOTIFY, KNOT_OPCODE_UPDATE, KNOT_OPCODE_STATUS, 15}) {
    std::string q = build_query({.name = "cdn.example", .qtype = KNOT_RRTYPE_SOA});
    knot_wire_set_opcode(reinterpret_cast<uint8_t*>(q.data()), static_cast<uint8_t>(opcode));
    std::string w = raw(q);
    ASSERT_GE(w.size(), size_t{KNOT_WIRE_HEADER_SIZE});
    const auto* h = reinterpret_cast<const uint8_t*>(w.data());
    EXPECT_EQ(knot_wire_get_rcode(h), KNOT_RCODE_NOTIMPL);
    EXPECT_EQ(knot_wire_get_opcode(h), opcode);
  }
}

class ThrowingSteering : public Steering {
 public:
  SteerAnswer steer(const SteerQuery&) const override { throw std::runtime_error("broken"); }
};

TEST_F(AnswerQuery, ASteeringFailureIsServfailNotACrash) {
  ThrowingSteering broken;
  std::string q = build_query({});
  std::string w = answer_query(zone, broken, reinterpret_cast<const uint8_t*>(q.data()), q.size(),
                               resolver_address(), false);
  ASSERT_GE(w.size(), size_t{KNOT_WIRE_HEADER_SIZE});
  EXPECT_EQ(knot_wire_get_rcode(reinterpret_cast<const uint8_t*>(w.data())), KNOT_RCODE_SERVFAIL);
}

}  // namespace
}  // namespace cdn::geo

namespace cdn::geo {
namespace {

// Random bytes and single-byte mutations of valid queries: never a crash, and whatever is
// answered is a response to that ID that libknot can parse.
TEST_F(AnswerQuery, HostileBytesNeverCrash) {
  std::mt19937 rng(12345);
  std::vector<std::string> seeds = {
      build_query({}), build_query({.name = "cdn.example", .qtype = KNOT_RRTYPE_NS, .edns = true}),
      build_query({.edns = true, .ecs = testing::ecs_data(1, 24, 0, {1, 2, 3})})};
  size_t answered = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string q;
    if (i % 2 == 0) {
      q.resize(rng() % 80);
      for (char& c : q) c = static_cast<char>(rng());
    } else {
      q = seeds[rng() % seeds.size()];
      for (int k = 0; k < 3; ++k) q[rng() % q.size()] = static_cast<char>(rng());
      if (rng() % 4 == 0) q.resize(rng() % q.size());
    }
    std::string w = raw(q, rng() % 2 == 0);
    if (w.empty()) continue;
    ++answered;
    ASSERT_GE(w.size(), size_t{KNOT_WIRE_HEADER_SIZE});
    EXPECT_EQ(w.substr(0, 2), q.substr(0, 2));  // the query's ID
    EXPECT_TRUE(knot_wire_get_qr(reinterpret_cast<const uint8_t*>(w.data())));
    EXPECT_TRUE(Answer(w).ok) << "unparseable answer for input " << i;
  }
  EXPECT_GT(answered, 1000u);
}

}  // namespace
}  // namespace cdn::geo
