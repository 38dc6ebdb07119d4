#include "common/config/reader.h"

#include <gtest/gtest.h>

#include "tests/unit/config/test_util.h"

namespace cdn::config {
namespace {

using testing::lines;

TEST(Reader, ReadsTypedValuesAndReportsUnknownKeys) {
  Diagnostics diag("t.yaml");
  {
    auto root = MapReader::parse(
        "name: a\n"        // 1
        "count: 7\n"       // 2
        "on: yes\n"        // 3
        "wait: 250ms\n"    // 4
        "size: 2MiB\n"     // 5
        "addr: '[::1]:9'\n"  // 6
        "list: [x, y]\n"   // 7
        "sub:\n"           // 8
        "  inner: 1\n"     // 9
        "  innr: 2\n"      // 10
        "countt: 3\n",     // 11
        diag);
    ASSERT_TRUE(root);
    EXPECT_EQ(root->get_string("name"), "a");
    EXPECT_EQ(root->get_int("count", 0, 10), 7);
    EXPECT_EQ(root->get_bool("on"), true);
    EXPECT_EQ(root->get_duration_ms("wait"), 250);
    EXPECT_EQ(root->get_size("size"), 2u << 20);
    EXPECT_EQ(root->get_host_port("addr")->str(), "[::1]:9");
    EXPECT_EQ(root->get_string_list("list"), (std::vector<std::string>{"x", "y"}));
    EXPECT_FALSE(root->get_string("absent"));
    auto sub = root->get_map("sub");
    ASSERT_TRUE(sub);
    EXPECT_EQ(sub->path(), "sub");
    EXPECT_EQ(sub->get_int("inner", 0, 5), 1);
    sub->finish();
    root->finish();
  }
  auto errs = diag.errors();
  ASSERT_EQ(errs.size(), 2u) << diag.error().message;
  EXPECT_EQ(errs[0], "t.yaml:10: sub.innr: unknown key (did you mean \"inner\"?)");
  EXPECT_EQ(errs[1], "t.yaml:11: countt: unknown key (did you mean \"count\"?)");
}

TEST(Reader, CollectsAllErrorsInLineOrder) {
  Diagnostics diag("t.yaml");
  {
    auto root = MapReader::parse(
        "a: x\n"          // 1
        "b: 300\n"        // 2
        "c: [1]\n"        // 3
        "d:\n"            // 4
        "items:\n"        // 5
        "  - k: 1\n"      // 6
        "  - 5\n"         // 7
        "e: maybe\n",     // 8
        diag);
    ASSERT_TRUE(root);
    auto items = root->get_maps("items");
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].path(), "items[0]");
    items[0].get_string(required("name"));
    items[0].get_int("k", 0, 9);
    EXPECT_FALSE(root->get_int("a", 0, 10));
    EXPECT_FALSE(root->get_int("b", 0, 255));
    EXPECT_FALSE(root->get_string("c"));
    EXPECT_FALSE(root->get_string("d"));
    EXPECT_FALSE(root->get_bool("e"));
    root->get_string(required("missing"));
  }
  auto errs = diag.errors();
  ASSERT_EQ(errs.size(), 8u) << diag.error().message;
  EXPECT_EQ(errs[0], "t.yaml:1: a: expected an integer, got \"x\"");
  EXPECT_EQ(errs[1], "t.yaml:1: missing: required key is missing");
  EXPECT_EQ(errs[2], "t.yaml:2: b: value 300 is out of range 0..255");
  EXPECT_EQ(errs[3], "t.yaml:3: c: expected a string, got a list");
  EXPECT_EQ(errs[4], "t.yaml:4: d: has no value");
  EXPECT_EQ(errs[5], "t.yaml:6: items[0].name: required key is missing");
  EXPECT_EQ(errs[6], "t.yaml:7: items[1]: expected a map, got a scalar");
  EXPECT_EQ(errs[7], "t.yaml:8: e: expected true or false, got \"maybe\"");
  EXPECT_EQ(lines(diag.error().message).size(), 8u);
}

