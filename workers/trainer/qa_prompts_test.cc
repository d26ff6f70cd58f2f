#include "workers/trainer/qa_prompts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "base/scoped_temp_dir.h"

namespace cluedrop::trainer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kPaperData = CLUEDROP_PAPER_DATA_DIR;
constexpr char kDateTemplate[] = "What is the birth date of {name}?\nAnswer:";

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

TEST(FormatQaPromptTest, ThePaperFormatByHand) {
  // evaluate.py: '\n\n'.join(prompt.format(name=n) + ' ' + a for n, a in
  // shots) + '\n\n' + prompt.format(name=name).
  const std::vector<QaShot> shots = {{"Isaac Newton", "January 4, 1643"},
                                     {"Erwin Schrödinger", "August 12, 1887"}};
  EXPECT_EQ(FormatQaPrompt(kDateTemplate, shots, "Liam Thompson"),
            "What is the birth date of Isaac Newton?\nAnswer: January 4, 1643\n\n"
            "What is the birth date of Erwin Schrödinger?\nAnswer: August 12, 1887\n\n"
            "What is the birth date of Liam Thompson?\nAnswer:");
  EXPECT_EQ(FormatQaPrompt(kDateTemplate, {}, "Liam Thompson"),
            "What is the birth date of Liam Thompson?\nAnswer:");
}

class PaperPromptsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<QaPromptTable> table = ReadQaPromptTable(kPaperData + "/prompts.csv");
    ASSERT_TRUE(table.ok()) << table.status();
    table_ = *table;
    StatusOr<std::vector<corpus::QaItem>> real = ReadQaItems(kPaperData + "/biography_real.csv");
    ASSERT_TRUE(real.ok()) << real.status();
    real_ = *real;
  }
  QaPromptTable table_;
  std::vector<corpus::QaItem> real_;
};

TEST_F(PaperPromptsTest, ExactPromptForLiamThompson) {
  StatusOr<std::vector<corpus::QaItem>> items =
      ReadQaItems(kPaperData + "/biography_synthetic.csv", /*max_documents=*/1);
  ASSERT_TRUE(items.ok()) << items.status();
  QaFewShotPool pool(real_);
  StatusOr<std::vector<QaQuestion>> questions = BuildQaQuestions(table_, pool, *items, {});
  ASSERT_TRUE(questions.ok()) << questions.status();
  // One question per prompts.csv field, in its order.
  ASSERT_EQ(questions->size(), 5u);
  const char* fields[] = {"date", "city", "major", "university", "company"};
  const char* answers[] = {"January 5, 1990", "Melbourne, Australia", "Biomedical Engineering",
                           "Sorbonne University", "the British Museum"};
  for (size_t i = 0; i < 5; ++i) {
    const QaQuestion& q = (*questions)[i];
    EXPECT_EQ(q.subject, "Liam Thompson");
    EXPECT_EQ(q.field, fields[i]);
    EXPECT_THAT(q.answers, ElementsAre(answers[i]));
    // Default 5 shots: 5 blank-line separators, the question last.
    EXPECT_EQ(Count(q.prompt, "\n\n"), 5u) << q.prompt;
    const std::string question = FillQaTemplate(table_.prompts[i].text, "Liam Thompson");
    EXPECT_EQ(q.prompt.substr(q.prompt.size() - question.size()), question);
  }
  // The whole date prompt. The format is the paper's; which five of the ten
  // real people appear is the seed-0 draw (pinned so that a change of the
  // draw is deliberate); each answer is that person's <date> in
  // biography_real.csv.
  EXPECT_EQ((*questions)[0].prompt,
            "What is the birth date of Tu Youyou?\nAnswer: December 30, 1930\n\n"
            "What is the birth date of Voltaire?\nAnswer: November 21, 1694\n\n"
            "What is the birth date of Florence Nightingale?\nAnswer: May 12, 1820\n\n"
            "What is the birth date of Erwin Schrödinger?\nAnswer: August 12, 1887\n\n"
            "What is the birth date of Chen-Ning Yang?\nAnswer: September 22, 1922\n\n"
            "What is the birth date of Liam Thompson?\nAnswer:");
}

