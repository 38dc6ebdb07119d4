#include "common/http/query.h"

#include <gtest/gtest.h>

#include <vector>

namespace cdn::http {
namespace {

struct Seen {
  std::string name, value;
  bool has_value;
};

std::vector<Seen> params(std::string_view q) {
  std::vector<Seen> out;
  for (const QueryParam& p : QueryParams(q))
    out.push_back({std::string(p.name), std::string(p.value), p.has_value});
  return out;
}

TEST(Query, PairsInOrderWithRawNamesAndValues) {
  auto v = params("a=1&b=%41+x&a=2");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].name, "a");
  EXPECT_EQ(v[0].value, "1");
  EXPECT_EQ(v[1].name, "b");
  EXPECT_EQ(v[1].value, "%41+x");  // the iterator never decodes
  EXPECT_EQ(v[2].name, "a");
  EXPECT_EQ(v[2].value, "2");
}

TEST(Query, EmptyPairsDoNotExist) {
  EXPECT_TRUE(params("").empty());
  EXPECT_TRUE(params("&").empty());
  EXPECT_TRUE(params("&&&").empty());
  auto v = params("&a=1&&b=2&");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].name, "a");
  EXPECT_EQ(v[1].name, "b");
}

TEST(Query, BareNameEmptyValueAndEmptyName) {
  auto v = params("a&b=&=c&d==e");
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].name, "a");
  EXPECT_FALSE(v[0].has_value);
  EXPECT_EQ(v[0].value, "");
  EXPECT_EQ(v[1].name, "b");
  EXPECT_TRUE(v[1].has_value);
  EXPECT_EQ(v[1].value, "");
  EXPECT_EQ(v[2].name, "");
  EXPECT_EQ(v[2].value, "c");
  EXPECT_EQ(v[3].name, "d");
  EXPECT_EQ(v[3].value, "=e");  // the name ends at the first '='
}

TEST(Query, SemicolonIsNotASeparator) {
  auto v = params("a=1;b=2");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].value, "1;b=2");
}

TEST(Query, IteratorIsAForwardIterator) {
  QueryParams q("x=1&y=2");
  auto it = q.begin();
  auto copy = it;
  EXPECT_TRUE(it == copy);
  EXPECT_EQ((it++)->name, "x");
  EXPECT_EQ(it->name, "y");
  EXPECT_FALSE(it == copy);
  EXPECT_EQ(copy->name, "x");  // a copy stays where it was
  ++it;
  EXPECT_TRUE(it == q.end());
  EXPECT_EQ(std::distance(q.begin(), q.end()), 2);
}

TEST(Query, DecodesIntoTheCallersBuffer) {
  std::string buf;
  QueryParam p = *QueryParams("n%61me=a%2Fb+c%2b%41").begin();
  ASSERT_TRUE(p.decoded_value(buf));
  EXPECT_EQ(buf, "a/b c+A");
  ASSERT_TRUE(p.decoded_name(buf));  // the buffer's old contents are replaced
  EXPECT_EQ(buf, "name");
  EXPECT_EQ(p.name, "n%61me");  // names match as raw bytes: this is not "name"
}

TEST(Query, MalformedEscapesAreUndecodable) {
  std::string buf;
  for (std::string_view bad : {"v=%", "v=%4", "v=%zz", "v=%4g", "v=a%"}) {
    QueryParam p = *QueryParams(bad).begin();
    EXPECT_FALSE(p.decoded_value(buf)) << bad;
  }
}

TEST(Query, ValueIsTheFirstNamedParamDecoded) {
  EXPECT_EQ(query_value("a=1&b=x%20y&b=2", "b"), "x y");
  EXPECT_EQ(query_value("a=1", "b"), std::nullopt);
  EXPECT_EQ(query_value("", "b"), std::nullopt);
  EXPECT_EQ(query_value("b&b=2", "b"), "");  // a bare name reads as empty
  EXPECT_EQ(query_value("b=&b=2", "b"), "");
  EXPECT_EQ(query_value("bb=1&b=2", "b"), "2");            // whole names only
  EXPECT_EQ(query_value("B=1", "b"), std::nullopt);        // case-sensitive
  EXPECT_EQ(query_value("b=%zz&b=2", "b"), std::nullopt);  // malformed: as if absent
  EXPECT_EQ(query_value("=v", ""), "v");
}

TEST(Query, WithoutDropsNamedAndEmptyPairsKeepsTheRestAsSent) {
  EXPECT_EQ(query_without("a=1&token=x&b=%2F+&token&c", {"token"}), "a=1&b=%2F+&c");
  EXPECT_EQ(query_without("&&a=1&&", {}), "a=1");
  EXPECT_EQ(query_without("token=1", {"token"}), "");
  EXPECT_EQ(query_without("b=2&a=1", {"x", "y"}), "b=2&a=1");
  EXPECT_EQ(query_without("tokens=1&Token=2", {"token"}), "tokens=1&Token=2");
  // An empty name in the list matches nothing, not the "=v" pair.
  EXPECT_EQ(query_without("=v&t=1", {"", "t"}), "=v");
}

}  // namespace
}  // namespace cdn::http