TEST(Reader, DestructorReportsUnknownKeysWhenFinishIsForgotten) {
  Diagnostics diag("t.yaml");
  { auto root = MapReader::parse("x: 1\n", diag); }
  ASSERT_EQ(diag.errors().size(), 1u);
  EXPECT_EQ(diag.errors()[0], "t.yaml:1: x: unknown key");
}

TEST(Reader, DuplicateKeys) {
  Diagnostics diag("t.yaml");
  {
    auto root = MapReader::parse("x: 1\ny: 2\nx: 3\n", diag);
    EXPECT_EQ(root->get_int("x", 0, 9), 1);
    root->get_int("y", 0, 9);
  }
  ASSERT_EQ(diag.errors().size(), 1u);
  EXPECT_EQ(diag.errors()[0], "t.yaml:3: x: duplicate key");
}

TEST(Reader, DocumentLevelErrors) {
  struct Case {
    const char* yaml;
    const char* error;
  } cases[] = {
      {"", "t.yaml: empty config"},
      {"# only a comment\n", "t.yaml: empty config"},
      {"- a\n- b\n", "t.yaml:1: top level must be a map of keys, got a list"},
      {"a: 1\n---\nb: 2\n", "t.yaml:2: more than one YAML document; expected one"},
      {"a: [1, 2\nb: 3\n", "t.yaml:"},  // syntax error, line reported by yaml-cpp
      {"a: 1\n  b: 2\n", "t.yaml:2: YAML syntax error"},
      // yaml-cpp 0.7's LoadAll never returns on these (jbeder/yaml-cpp#1040).
      {" ,=\n", "t.yaml: empty config"},
      {"a: 1\n,\n", "t.yaml:"},
  };
  for (const auto& c : cases) {
    Diagnostics diag("t.yaml");
    EXPECT_FALSE(MapReader::parse(c.yaml, diag)) << c.yaml;
    ASSERT_EQ(diag.errors().size(), 1u) << c.yaml;
    EXPECT_EQ(diag.errors()[0].rfind(c.error, 0), 0u) << diag.errors()[0];
  }
}

TEST(Reader, EnumsListsAndCrossFieldErrors) {
  Diagnostics diag("t.yaml");
  {
    auto root = MapReader::parse("mode: fast\nparams: {a: 1}\nnone:\nport: 1\n", diag);
    EXPECT_FALSE(root->get_enum("mode", {"slow", "medium"}));
    EXPECT_FALSE(root->get_string_list("params"));
    EXPECT_EQ(root->get_string_list("none"), std::vector<std::string>{});
    root->get_int("port", 0, 9);
    root->error("port", "conflicts with something");
    root->error("whole map problem");
  }
  auto errs = diag.errors();
  ASSERT_EQ(errs.size(), 4u) << diag.error().message;
  EXPECT_EQ(errs[0], "t.yaml:1: mode: expected one of slow | medium, got \"fast\"");
  EXPECT_EQ(errs[1], "t.yaml:1: config: whole map problem");
  EXPECT_EQ(errs[2], "t.yaml:2: params: expected a list, got a map");
  EXPECT_EQ(errs[3], "t.yaml:4: port: conflicts with something");
}

TEST(Reader, SetOnlyAssignsPresentValues) {
  int x = 5;
  set(x, std::optional<int64_t>());
  EXPECT_EQ(x, 5);
  set(x, std::optional<int64_t>(7));
  EXPECT_EQ(x, 7);
}

TEST(Reader, ReadFile) {
  EXPECT_FALSE(read_file("/nonexistent/file.yaml").ok());
  EXPECT_NE(read_file("/nonexistent/file.yaml").error().message.find("/nonexistent/file.yaml"),
            std::string::npos);
  testing::TempDir dir;
  auto r = read_file(dir.path() + "/cert.pem");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "cert");
  EXPECT_FALSE(read_file(dir.path()).ok());  // a directory
}

}  // namespace
}  // namespace cdn::config
