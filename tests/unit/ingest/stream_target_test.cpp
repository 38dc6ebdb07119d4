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
}

TEST(StreamTarget, PercentEncodedAsAWhole) {
  auto t = parse_stream_target("news%2F720p%3Fkey%3Dk%26role%3Dbackup");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->channel, "news");
  EXPECT_EQ(t->key, "k");
  EXPECT_TRUE(t->backup);
  EXPECT_FALSE(parse_stream_target("news%252F720p"));  // decoded once only
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
