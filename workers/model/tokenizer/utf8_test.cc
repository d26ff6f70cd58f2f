#include "workers/model/tokenizer/utf8.h"

#include <gtest/gtest.h>

namespace cluedrop::model::tokenizer {
namespace {

TEST(TokenizerUtf8Test, DecodesAndEncodesEveryLength) {
  for (char32_t c : {U'A', U'\u00e9', U'\u20ac', U'\U0001F600'}) {
    const std::string s = EncodeUtf8(c);
    EXPECT_EQ(s.size(), Utf8Len(c));
    size_t len = 0;
    EXPECT_EQ(DecodeUtf8At(s, 0, &len), c);
    EXPECT_EQ(len, s.size());
  }
  EXPECT_EQ(CountChars("a\u00e9\u20ac\U0001F600"), 4u);
}

TEST(TokenizerUtf8Test, FindsInvalidSequences) {
  EXPECT_TRUE(IsValidUtf8("plain \u00e9 \U0001F600"));
  EXPECT_EQ(FindInvalidUtf8("ab\xC0\x80"), 2u);         // overlong
  EXPECT_EQ(FindInvalidUtf8("\xED\xA0\x80"), 0u);       // surrogate
  EXPECT_EQ(FindInvalidUtf8("x\xF4\x90\x80\x80"), 1u);  // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("xy\xE2\x82"), 2u);         // truncated
  EXPECT_EQ(FindInvalidUtf8("\x80"), 0u);               // stray continuation
}

TEST(TokenizerUtf8Test, LossyReplacesMaximalSubparts) {
  // Same results as Rust's String::from_utf8_lossy and Python's 'replace'.
  EXPECT_EQ(Utf8Lossy("\xE2\x82"
                      "A"),
            "\uFFFD"
            "A");
  EXPECT_EQ(Utf8Lossy("\xF0\x9F\x98"), "\uFFFD");
  EXPECT_EQ(Utf8Lossy("\xFF\xFE"), "\uFFFD\uFFFD");
  EXPECT_EQ(Utf8Lossy("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(Utf8Lossy("ok \xE2\x82\xAC"), "ok \u20ac");
}

TEST(TokenizerUtf8Test, WhitespaceIsTheUnicodeProperty) {
  for (char32_t c : {U' ', U'\t', U'\n', U'\r', U'\u0085', U'\u00a0', U'\u2028', U'\u3000'}) {
    EXPECT_TRUE(IsWhitespace(c)) << static_cast<uint32_t>(c);
  }
  for (char32_t c : {U'a', U'\u180e', U'\u200b', U'\ufeff', U'\x1c'}) {
    EXPECT_FALSE(IsWhitespace(c)) << static_cast<uint32_t>(c);
  }
}

}  // namespace
}  // namespace cluedrop::model::tokenizer