TEST_F(PaperPromptsTest, NonAsciiAnswersKeptVerbatim) {
  StatusOr<std::vector<corpus::QaItem>> items =
      ReadQaItems(kPaperData + "/biography_synthetic.csv", /*max_documents=*/2);
  ASSERT_TRUE(items.ok()) << items.status();
  StatusOr<std::vector<QaQuestion>> questions =
      BuildQaQuestions(table_, QaFewShotPool(real_), *items, {.shots = 3});
  ASSERT_TRUE(questions.ok()) << questions.status();
  ASSERT_EQ(questions->size(), 10u);  // 2 people x 5 fields, field-major
  const QaQuestion& q = (*questions)[7];
  EXPECT_EQ(q.subject, "Ana Sofia Herrera");
  EXPECT_EQ(q.field, "university");
  EXPECT_THAT(q.answers, ElementsAre("the University of São Paulo"));
  EXPECT_EQ(Count(q.prompt, "\n\n"), 3u);
}

TEST_F(PaperPromptsTest, PoolThatContainsTheSubjectNeverShowsItsAnswer) {
  // Evaluating the real people with themselves as the pool: 9 candidates.
  StatusOr<std::vector<QaQuestion>> questions =
      BuildQaQuestions(table_, QaFewShotPool(real_), real_, {});
  ASSERT_TRUE(questions.ok()) << questions.status();
  ASSERT_EQ(questions->size(), 50u);
  for (const QaQuestion& q : *questions) {
    EXPECT_EQ(Count(q.prompt, q.subject), 1u) << q.prompt;
  }
  // Ten shots would need ten people besides the subject.
  StatusOr<std::vector<QaQuestion>> too_many =
      BuildQaQuestions(table_, QaFewShotPool(real_), real_, {.shots = 10});
  EXPECT_FALSE(too_many.ok());
}

TEST(BuildQaQuestionsTest, GroupsAnswersBySubjectAndSkipsUnpromptedFields) {
  StatusOr<QaPromptTable> table =
      ParseQaPromptTable("field,prompt\ncity,Where was {name} born?\n", "p.csv");
  ASSERT_TRUE(table.ok());
  QaFewShotPool pool({{"Pat", "city", "Oslo"}});
  const std::vector<corpus::QaItem> items = {
      {"Ann", "city", "Rome"}, {"Bob", "date", "May 1"}, {"Ann", "city", "Rome, Italy"},
      {"Ann", "city", "Rome"}, {"", "city", "Nowhere"},  {"Cid", "city", "Lima"}};
  StatusOr<std::vector<QaQuestion>> questions = BuildQaQuestions(*table, pool, items, {.shots = 1});
  ASSERT_TRUE(questions.ok()) << questions.status();
  ASSERT_EQ(questions->size(), 2u);  // Bob has no city, "" has no subject
  EXPECT_EQ((*questions)[0].subject, "Ann");
  EXPECT_THAT((*questions)[0].answers, ElementsAre("Rome", "Rome, Italy"));
  EXPECT_EQ((*questions)[0].prompt, "Where was Pat born? Oslo\n\nWhere was Ann born?");
  EXPECT_EQ((*questions)[1].subject, "Cid");
}

TEST(ExtractQaAnswerTest, CutsAtTheFirstNewlineAndStrips) {
  EXPECT_EQ(ExtractQaAnswer(" January 5, 1990\n\nWhat is the birth"), "January 5, 1990");
  EXPECT_EQ(ExtractQaAnswer(" Melbourne, Australia \r\nAnswer"), "Melbourne, Australia");
  EXPECT_EQ(ExtractQaAnswer("\nMelbourne"), "");
  EXPECT_EQ(ExtractQaAnswer(""), "");
  EXPECT_EQ(ExtractQaAnswer("  São Paulo"), "São Paulo");
}

TEST(ReadQaItemsTest, LimitsDocumentsAndNamesTheLineOfADocumentWithoutAName) {
  StatusOr<std::vector<corpus::QaItem>> items =
      ReadQaItems(kPaperData + "/biography_synthetic.csv", 3);
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_EQ(items->size(), 15u);  // 3 people x 5 fields
  const ScopedTempDir scratch("qa_prompts_test");
  const std::string path = scratch.file("qa_no_name.csv");
  std::ofstream(path) << "text\n\"<name>Ann</name> in <city>Rome</city>.\"\n"
                      << "\"Someone in <city>Oslo</city>.\"\n";
  StatusOr<std::vector<corpus::QaItem>> bad = ReadQaItems(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(),
              HasSubstr(path + ":3: field tag <city> in a document without a <name> tag"));
  EXPECT_EQ(ReadQaItems("/nonexistent/bios.csv").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace cluedrop::trainer
