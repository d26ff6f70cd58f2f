#include "workers/model/tokenizer/word_level_model.h"

#include <gtest/gtest.h>

namespace cluedrop::model::tokenizer {
namespace {

TEST(TokenizerWordLevelModelTest, KnownUnknownAndMissingUnk) {
  auto model = WordLevelModel::FromJson(
      Json::parse(
          R"({"type": "WordLevel", "vocab": {"[UNK]": 0, "hello": 1}, "unk_token": "[UNK]"})"),
      JsonPath("t.json", "model"));
  ASSERT_TRUE(model.ok()) << model.status();
  auto known = (*model)->Tokenize("hello");
  ASSERT_TRUE(known.ok());
  ASSERT_EQ(known->size(), 1u);
  EXPECT_EQ((*known)[0].id, 1);
  EXPECT_EQ((*known)[0].end, 5u);
  auto unknown = (*model)->Tokenize("h\u00e9");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ((*unknown)[0].id, 0);
  EXPECT_EQ((*unknown)[0].value, "[UNK]");
  EXPECT_EQ((*unknown)[0].end, 3u);

  auto no_unk =
      WordLevelModel::FromJson(Json::parse(R"({"vocab": {"a": 0}})"), JsonPath("t.json", "model"));
  ASSERT_TRUE(no_unk.ok());
  auto failed = (*no_unk)->Tokenize("b");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cluedrop::model::tokenizer
