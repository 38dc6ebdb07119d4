// ServiceTable: which delivery service a request's host selects.
#include "common/proxy/service_table.h"

#include <gtest/gtest.h>

namespace cdn::proxy {
namespace {

std::unique_ptr<Service> service(std::string name, std::vector<std::string> hosts) {
  auto s = std::make_unique<Service>();
  s->name = std::move(name);
  s->label = s->name;
  s->hosts = std::move(hosts);
  return s;
}

ServiceTable table(std::string_view fallback) {
  std::vector<std::unique_ptr<Service>> v;
  v.push_back(service("exact", {"a.example.com", "127.0.0.1", "[::1]"}));
  v.push_back(service("wide", {"*.example.com"}));
  v.push_back(service("narrow", {"*.b.example.com"}));
  return ServiceTable(std::move(v), fallback);
}

std::string name_of(const Service* s) {
  return s ? s->name : "<none>";
}

TEST(ServiceTable, ExactBeforeWildcardAndLongestWildcardFirst) {
  ServiceTable t = table("");
  EXPECT_EQ(name_of(t.find("a.example.com")), "exact");
  EXPECT_EQ(name_of(t.find("127.0.0.1")), "exact");
  EXPECT_EQ(name_of(t.find("[::1]")), "exact");
  EXPECT_EQ(name_of(t.find("c.example.com")), "wide");
  EXPECT_EQ(name_of(t.find("x.a.example.com")), "wide");
  EXPECT_EQ(name_of(t.find("x.b.example.com")), "narrow");
  EXPECT_EQ(name_of(t.find("y.x.b.example.com")), "narrow");
  // A wildcard needs a label in front of its suffix.
  EXPECT_EQ(name_of(t.find("example.com")), "<none>");
  EXPECT_EQ(name_of(t.find(".example.com")), "<none>");
  EXPECT_EQ(name_of(t.find("other.org")), "<none>");
  EXPECT_EQ(name_of(t.find("")), "<none>");
  EXPECT_FALSE(t.implicit());
}

TEST(ServiceTable, FallbackTakesUnlistedHosts) {
  ServiceTable t = table("narrow");
  EXPECT_EQ(name_of(t.find("other.org")), "narrow");
  EXPECT_EQ(name_of(t.find("a.example.com")), "exact");
  EXPECT_EQ(name_of(t.by_name("wide")), "wide");
  EXPECT_EQ(t.by_name("nope"), nullptr);
}

TEST(ServiceTable, TheImplicitServiceTakesEveryHost) {
  std::vector<std::unique_ptr<Service>> v;
  v.push_back(std::make_unique<Service>());
  v.back()->name = "default";
  ServiceTable t(std::move(v), "default");
  EXPECT_TRUE(t.implicit());
  EXPECT_EQ(name_of(t.find("anything.example")), "default");
  EXPECT_EQ(name_of(t.find("")), "default");
}

}  // namespace
}  // namespace cdn::proxy
