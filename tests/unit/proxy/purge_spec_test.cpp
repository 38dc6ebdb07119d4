#include "common/proxy/purge_spec.h"

#include <gtest/gtest.h>

namespace cdn::proxy {
namespace {

TEST(PurgeSpec, ReadsEachKindSoftAndIdAndWritesTheSameQueryBack) {
  auto p = purge_spec_from_query("key=channel%2Fnews&soft=1&fleet=1&id=42");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->kind, PurgeKind::Key);
  EXPECT_EQ(p->value, "channel/news");
  EXPECT_TRUE(p->soft);
  EXPECT_EQ(p->id, "42");
  auto again = purge_spec_from_query(to_query(*p));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->kind, PurgeKind::Key);
  EXPECT_EQ(again->value, "channel/news");
  EXPECT_TRUE(again->soft);
  EXPECT_EQ(again->id, "42");

  auto u = purge_spec_from_query("url=http%3A%2F%2Fh%2Fa%3Fb%3D1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->kind, PurgeKind::Url);
  EXPECT_EQ(u->value, "http://h/a?b=1");
  EXPECT_FALSE(u->soft);
  EXPECT_EQ(purge_spec_from_query(to_query(*u))->value, "http://h/a?b=1");
  EXPECT_EQ(purge_spec_from_query("prefix=h/vod/")->kind, PurgeKind::Prefix);
}

TEST(PurgeSpec, RefusesWithAReason) {
  auto reason = [](const char* q) {
    auto p = purge_spec_from_query(q);
    return p ? std::string("accepted") : p.error().message;
  };
  EXPECT_EQ(reason(""), "purge-needs-url-prefix-or-key");
  EXPECT_EQ(reason("url=a&prefix=b"), "purge-needs-url-prefix-or-key");
  EXPECT_EQ(reason("url="), "purge-needs-url-prefix-or-key");
  EXPECT_EQ(reason("key=a%20b"), "purge-bad-surrogate-key");
  EXPECT_EQ(reason("key=a&soft=2"), "purge-bad-soft");
  EXPECT_EQ(reason(("key=a&id=" + std::string(65, '1')).c_str()), "purge-bad-id");
}

}  // namespace
}  // namespace cdn::proxy
