#include "common/cache/vary.h"

#include <gtest/gtest.h>

namespace cdn::cache {
namespace {

struct F {
  std::string name, value;
};

std::string id(std::string_view names, std::vector<F> fields) {
  return variant_id(names, fields_of(fields));
}

TEST(Vary, NamesAreLowerCaseSortedUniqueAcrossLines) {
  EXPECT_EQ(vary_names({{"Vary", "Accept-Language, accept-encoding"}, {"vary", "Accept-Language"}}),
            "accept-encoding,accept-language");
  EXPECT_EQ(vary_names({{"Cache-Control", "max-age=1"}}), "");
  // only tokens name fields: a control character cannot reach the key's structure
  EXPECT_EQ(vary_names({{"Vary", "a b, \x1fx, ok"}}), "ok");
}

TEST(Vary, AcceptEncodingIsComparedAsTheSetOfCodingsAccepted) {
  EXPECT_EQ(id("accept-encoding", {{"Accept-Encoding", "gzip, br"}}),
            id("accept-encoding", {{"accept-encoding", "BR,gzip;q=1"}}));
  EXPECT_EQ(id("accept-encoding", {{"Accept-Encoding", "gzip, br;q=0"}}),
            id("accept-encoding", {{"Accept-Encoding", "gzip"}}));
  EXPECT_NE(id("accept-encoding", {{"Accept-Encoding", "gzip"}}), id("accept-encoding", {}));
}

TEST(Vary, OtherFieldsKeepTheirValuesButNotListWhitespace) {
  EXPECT_EQ(id("accept-language", {{"Accept-Language", "en, fr"}}),
            id("accept-language", {{"Accept-Language", "en,fr"}}));
  EXPECT_NE(id("accept-language", {{"Accept-Language", "en"}}),
            id("accept-language", {{"Accept-Language", "EN"}}));
  // an absent field differs from one present (RFC 9111 §4.1)
  EXPECT_NE(id("accept-language", {}), id("accept-language", {{"Accept-Language", "en"}}));
  // two names: a value cannot run into the next one
  EXPECT_NE(id("a,b", {{"a", "x"}, {"b", ""}}), id("a,b", {{"a", ""}, {"b", "x"}}));
}

TEST(Vary, VariantKeysShareTheUrlPrefixAndMatchTheirRequests) {
  CacheKey url{"h/p", hash64("h/p")};
  CacheKey k =
      variant_key(url, "accept-language", id("accept-language", {{"Accept-Language", "en"}}));
  EXPECT_EQ(k.text.rfind(url.text + kVariantSeparator, 0), 0u);
  std::vector<F> en{{"Accept-Language", "en"}}, fr{{"Accept-Language", "fr"}};
  EXPECT_TRUE(variant_matches(k.text, fields_of(en)));
  EXPECT_FALSE(variant_matches(k.text, fields_of(fr)));
  EXPECT_TRUE(variant_matches(url.text, fields_of(fr)));  // not a variant
}

TEST(Vary, TheIndexRoundTripsItsNamesAndVariants) {
  auto idx = make_vary_index("h/p", "accept-language", {"en", "fr", ""}, 60, 1000);
  EXPECT_TRUE(is_vary_index(idx->meta));
  EXPECT_EQ(index_names(idx->meta), "accept-language");
  EXPECT_EQ(index_variants(idx->meta), (std::vector<std::string>{"en", "fr", ""}));
  EXPECT_EQ(index_variants(make_vary_index("h/p", "a", {""}, 60, 1000)->meta),
            std::vector<std::string>{""});
  ObjectMeta plain;
  EXPECT_FALSE(is_vary_index(plain));
}

}  // namespace
}  // namespace cdn::cache
