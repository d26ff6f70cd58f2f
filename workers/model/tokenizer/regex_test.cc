#include "workers/model/tokenizer/regex.h"

#include <gtest/gtest.h>

#include "workers/model/tokenizer/pre_tokenizers.h"

namespace cluedrop::model::tokenizer {
namespace {

using Spans = std::vector<std::pair<size_t, size_t>>;

std::vector<std::string> Pieces(const Regex& regex, std::string_view text) {
  auto matches = regex.FindAll(text);
  EXPECT_TRUE(matches.ok()) << matches.status();
  std::vector<std::string> out;
  for (auto [b, e] : *matches) out.emplace_back(text.substr(b, e - b));
  return out;
}

TEST(TokenizerRegexTest, RewritesOnigurumaClasses) {
  EXPECT_EQ(OnigToPcre2(R"(\s+)"), R"([\p{White_Space}]+)");
  EXPECT_EQ(OnigToPcre2(R"([^\s\p{L}])"), R"([^\p{White_Space}\p{L}])");
  EXPECT_EQ(OnigToPcre2(R"(\S)"), R"(\P{White_Space})");
  EXPECT_EQ(OnigToPcre2(R"(\\s)"), R"(\\s)");  // an escaped backslash, then 's'
  EXPECT_EQ(OnigToPcre2(R"([]\s])"), R"([]\p{White_Space}])");
}

TEST(TokenizerRegexTest, Gpt2PatternSplitsLikeTokenizers) {
  auto regex = Regex::Compile(ByteLevelPreTokenizer::kGpt2Pattern);
  ASSERT_TRUE(regex.ok()) << regex.status();
  EXPECT_EQ(Pieces(**regex, "Hello world's  test 123!!\n"),
            (std::vector<std::string>{"Hello", " world", "'s", " ", " test", " 123", "!!", "\n"}));
  // \s is Unicode White_Space: U+0085 yes, U+180E (no longer a space) no.
  EXPECT_EQ(Pieces(**regex, "a\u0085b\u180ec"),
            (std::vector<std::string>{"a", "\u0085", "b", "\u180e", "c"}));
}

TEST(TokenizerRegexTest, CaseInsensitiveGroupAndLookahead) {
  auto regex = Regex::Compile(R"((?i:'s|'ll)|\p{L}+|\s+(?!\S)|\s+)");
  ASSERT_TRUE(regex.ok()) << regex.status();
  EXPECT_EQ(Pieces(**regex, "IT'S SHE'LL   go"),
            (std::vector<std::string>{"IT", "'S", " ", "SHE", "'LL", "  ", " ", "go"}));
}

TEST(TokenizerRegexTest, EmptyMatchesFollowOnigIteration) {
  auto regex = Regex::Compile("a*");
  ASSERT_TRUE(regex.ok());
  auto matches = (*regex)->FindAll("baab");
  ASSERT_TRUE(matches.ok());
  EXPECT_EQ(*matches, (Spans{{0, 0}, {1, 3}, {4, 4}}));
}

TEST(TokenizerRegexTest, LiteralsMatchThemselves) {
  auto regex = Regex::Literal("a.b(\\)\n");
  ASSERT_TRUE(regex.ok()) << regex.status();
  auto matches = (*regex)->FindAll("axb(\\)\n a.b(\\)\n");
  ASSERT_TRUE(matches.ok());
  EXPECT_EQ(*matches, (Spans{{8, 15}}));
}

TEST(TokenizerRegexTest, BadPatternsAreInvalidArgument) {
  auto regex = Regex::Compile("(unclosed");
  ASSERT_FALSE(regex.ok());
  EXPECT_EQ(regex.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(regex.status().message().find("(unclosed"), std::string::npos);
}

TEST(TokenizerRegexTest, InvalidSubjectIsAnError) {
  auto regex = Regex::Compile("a");
  ASSERT_TRUE(regex.ok());
  EXPECT_FALSE((*regex)->FindAll("a\xFF").ok());
}

TEST(TokenizerRegexTest, WordCharsAreUnicodeWordChars) {
  for (char32_t c :
       {U'a', U'Z', U'7', U'_', U'\u00e9', U'\u093f', U'\u200d', U'\u0663', U'\u65e5'}) {
    EXPECT_TRUE(IsWordChar(c)) << static_cast<uint32_t>(c);
  }
  for (char32_t c : {U'-', U' ', U'!', U'\u00b2', U'\U0001F600'}) {
    EXPECT_FALSE(IsWordChar(c)) << static_cast<uint32_t>(c);
  }
}

}  // namespace
}  // namespace cluedrop::model::tokenizer
