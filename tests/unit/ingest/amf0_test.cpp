#include "origin-shield/origin/ingest/amf0.h"

#include <gtest/gtest.h>

using cdn::origin::ingest::amf0_decode;
using cdn::origin::ingest::amf0_encode;
using cdn::origin::ingest::Amf0Value;
using Type = Amf0Value::Type;

TEST(Amf0, ConnectCommandRoundTrips) {
  std::string wire;
  amf0_encode(Amf0Value::str("connect"), wire);
  amf0_encode(Amf0Value::num(1), wire);
  amf0_encode(Amf0Value::obj({{"app", Amf0Value::str("live")},
                              {"tcUrl", Amf0Value::str("rtmp://h/live")},
                              {"fpad", Amf0Value::null()},
                              {"audioCodecs", Amf0Value::num(3575)}}),
              wire);
  amf0_encode(Amf0Value::null(), wire);
  auto v = amf0_decode(wire);
  ASSERT_TRUE(v);
  ASSERT_EQ(v->size(), 4u);
  EXPECT_EQ((*v)[0].string, "connect");
  EXPECT_EQ((*v)[1].number, 1.0);
  ASSERT_EQ((*v)[2].type, Type::Object);
  EXPECT_EQ((*v)[2].get("app")->string, "live");
  EXPECT_EQ((*v)[2].get("audioCodecs")->number, 3575.0);
  EXPECT_EQ((*v)[2].get("fpad")->type, Type::Null);
  EXPECT_EQ((*v)[2].get("nope"), nullptr);
  EXPECT_EQ((*v)[3].type, Type::Null);
}

TEST(Amf0, ExactBytesOfANumberAndAString) {
  std::string wire;
  amf0_encode(Amf0Value::num(1.0), wire);
  amf0_encode(Amf0Value::str("ab"), wire);
  EXPECT_EQ(wire, std::string("\x00\x3F\xF0\x00\x00\x00\x00\x00\x00\x02\x00\x02"
                              "ab",
                              14));
}

TEST(Amf0, EcmaArrayStrictArrayBooleanAndDate) {
  // onMetaData as encoders send it: an ECMA array with a count, ended by the object end marker.
  std::string wire(
      "\x08\x00\x00\x00\x01\x00\x05width\x00\x40\x74\x00\x00\x00\x00\x00\x00\x00\x00\x09", 24);
  wire += std::string("\x0A\x00\x00\x00\x02\x01\x01\x06", 8);               // [true, undefined]
  wire += std::string("\x0B\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 11);  // date
  auto v = amf0_decode(wire);
  ASSERT_TRUE(v);
  ASSERT_EQ(v->size(), 3u);
  EXPECT_EQ((*v)[0].get("width")->number, 320.0);
  ASSERT_EQ((*v)[1].array.size(), 2u);
  EXPECT_TRUE((*v)[1].array[0].boolean);
  EXPECT_EQ((*v)[1].array[1].type, Type::Undefined);
}

TEST(Amf0, MalformedInputIsRefusedNotOverread) {
  std::string wire;
  amf0_encode(Amf0Value::obj({{"app", Amf0Value::str("live")}}), wire);
  for (size_t cut = 1; cut < wire.size(); ++cut)
    EXPECT_FALSE(amf0_decode(std::string_view(wire).substr(0, cut))) << cut;
  EXPECT_FALSE(
      amf0_decode(std::string("\x02\x00\x05"
                              "ab",
                              5)));                                   // string longer than input
  EXPECT_FALSE(amf0_decode(std::string("\x07\x00\x01", 3)));          // reference: unsupported
  EXPECT_FALSE(amf0_decode(std::string("\x0A\xFF\xFF\xFF\xFF", 5)));  // strict array count
}

TEST(Amf0, NestingDepthIsBounded) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += std::string("\x03\x00\x01k", 4);
  EXPECT_FALSE(amf0_decode(deep));
  std::string shallow;
  for (int i = 0; i < 3; ++i) shallow += std::string("\x03\x00\x01k", 4);
  shallow += std::string("\x05", 1);
  for (int i = 0; i < 3; ++i) shallow += std::string("\x00\x00\x09", 3);
  EXPECT_TRUE(amf0_decode(shallow));
}
