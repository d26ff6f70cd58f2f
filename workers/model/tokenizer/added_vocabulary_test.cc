#include "workers/model/tokenizer/added_vocabulary.h"

#include <gtest/gtest.h>

#include "workers/model/tokenizer/word_level_model.h"

namespace cluedrop::model::tokenizer {
namespace {

struct Piece {
  std::string text;
  std::optional<int32_t> id;
  bool operator==(const Piece&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Piece& p) {
  return os << "{'" << p.text << "', " << (p.id ? std::to_string(*p.id) : "-") << "}";
}
using Pieces = std::vector<Piece>;

class AddedVocabularyTest : public ::testing::Test {
 protected:
  AddedVocabularyTest() : model_(Vocab(), "<unk>") {}
  void Add(AddedToken token) { vocab_.Add(token, model_); }
  Pieces Extract(const Normalizer* normalizer, const std::string& text) {
    EXPECT_TRUE(vocab_.Build(normalizer, model_).ok());
    auto pretokenized = vocab_.ExtractAndNormalize(normalizer, text);
    EXPECT_TRUE(pretokenized.ok());
    Pieces out;
    for (const Split& s : pretokenized->splits()) {
      out.push_back({s.normalized.get(),
                     s.tokens ? std::optional<int32_t>((*s.tokens)[0].id) : std::nullopt});
    }
    return out;
  }
  WordLevelModel model_;
  AddedVocabulary vocab_;
};

TEST_F(AddedVocabularyTest, ExtractsSpecialAndNormalTokens) {
  Add({"my", false, false, false, false, false});
  Add({"name", false, false, false, false, false});
  Add({"[CLS]", false, false, false, false, true});
  Add({"[SEP]", false, false, false, false, true});
  EXPECT_EQ(Extract(nullptr, "[CLS] My name is Anthony [SEP]"),
            (Pieces{{"[CLS]", 2}, {" My ", {}}, {"name", 1}, {" is Anthony ", {}}, {"[SEP]", 3}}));
  EXPECT_EQ(vocab_.TokenToId("[SEP]"), 3);
  EXPECT_TRUE(vocab_.IsSpecialId(2));
  EXPECT_FALSE(vocab_.IsSpecialId(1));
}

TEST_F(AddedVocabularyTest, StripAndSingleWordOptions) {
  Add({"my", false, true, true, false, false});    // lstrip + rstrip
  Add({"ony", true, false, false, false, false});  // single_word
  Add({"<mask>", true, true, true, false, true});
  EXPECT_EQ(Extract(nullptr, "Hi my  friend Tony ony <mask>\t<mask>\u2000"),
            (Pieces{{"Hi", {}},
                    {" my  ", 0},
                    {"friend Tony ", {}},
                    {"ony", 1},
                    {" <mask>\t", 2},
                    {"<mask>\u2000", 2}}));
}

TEST_F(AddedVocabularyTest, LongestMatchWins) {
  Add({"<a>", false, false, false, false, true});
  Add({"<a><b>", false, false, false, false, true});
  EXPECT_EQ(Extract(nullptr, "x<a><b><a>"), (Pieces{{"x", {}}, {"<a><b>", 1}, {"<a>", 0}}));
}

TEST_F(AddedVocabularyTest, NormalizedTokensMatchTheNormalizedText) {
  Add({"\u2581hey", false, false, false, true, false});
  PrependNormalizer prepend("\u2581");
  // Like tokenizers, the pattern itself is normalized ("▁▁hey").
  EXPECT_EQ(Extract(&prepend, "hey"), (Pieces{{"\u2581hey", {}}}));
  EXPECT_EQ(Extract(&prepend, "\u2581hey"), (Pieces{{"\u2581\u2581hey", 0}}));
}

TEST_F(AddedVocabularyTest, IdsContinueAfterTheModelVocabulary) {
  auto model = WordLevelModel::FromJson(Json::parse(R"({"vocab": {"a": 0, "b": 1, "<s>": 2}})"),
                                        JsonPath("t.json", "model"));
  ASSERT_TRUE(model.ok());
  AddedVocabulary vocab;
  EXPECT_EQ(vocab.Add({"<s>", false, false, false, false, true}, **model), 2);
  EXPECT_EQ(vocab.Add({"<x>", false, false, false, false, true}, **model), 3);
  EXPECT_EQ(vocab.Add({"<y>", false, false, false, false, false}, **model), 4);
  EXPECT_EQ(vocab.Add({"<y>", false, false, false, false, false}, **model), std::nullopt);
  EXPECT_EQ(vocab.Add({"", false, false, false, false, true}, **model), std::nullopt);
}

}  // namespace
}  // namespace cluedrop::model::tokenizer
