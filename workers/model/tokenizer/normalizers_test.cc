#include "workers/model/tokenizer/normalizers.h"

#include <gtest/gtest.h>

namespace cluedrop::model::tokenizer {
namespace {

std::string Normalize(const std::string& json, const std::string& text) {
  auto normalizer = NormalizerFromJson(Json::parse(json), JsonPath("t.json", "normalizer"));
  EXPECT_TRUE(normalizer.ok()) << normalizer.status();
  if (!normalizer.ok()) return "";
  NormalizedString s(text);
  EXPECT_TRUE((*normalizer)->Normalize(&s).ok());
  return s.get();
}

TEST(TokenizerNormalizersTest, Llama2Sequence) {
  const std::string json = R"({"type": "Sequence", "normalizers": [
      {"type": "Prepend", "prepend": "▁"},
      {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]})";
  EXPECT_EQ(Normalize(json, "Hello  world"), "▁Hello▁▁world");
  EXPECT_EQ(Normalize(json, ""), "");
}

TEST(TokenizerNormalizersTest, ReplaceWithRegexAndStrip) {
  EXPECT_EQ(Normalize(R"({"type": "Replace", "pattern": {"Regex": "\\d+"}, "content": "#"})",
                      "a1b22c333"),
            "a#b#c#");
  EXPECT_EQ(Normalize(R"({"type": "Strip", "strip_left": false, "strip_right": true})", "  x  "),
            "  x");
}

#ifdef CLUEDROP_TOKENIZER_HAVE_ICU
TEST(TokenizerNormalizersTest, UnicodeForms) {
  EXPECT_EQ(Normalize(R"({"type": "NFC"})", "e\u0301"), "\u00e9");
  EXPECT_EQ(Normalize(R"({"type": "NFD"})", "\u00e9"), "e\u0301");
  EXPECT_EQ(Normalize(R"({"type": "NFKC"})", "\ufb01\u2460"), "fi1");
  EXPECT_EQ(Normalize(R"({"type": "Lowercase"})", "ÀB\u0130"), "àbi\u0307");
}
#endif

TEST(TokenizerNormalizersTest, NullIsNoNormalizer) {
  auto normalizer = NormalizerFromJson(Json(nullptr), JsonPath("t.json", "normalizer"));
  ASSERT_TRUE(normalizer.ok());
  EXPECT_EQ(*normalizer, nullptr);
}

TEST(TokenizerNormalizersTest, ErrorsNameTheJsonPath) {
  auto bad = NormalizerFromJson(
      Json::parse(
          R"({"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Precompiled"}]})"),
      JsonPath("tokenizer.json", "normalizer"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
#ifdef CLUEDROP_TOKENIZER_HAVE_ICU
  EXPECT_EQ(bad.status().message(),
            "tokenizer.json: normalizer.normalizers[1].type: unsupported 'Precompiled'");
#endif
  auto no_pattern = NormalizerFromJson(Json::parse(R"({"type": "Replace", "content": "x"})"),
                                       JsonPath("tokenizer.json", "normalizer"));
  ASSERT_FALSE(no_pattern.ok());
  EXPECT_EQ(no_pattern.status().message(), "tokenizer.json: normalizer.pattern: missing");
  auto wrong_type = NormalizerFromJson(Json::parse(R"({"type": "Prepend", "prepend": 3})"),
                                       JsonPath("tokenizer.json", "normalizer"));
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.status().message(),
            "tokenizer.json: normalizer.prepend: expected a string, got number");
}

}  // namespace
}  // namespace cluedrop::model::tokenizer
