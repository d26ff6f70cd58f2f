#include "workers/model/tokenizer/normalized_string.h"

#include <gtest/gtest.h>

#include "workers/model/tokenizer/pattern.h"

namespace cluedrop::model::tokenizer {
namespace {

std::vector<std::string> Texts(const std::vector<NormalizedString>& pieces) {
  std::vector<std::string> out;
  for (const auto& p : pieces) out.push_back(p.get());
  return out;
}

// Original spans (absolute) of each piece.
std::vector<Offsets> Spans(const std::vector<NormalizedString>& pieces) {
  std::vector<Offsets> out;
  for (const auto& p : pieces)
    out.emplace_back(p.original_shift(), p.original_shift() + p.original_len());
  return out;
}

TEST(TokenizerNormalizedStringTest, AlignsEveryByteToItsChar) {
  NormalizedString s("a\u00e9b");
  EXPECT_EQ(s.alignments(), (std::vector<Offsets>{{0, 1}, {1, 3}, {1, 3}, {3, 4}}));
  EXPECT_EQ(s.NormalizedToOriginal(1, 3), Offsets(1, 3));
  EXPECT_EQ(s.NormalizedToOriginal(2, 2), Offsets(2, 2));  // empty ranges come back as is
  EXPECT_FALSE(s.NormalizedToOriginal(0, 9).has_value());
}

TEST(TokenizerNormalizedStringTest, PrependSharesTheFirstCharAlignment) {
  NormalizedString s("Hey");
  s.Prepend("\u2581");
  EXPECT_EQ(s.get(), "\u2581Hey");
  EXPECT_EQ(s.NormalizedToOriginal(0, 4), Offsets(0, 1));
  NormalizedString empty("");
  empty.Prepend("x");
  EXPECT_EQ(empty.get(), "");
}

TEST(TokenizerNormalizedStringTest, ReplaceAlignsToTheReplacedText) {
  NormalizedString s("a b  c");
  CharPredicatePattern space([](char32_t c) { return c == U' '; });
  ASSERT_TRUE(s.Replace(space, "\u2581").ok());
  EXPECT_EQ(s.get(), "a\u2581b\u2581\u2581c");
  EXPECT_EQ(s.NormalizedToOriginal(1, 4), Offsets(1, 2));
  EXPECT_EQ(s.NormalizedToOriginal(5, 11), Offsets(3, 5));
}

TEST(TokenizerNormalizedStringTest, SplitBehaviors) {
  NormalizedString s("the-final--countdown");
  CharPredicatePattern dash([](char32_t c) { return c == U'-'; });
  const auto split = [&](SplitBehavior b) {
    auto pieces = s.Split(dash, b);
    EXPECT_TRUE(pieces.ok());
    return Texts(*pieces);
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(split(SplitBehavior::kRemoved), (V{"the", "final", "countdown"}));
  EXPECT_EQ(split(SplitBehavior::kIsolated), (V{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split(SplitBehavior::kMergedWithPrevious), (V{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split(SplitBehavior::kMergedWithNext), (V{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split(SplitBehavior::kContiguous), (V{"the", "-", "final", "--", "countdown"}));
  auto pieces = s.Split(dash, SplitBehavior::kRemoved);
  ASSERT_TRUE(pieces.ok());
  EXPECT_EQ(Spans(*pieces), (std::vector<Offsets>{{0, 3}, {4, 9}, {11, 20}}));
}

TEST(TokenizerNormalizedStringTest, SlicesKeepAbsoluteOffsets) {
  NormalizedString s("hello world");
  auto tail = s.Slice(6, 11);
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(tail->get(), "world");
  EXPECT_EQ(tail->original_shift(), 6u);
  auto sub = tail->Slice(1, 3);
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(sub->original_shift(), 7u);
  EXPECT_FALSE(NormalizedString("\u00e9").Slice(0, 1).has_value());  // not a char boundary
}

TEST(TokenizerNormalizedStringTest, TransformTracksInsertionsAndRemovals) {
  NormalizedString s("abc");
  // 'a' -> "xy" (x replaces a, y inserted), 'b' replaced by 'z' which also absorbs 'c'.
  s.Transform({{U'x', 0}, {U'y', 1}, {U'z', -1}}, 0);
  EXPECT_EQ(s.get(), "xyz");
  EXPECT_EQ(s.alignments(), (std::vector<Offsets>{{0, 1}, {0, 1}, {1, 2}}));
}

TEST(TokenizerNormalizedStringTest, StripKeepsAlignments) {
  NormalizedString s("  caf\u00e9 \t");
  s.Strip(true, true);
  EXPECT_EQ(s.get(), "caf\u00e9");
  EXPECT_EQ(s.NormalizedToOriginal(0, s.size()), Offsets(2, 7));
  NormalizedString blank(" \n ");
  blank.Strip(true, true);
  EXPECT_EQ(blank.get(), "");
}

#ifdef CLUEDROP_TOKENIZER_HAVE_ICU
TEST(TokenizerNormalizedStringTest, NfcComposesLikeTokenizers) {
  // e + U+0301 -> é aligned to the 'e' only (tokenizers' quirk).
  NormalizedString s("e\u0301x");
  ASSERT_TRUE(s.Normalize(NormalizationForm::kNfc).ok());
  EXPECT_EQ(s.get(), "\u00e9x");
  EXPECT_EQ(s.NormalizedToOriginal(0, 2), Offsets(0, 1));
  EXPECT_EQ(s.NormalizedToOriginal(2, 3), Offsets(3, 4));
  // Canonical reordering, then composition: a + U+0301 + U+0323 -> ạ + U+0301.
  NormalizedString r("a\u0301\u0323");
  ASSERT_TRUE(r.Normalize(NormalizationForm::kNfc).ok());
  EXPECT_EQ(r.get(), "\u1ea1\u0301");
  // Composition exclusions decompose: U+0958 -> U+0915 U+093C, both on the original char.
  NormalizedString k("\u0958");
  ASSERT_TRUE(k.Normalize(NormalizationForm::kNfc).ok());
  EXPECT_EQ(k.get(), "\u0915\u093c");
  EXPECT_EQ(k.NormalizedToOriginal(3, 6), Offsets(0, 3));
}

TEST(TokenizerNormalizedStringTest, LowercaseUsesFullMappings) {
  NormalizedString s("\u0130X\u03a3");
  ASSERT_TRUE(s.Lowercase().ok());
  EXPECT_EQ(s.get(), "i\u0307x\u03c3");
  EXPECT_EQ(s.NormalizedToOriginal(0, 3), Offsets(0, 2));
}
#endif

}  // namespace
}  // namespace cluedrop::model::tokenizer
