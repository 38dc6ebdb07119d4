#include "origin-shield/origin/ingest/stream_target.h"

#include <gtest/gtest.h>

using cdn::origin::ingest::parse_stream_target;

TEST(StreamTarget, SimpleForm) {
  auto t = parse_stream_target("news/720p?key=s3cr%3Dt&role=backup");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->channel, "news");
  EXPECT_EQ(t->rendition, "720p");
  EXPECT_EQ(t->key, "s3cr=t");
  EXPECT_TRUE(t->backup);
  auto p = parse_stream_target("news/720p?key=k");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->backup);
  auto loose = parse_stream_target("news/720p?&&key=k&");
  ASSERT_TRUE(loose);
  EXPECT_EQ(loose->key, "k");
  // A name is compared as sent, never decoded.
  auto encoded_name = parse_stream_target("news/720p?k%65y=k");
  ASSERT_TRUE(encoded_name);
  EXPECT_EQ(encoded_name->key, "");
}

TEST(StreamTarget, PercentEncodedAsAWhole) {
  auto t = parse_stream_target("news%2F720p%3Fkey%3Dk%26role%3Dbackup");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->channel, "news");
  EXPECT_EQ(t->key, "k");
  EXPECT_TRUE(t->backup);
  EXPECT_FALSE(parse_stream_target("news%252F720p%253Fkey%253Dk"));  // decoded once only
  auto ac = parse_stream_target("%23!%3A%3Ar%3Dnews%2F720p%2Cs%3Dk");
  ASSERT_TRUE(ac);
  EXPECT_EQ(ac->channel, "news");
  auto partly = parse_stream_target("%23!::r=news/720p,s=k");  // only the '#' encoded
  ASSERT_TRUE(partly);
  EXPECT_EQ(partly->channel, "news");
  EXPECT_EQ(ac->rendition, "720p");
  EXPECT_EQ(ac->key, "k");
}

TEST(StreamTarget, AccessControlForm) {
  auto t = parse_stream_target("#!::r=news/720p,s=k,m=publish,u=someone");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->channel, "news");
  EXPECT_EQ(t->rendition, "720p");
  EXPECT_EQ(t->key, "k");
  EXPECT_FALSE(t->backup);
  EXPECT_TRUE(parse_stream_target("#!::r=news/720p,s=k,role=backup")->backup);
  EXPECT_FALSE(parse_stream_target("#!::r=news/720p,s=k,m=request"));  // playing is not ingest
  EXPECT_FALSE(parse_stream_target("#!::s=k"));
}

TEST(StreamTarget, Refusals) {
  EXPECT_FALSE(parse_stream_target(""));
  EXPECT_FALSE(parse_stream_target("news"));
  EXPECT_FALSE(parse_stream_target("/720p?key=k"));
  EXPECT_FALSE(parse_stream_target("news/?key=k"));
  EXPECT_FALSE(parse_stream_target("news/720p/x?key=k"));
  EXPECT_FALSE(parse_stream_target("news/720p?key=k&role=boss"));
  EXPECT_FALSE(parse_stream_target("news/720p?key=%zz"));
}
