#include "workers/model/tokenizer/pre_tokenizers.h"

#include <gtest/gtest.h>

namespace cluedrop::model::tokenizer {
namespace {

struct Piece {
  std::string text;
  Offsets original;
  bool operator==(const Piece&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Piece& p) {
  return os << "{" << p.text << ", " << p.original.first << "-" << p.original.second << "}";
}

std::vector<Piece> PreTokenize(const std::string& json, const std::string& text) {
  auto pre = PreTokenizerFromJson(Json::parse(json), JsonPath("t.json", "pre_tokenizer"));
  EXPECT_TRUE(pre.ok()) << pre.status();
  PreTokenizedString s(text);
  if (!pre.ok()) return {};
  EXPECT_TRUE((*pre)->PreTokenize(&s).ok());
  std::vector<Piece> out;
  for (const Split& split : s.splits()) {
    const NormalizedString& n = split.normalized;
    out.push_back({n.get(), {n.original_shift(), n.original_shift() + n.original_len()}});
  }
  return out;
}

using Pieces = std::vector<Piece>;

TEST(TokenizerPreTokenizersTest, ByteLevelWithGpt2Regex) {
  EXPECT_EQ(
      PreTokenize(R"({"type": "ByteLevel", "add_prefix_space": false})", "Hello my friend, how?\n"),
      (Pieces{{"Hello", {0, 5}},
              {"Ġmy", {5, 8}},
              {"Ġfriend", {8, 15}},
              {",", {15, 16}},
              {"Ġhow", {16, 20}},
              {"?", {20, 21}},
              {"Ċ", {21, 22}}}));
  // A char split into bytes keeps the whole char as its original span.
  EXPECT_EQ(PreTokenize(R"({"type": "ByteLevel", "add_prefix_space": false})", "i⭢j"),
            (Pieces{{"i", {0, 1}}, {"âŃ¢", {1, 4}}, {"j", {4, 5}}}));
  EXPECT_EQ(PreTokenize(R"({"type": "ByteLevel", "add_prefix_space": true, "use_regex": false})",
                        "Hi you"),
            (Pieces{{"ĠHiĠyou", {0, 6}}}));
}

TEST(TokenizerPreTokenizersTest, Metaspace) {
  EXPECT_EQ(PreTokenize(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"})",
                        "Hey   friend!"),
            (Pieces{{"▁Hey", {0, 3}}, {"▁", {3, 4}}, {"▁", {4, 5}}, {"▁friend!", {5, 13}}}));
  EXPECT_EQ(PreTokenize(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never",
                           "split": false})",
                        "a b"),
            (Pieces{{"a▁b", {0, 3}}}));
  // Legacy add_prefix_space=false means "never".
  EXPECT_EQ(
      PreTokenize(R"({"type": "Metaspace", "replacement": "▁", "add_prefix_space": false})", "ab"),
      (Pieces{{"ab", {0, 2}}}));
}

TEST(TokenizerPreTokenizersTest, DigitsWhitespaceAndSplit) {
  EXPECT_EQ(PreTokenize(R"({"type": "Digits", "individual_digits": true})", "a12"),
            (Pieces{{"a", {0, 1}}, {"1", {1, 2}}, {"2", {2, 3}}}));
  EXPECT_EQ(PreTokenize(R"({"type": "Digits", "individual_digits": false})", "a12b"),
            (Pieces{{"a", {0, 1}}, {"12", {1, 3}}, {"b", {3, 4}}}));
  EXPECT_EQ(PreTokenize(R"({"type": "Whitespace"})", "Hey man!"),
            (Pieces{{"Hey", {0, 3}}, {"man", {4, 7}}, {"!", {7, 8}}}));
  EXPECT_EQ(PreTokenize(R"({"type": "WhitespaceSplit"})", "Hey, man!"),
            (Pieces{{"Hey,", {0, 4}}, {"man!", {5, 9}}}));
  EXPECT_EQ(PreTokenize(R"({"type": "Split", "pattern": {"Regex": "\\w+|[^\\w\\s]+"},
                           "behavior": "MergedWithPrevious", "invert": true})",
                        "How are you?"),
            (Pieces{{"How ", {0, 4}}, {"are ", {4, 8}}, {"you", {8, 11}}, {"?", {11, 12}}}));
  EXPECT_EQ(PreTokenize(R"({"type": "Sequence", "pretokenizers": [
                             {"type": "Split", "pattern": {"String": "-"}, "behavior": "Removed"},
                             {"type": "Digits", "individual_digits": true}]})",
                        "a-12"),
            (Pieces{{"a", {0, 1}}, {"1", {2, 3}}, {"2", {3, 4}}}));
}

TEST(TokenizerPreTokenizersTest, ErrorsNameTheJsonPath) {
  auto bad =
      PreTokenizerFromJson(Json::parse(R"({"type": "Sequence", "pretokenizers": [{"type": "Digits"},
                     {"type": "BertPreTokenizer"}]})"),
                           JsonPath("tokenizer.json", "pre_tokenizer"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "tokenizer.json: pre_tokenizer.pretokenizers[1].type: unsupported 'BertPreTokenizer'");
  auto behavior = PreTokenizerFromJson(
      Json::parse(R"({"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways"})"),
      JsonPath("tokenizer.json", "pre_tokenizer"));
  ASSERT_FALSE(behavior.ok());
  EXPECT_EQ(behavior.status().message(),
            "tokenizer.json: pre_tokenizer.behavior: unsupported 'Sideways'");
  auto regex = PreTokenizerFromJson(
      Json::parse(R"({"type": "Split", "pattern": {"Regex": "(a"}, "behavior": "Isolated"})"),
      JsonPath("tokenizer.json", "pre_tokenizer"));
  ASSERT_FALSE(regex.ok());
  EXPECT_NE(regex.status().message().find("pre_tokenizer.pattern.Regex: bad regex '(a'"),
            std::string::npos)
      << regex.status();
  auto replacement =
      PreTokenizerFromJson(Json::parse(R"({"type": "Metaspace", "replacement": "ab"})"),
                           JsonPath("tokenizer.json", "pre_tokenizer"));
  ASSERT_FALSE(replacement.ok());
  EXPECT_EQ(replacement.status().message(),
            "tokenizer.json: pre_tokenizer.replacement: expected a single character, got 'ab'");
}

}  // namespace
}  // namespace cluedrop::model::tokenizer
