#include "workers/trainer/qa_prompt_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace cluedrop::trainer {
namespace {

using ::testing::HasSubstr;

TEST(QaPromptTableTest, ReadsThePaperPromptsCsv) {
  StatusOr<QaPromptTable> table =
      ReadQaPromptTable(std::string(CLUEDROP_PAPER_DATA_DIR) + "/prompts.csv");
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->prompts.size(), 5u);
  const char* fields[] = {"date", "city", "major", "university", "company"};
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(table->prompts[i].field, fields[i]);
  // Quoted fields span two lines: rows start on lines 2, 4, 6, 8, 10.
  EXPECT_EQ(table->prompts[0].text, "What is the birth date of {name}?\nAnswer:");
  EXPECT_EQ(table->prompts[0].line, 2u);
  EXPECT_EQ(table->prompts[4].line, 10u);
  ASSERT_NE(table->Find("university"), nullptr);
  EXPECT_EQ(table->Find("university")->text, "Which university did {name} attend?\nAnswer:");
  EXPECT_EQ(table->Find("name"), nullptr);
}

TEST(QaPromptTableTest, AcceptsTemplateColumnCrlfAndBom) {
  StatusOr<QaPromptTable> table =
      ParseQaPromptTable("\xEF\xBB\xBFtemplate,field\r\n\"Where, {name}?\",city\r\n", "p.csv");
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->prompts.size(), 1u);
  EXPECT_EQ(table->prompts[0].field, "city");
  EXPECT_EQ(table->prompts[0].text, "Where, {name}?");
}

TEST(QaPromptTableTest, ErrorsNameFileAndLine) {
  auto error = [](const std::string& csv) {
    StatusOr<QaPromptTable> t = ParseQaPromptTable(csv, "p.csv");
    EXPECT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    return t.status().message();
  };
  EXPECT_THAT(error(""), HasSubstr("p.csv: empty prompt table"));
  EXPECT_THAT(error("name,prompt\n"), HasSubstr("p.csv:1: no \"field\" column"));
  EXPECT_THAT(error("field,question\n"), HasSubstr("p.csv:1: no \"prompt\""));
  EXPECT_THAT(error("field,prompt,template\n"), HasSubstr("both"));
  EXPECT_THAT(error("field,prompt\n"), HasSubstr("p.csv: no prompts"));
  EXPECT_THAT(error("field,prompt\ncity,\"Where is\n{name}?\"\ndate\n"),
              HasSubstr("p.csv:4: 1 fields, the header has 2"));
  EXPECT_THAT(error("field,prompt\ncity,Where is {nam}?\n"),
              HasSubstr("p.csv:2: the prompt of field \"city\" has no {name}"));
  EXPECT_THAT(error("field,prompt\ncity,{name}?\n\ncity,{name}!\n"),
              HasSubstr("p.csv:4: field \"city\" already has a prompt (line 2)"));
  EXPECT_THAT(error("field,prompt\n,{name}\n"), HasSubstr("p.csv:2: empty field name"));
  EXPECT_THAT(error("field,prompt\noverall,{name}\n"), HasSubstr("reserved"));
  EXPECT_THAT(error("field,prompt\ncity,\"{name}\n"), HasSubstr("p.csv:2: unterminated"));
}

TEST(FillQaTemplateTest, ReplacesEveryNameAndNothingElse) {
  EXPECT_EQ(FillQaTemplate("{name} or {name}? {other} {{name}}", "Ana"),
            "Ana or Ana? {other} {Ana}");
  EXPECT_EQ(FillQaTemplate("no placeholder", "Ana"), "no placeholder");
}

}  // namespace
}  // namespace cluedrop::trainer
