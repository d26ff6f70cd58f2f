#include "workers/model/tokenizer/bpe_model.h"

#include <gtest/gtest.h>

namespace cluedrop::model::tokenizer {
namespace {

struct Tok {
  std::string value;
  size_t begin;
  size_t end;
  bool operator==(const Tok&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Tok& t) {
  return os << "{" << t.value << " " << t.begin << "-" << t.end << "}";
}

std::unique_ptr<BpeModel> Model(const std::string& json) {
  auto model = BpeModel::FromJson(Json::parse(json), JsonPath("t.json", "model"));
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? std::move(model).value() : nullptr;
}

std::vector<Tok> Tokenize(const BpeModel& model, const std::string& word) {
  auto tokens = model.Tokenize(word);
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  std::vector<Tok> out;
  if (tokens.ok()) {
    for (const Token& t : *tokens) out.push_back({t.value, t.begin, t.end});
  }
  return out;
}

using Toks = std::vector<Tok>;

TEST(TokenizerBpeModelTest, AppliesMergesByRank) {
  // "a b" has a worse rank than "b c", so "abc" -> "a" + "bc".
  auto model = Model(R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4},
                         "merges": ["b c", ["a", "b"]]})");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(Tokenize(*model, "abc"), (Toks{{"a", 0, 1}, {"bc", 1, 3}}));
  EXPECT_EQ(Tokenize(*model, "abab"), (Toks{{"ab", 0, 2}, {"ab", 2, 4}}));
  EXPECT_EQ(Tokenize(*model, ""), Toks{});
}

TEST(TokenizerBpeModelTest, UnknownCharsAreDroppedOrUnk) {
  auto drop = Model(R"({"type": "BPE", "vocab": {"a": 0}, "merges": []})");
  // Like tokenizers, offsets are cumulative over the kept chars.
  EXPECT_EQ(Tokenize(*drop, "xa"), (Toks{{"a", 0, 1}}));
  auto fused = Model(R"({"type": "BPE", "vocab": {"<unk>": 0, "a": 1}, "merges": [],
                         "unk_token": "<unk>", "fuse_unk": true})");
  EXPECT_EQ(Tokenize(*fused, "xya\u00e9"), (Toks{{"<unk>", 0, 2}, {"a", 2, 3}, {"<unk>", 3, 5}}));
  auto unfused = Model(R"({"type": "BPE", "vocab": {"<unk>": 0, "a": 1}, "merges": [],
                           "unk_token": "<unk>"})");
  EXPECT_EQ(Tokenize(*unfused, "xy"), (Toks{{"<unk>", 0, 1}, {"<unk>", 1, 2}}));
  auto missing = Model(R"({"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "<unk>"})");
  auto result = missing->Tokenize("x");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
}

TEST(TokenizerBpeModelTest, ByteFallback) {
  auto model = Model(R"({"type": "BPE", "vocab": {"<unk>": 0, "<0xC3>": 1, "<0xA9>": 2, "a": 3,
                         "<0xE2>": 4}, "merges": [], "unk_token": "<unk>", "byte_fallback": true})");
  EXPECT_EQ(Tokenize(*model, "a\u00e9"), (Toks{{"a", 0, 1}, {"<0xC3>", 1, 2}, {"<0xA9>", 2, 3}}));
  // A missing byte token makes the whole char unk.
  EXPECT_EQ(Tokenize(*model, "\u20ac"), (Toks{{"<unk>", 0, 3}}));
}

TEST(TokenizerBpeModelTest, IgnoreMergesTakesWholeWords) {
  const std::string vocab = R"("vocab": {"h": 0, "e": 1, "y": 2, "he": 3, "hey": 4, "ey": 5})";
  auto with =
      Model(R"({"type": "BPE", )" + vocab + R"(, "merges": ["e y"], "ignore_merges": true})");
  EXPECT_EQ(Tokenize(*with, "hey"), (Toks{{"hey", 0, 3}}));
  auto without = Model(R"({"type": "BPE", )" + vocab + R"(, "merges": ["e y"]})");
  EXPECT_EQ(Tokenize(*without, "hey"), (Toks{{"h", 0, 1}, {"ey", 1, 3}}));
}

TEST(TokenizerBpeModelTest, SubwordPrefixAndSuffix) {
  auto model = Model(R"({"type": "BPE", "vocab": {"a": 0, "##b": 1, "##c</w>": 2, "ab": 3,
                         "abc</w>": 4}, "merges": ["a ##b", "ab ##c</w>"],
                         "continuing_subword_prefix": "##", "end_of_word_suffix": "</w>"})");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(Tokenize(*model, "abc"), (Toks{{"abc</w>", 0, 3}}));
}

TEST(TokenizerBpeModelTest, BadMergesAreInvalidArgument) {
  const auto error = [](const std::string& json) {
    auto model = BpeModel::FromJson(Json::parse(json), JsonPath("tokenizer.json", "model"));
    EXPECT_FALSE(model.ok());
    return model.ok() ? std::string() : model.status().message();
  };
  EXPECT_EQ(error(R"({"vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "a c"]})"),
            "tokenizer.json: model.merges[1]: token 'c' is not in the vocabulary");
  EXPECT_EQ(error(R"({"vocab": {"a": 0, "b": 1}, "merges": ["a b"]})"),
            "tokenizer.json: model.merges[0]: merged token 'ab' is not in the vocabulary");
  EXPECT_EQ(
      error(R"({"vocab": {"a": 0}, "merges": ["a b c"]})"),
      "tokenizer.json: model.merges[0]: expected \"a b\" (two tokens, one space), got 'a b c'");
  EXPECT_EQ(error(R"({"vocab": {"a": -1}, "merges": []})"),
            "tokenizer.json: model.vocab.a: -1 is out of range [0, 2147483647]");
  EXPECT_EQ(error(R"({"vocab": [], "merges": []})"),
            "tokenizer.json: model.vocab: expected an object, got array");
  EXPECT_EQ(error(R"({"vocab": {}, "merges": [3]})"),
            "tokenizer.json: model.merges[0]: expected \"a b\" or [\"a\", \"b\"], got number");
}

}  // namespace
}  // namespace cluedrop::model::tokenizer
