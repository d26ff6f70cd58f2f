#include "workers/model/tokenizer/post_processors.h"

#include <gtest/gtest.h>

namespace cluedrop::model::tokenizer {
namespace {

std::unique_ptr<PostProcessor> Processor(const std::string& json) {
  auto p = PostProcessorFromJson(Json::parse(json), JsonPath("t.json", "post_processor"));
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(p).value() : nullptr;
}

Encoding TwoTokens() {
  Encoding e;
  e.Append(10, "Hello", {0, 5}, 0);
  e.Append(11, "Ġworld", {5, 11}, 0);
  return e;
}

TEST(TokenizerPostProcessorsTest, TemplateAddsSpecialsOnlyWhenAsked) {
  auto p = Processor(R"({"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "</s>", "type_id": 0}}],
      "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
      "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]},
                         "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}})");
  ASSERT_NE(p, nullptr);
  Encoding e = TwoTokens();
  p->Process("Hello world", &e, true);
  EXPECT_EQ(e.ids, (std::vector<int32_t>{1, 10, 11, 2}));
  EXPECT_EQ(e.special, (std::vector<uint8_t>{1, 0, 0, 1}));
  EXPECT_EQ(e.offsets[3], std::make_pair(size_t{0}, size_t{0}));
  Encoding plain = TwoTokens();
  p->Process("Hello world", &plain, false);
  EXPECT_EQ(plain.ids, (std::vector<int32_t>{10, 11}));
}

TEST(TokenizerPostProcessorsTest, ByteLevelTrimsSpaces) {
  auto p = Processor(R"({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true})");
  Encoding e = TwoTokens();
  p->Process("Hello world", &e, true);
  EXPECT_EQ(e.offsets[1], std::make_pair(size_t{6}, size_t{11}));
  // A prepended 'Ġ' that stands for a multi-byte first char trims by chars.
  Encoding wide;
  wide.Append(1, "Ġ", {0, 2}, 0);
  wide.Append(2, "é", {0, 2}, 0);
  Processor(R"({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true})")
      ->Process("\u00e9", &wide, false);
  EXPECT_EQ(wide.offsets[0], std::make_pair(size_t{0}, size_t{0}));
}

TEST(TokenizerPostProcessorsTest, BertAndRoberta) {
  Encoding bert = TwoTokens();
  Processor(R"({"type": "BertProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]})")
      ->Process("Hello world", &bert, true);
  EXPECT_EQ(bert.ids, (std::vector<int32_t>{101, 10, 11, 102}));
  EXPECT_EQ(bert.offsets[2], std::make_pair(size_t{5}, size_t{11}));
  Encoding roberta = TwoTokens();
  Processor(R"({"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0]})")
      ->Process("Hello world", &roberta, true);
  EXPECT_EQ(roberta.tokens, (std::vector<std::string>{"<s>", "Hello", "Ġworld", "</s>"}));
  EXPECT_EQ(roberta.offsets[2], std::make_pair(size_t{6}, size_t{11}));
}

TEST(TokenizerPostProcessorsTest, ErrorsNameTheJsonPath) {
  auto missing = PostProcessorFromJson(Json::parse(R"({"type": "TemplateProcessing",
          "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}}],
          "special_tokens": {}})"),
                                       JsonPath("tokenizer.json", "post_processor"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "tokenizer.json: post_processor.single[0].SpecialToken.id: '<bos>' is not in "
            "special_tokens");
  auto unknown = PostProcessorFromJson(
      Json::parse(R"({"type": "Sequence", "processors": [{"type": "Whatever"}]})"),
      JsonPath("tokenizer.json", "post_processor"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(),
            "tokenizer.json: post_processor.processors[0].type: unsupported 'Whatever'");
}

}  // namespace
}  // namespace cluedrop::model::tokenizer
