#include "workers/trainer/span_edit.h"

#include <gtest/gtest.h>

#include <vector>

namespace cluedrop {
namespace {

using Spans = std::vector<std::pair<size_t, size_t>>;

TEST(SpanEditTest, BlankKeepsEveryOtherByteAndTheLengthOfAsciiText) {
  const Spans spans = {{5, 8}, {13, 14}};
  EXPECT_EQ(BlankSpans("Liam was born.", spans), "Liam     born ");
  EXPECT_EQ(BlankSpans("Liam was born.", {}), "Liam was born.");
}

TEST(SpanEditTest, BlankTurnsEachTouchedCharacterIntoOneSpace) {
  // "São" = S, 0xC3 0xA3, o: the two-byte character becomes one space, as
  // Python's text[:s] + ' ' * (e - s) + text[e:] does with character offsets.
  EXPECT_EQ(BlankSpans("S\xC3\xA3o Paulo", Spans{{1, 3}}), "S o Paulo");
  // A byte-level token covering only the first byte of the character still
  // blanks the whole character (once, also when a second span covers the rest).
  EXPECT_EQ(BlankSpans("S\xC3\xA3o", Spans{{1, 2}}), "S o");
  EXPECT_EQ(BlankSpans("S\xC3\xA3o", Spans{{1, 2}, {2, 3}}), "S o");
  // Three- and four-byte characters.
  EXPECT_EQ(BlankSpans("a\xE2\x82\xAC\xF0\x9F\x98\x80z", Spans{{1, 8}}), "a  z");
}

TEST(SpanEditTest, OverlappingAndOutOfRangeSpans) {
  EXPECT_EQ(BlankSpans("abcdef", Spans{{1, 4}, {2, 5}}), "a    f");
  EXPECT_EQ(BlankSpans("abc", Spans{{2, 10}, {7, 9}}), "ab ");
  EXPECT_EQ(BlankSpans("abc", Spans{{1, 1}}), "abc");  // empty span: nothing
}

TEST(SpanEditTest, InvalidUtf8BytesAreOneCharacterEach) {
  EXPECT_EQ(BlankSpans("a\xC3z", Spans{{1, 2}}), "a z");
  EXPECT_EQ(BlankSpans("a\x80\x80z", Spans{{1, 3}}), "a  z");
}

TEST(SpanEditTest, DeleteRemovesTheTouchedCharacters) {
  EXPECT_EQ(DeleteSpans("Liam was born.", Spans{{4, 8}, {13, 14}}), "Liam born");
  EXPECT_EQ(DeleteSpans("S\xC3\xA3o", Spans{{2, 3}}), "So");
}

}  // namespace
}  // namespace cluedrop
