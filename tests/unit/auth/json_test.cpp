#include "common/auth/json.h"

#include <gtest/gtest.h>

namespace cdn::auth::json {

TEST(Json, ParsesAllValueKinds) {
  auto v = parse(R"( {"s":"a\"b\\c\/\n\u00e9\ud83d\ude00","n":-12,"f":1.5e2,"t":true,"x":false,
                      "z":null,"a":[1,"two",[]],"o":{}} )");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v->find("s")->as_string(), "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(v->find("n")->as_int(), -12);
  EXPECT_DOUBLE_EQ(v->find("f")->as_number()->d, 150.0);
  EXPECT_FALSE(v->find("f")->as_int().has_value());
  EXPECT_TRUE(*v->find("t")->as_bool());
  EXPECT_FALSE(*v->find("x")->as_bool());
  EXPECT_TRUE(v->find("z")->is_null());
  EXPECT_EQ(v->find("a")->as_array()->size(), 3u);
  EXPECT_TRUE(v->find("o")->as_object()->empty());
  EXPECT_EQ(v->find("missing"), nullptr);
}

TEST(Json, RejectsMalformedAndHostileInput) {
  for (const char* bad : {"", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "01", "1.", "-", "1e", "+1",
                          "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\nb\"",
                          "\"\xff\"", "\"\xc0\x80\"", "\"\xed\xa0\x80\"", "tru", "nul", "{} {}",
                          "{\"a\":1,\"a\":2}", "1e999", "'a'", "{a:1}"})
    EXPECT_FALSE(parse(bad).ok()) << bad;
}

TEST(Json, BoundsDepthAndSize) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_FALSE(parse(deep).ok());
  EXPECT_TRUE(parse("[[[1]]]", Limits{100, 3}).ok());
  EXPECT_FALSE(parse("[[[[1]]]]", Limits{100, 3}).ok());
  EXPECT_FALSE(parse(std::string(200, ' ') + "1", Limits{100, 3}).ok());
}

TEST(Json, SerializeRoundTrips) {
  const char* text = R"({"a":[1,-2,true,null,"x\"\u0001"],"b":{"c":1.5}})";
  auto v = parse(text);
  ASSERT_TRUE(v.ok());
  auto again = parse(serialize(*v));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(serialize(*again), serialize(*v));
  EXPECT_EQ(serialize(*v), R"({"a":[1,-2,true,null,"x\"\u0001"],"b":{"c":1.5}})");
}

TEST(Json, LargeIntegersStayExact) {
  auto v = parse("[9007199254740993, 99999999999999999999]");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v->as_array())[0].as_int(), 9007199254740993LL);
  EXPECT_FALSE((*v->as_array())[1].as_int().has_value());  // out of int64: not an integer claim
}

}  // namespace cdn::auth::json
