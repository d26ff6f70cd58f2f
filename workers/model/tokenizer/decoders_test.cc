#include "workers/model/tokenizer/decoders.h"

#include <gtest/gtest.h>

namespace cluedrop::model::tokenizer {
namespace {

std::string Decode(const std::string& json, std::vector<std::string> tokens) {
  auto decoder = DecoderFromJson(Json::parse(json), JsonPath("t.json", "decoder"));
  EXPECT_TRUE(decoder.ok()) << decoder.status();
  if (!decoder.ok()) return "";
  auto text = (*decoder)->Decode(std::move(tokens));
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

TEST(TokenizerDecodersTest, ByteLevel) {
  const std::string json = R"({"type": "ByteLevel"})";
  EXPECT_EQ(Decode(json, {"Hello", "Ġmy", "Ġfriend", "Ċ"}), "Hello my friend\n");
  EXPECT_EQ(Decode(json, {"âĤ", "¬"}), "\u20ac");   // bytes split over tokens
  EXPECT_EQ(Decode(json, {"âĤ", "x"}), "\uFFFDx");  // lossy, one U+FFFD per maximal subpart
  EXPECT_EQ(Decode(json, {"<|end|>", "日"}),
            "<|end|>日");  // chars outside the alphabet pass through
}

TEST(TokenizerDecodersTest, Llama2Sequence) {
  const std::string json = R"({"type": "Sequence", "decoders": [
      {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
      {"type": "ByteFallback"}, {"type": "Fuse"},
      {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})";
  EXPECT_EQ(Decode(json, {"▁Hello", "▁wor", "ld", "<0xE2>", "<0x82>", "<0xAC>", "!"}),
            "Hello world\u20ac!");
  // Invalid byte runs become one U+FFFD per byte.
  EXPECT_EQ(Decode(json, {"▁a", "<0xE2>", "<0x82>", "b"}), "a\uFFFD\uFFFDb");
}

TEST(TokenizerDecodersTest, MetaspaceWordPieceAndSuffix) {
  EXPECT_EQ(Decode(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"})",
                   {"▁Hey", "▁friend!"}),
            "Hey friend!");
  EXPECT_EQ(Decode(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never"})",
                   {"▁Hey", "▁friend!"}),
            " Hey friend!");
  EXPECT_EQ(Decode(R"({"type": "WordPiece", "prefix": "##", "cleanup": true})",
                   {"it", "'", "s", "un", "##believ", "##able", "!"}),
            "it ' s unbelievable!");
  EXPECT_EQ(Decode(R"({"type": "BPEDecoder", "suffix": "</w>"})", {"hel", "lo</w>", "you</w>"}),
            "hello you");
}

TEST(TokenizerDecodersTest, StripNeverOverruns) {
  EXPECT_EQ(Decode(R"({"type": "Strip", "content": "x", "start": 5, "stop": 5})", {"xx", "xax"}),
            "a");
}

TEST(TokenizerDecodersTest, ErrorsNameTheJsonPath) {
  auto bad = DecoderFromJson(Json::parse(R"({"type": "Sequence", "decoders": [{"type": "CTC"}]})"),
                             JsonPath("tokenizer.json", "decoder"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "tokenizer.json: decoder.decoders[0].type: unsupported 'CTC'");
  auto strip = DecoderFromJson(Json::parse(R"({"type": "Strip", "content": " ", "start": -1})"),
                               JsonPath("tokenizer.json", "decoder"));
  ASSERT_FALSE(strip.ok());
  EXPECT_EQ(strip.status().message(),
            "tokenizer.json: decoder.start: -1 is out of range [0, 2147483647]");
}

}  // namespace
}  // namespace cluedrop::model::tokenizer
