#include "workers/trainer/qa_evaluation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

namespace cluedrop::trainer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kPaperData = CLUEDROP_PAPER_DATA_DIR;

// "A checkpoint whose answers are known": continues a prompt with the text
// a table gives for its last paragraph (the question), and records calls.
class LookupGenerator : public QaGenerator {
 public:
  explicit LookupGenerator(std::map<std::string, std::string> answers)
      : answers_(std::move(answers)) {}

  StatusOr<std::vector<std::string>> Generate(const std::vector<std::string>& prompts,
                                              int64_t max_new_tokens) override {
    batch_sizes.push_back(prompts.size());
    max_new_tokens_seen = max_new_tokens;
    std::vector<std::string> out;
    for (const std::string& prompt : prompts) {
      const size_t cut = prompt.rfind("\n\n");
      const std::string question = cut == std::string::npos ? prompt : prompt.substr(cut + 2);
      auto it = answers_.find(question);
      if (it == answers_.end()) return NotFoundError("no answer for " + question);
      out.push_back(it->second);
    }
    if (drop_one && !out.empty()) out.pop_back();
    return out;
  }

  std::vector<size_t> batch_sizes;
  int64_t max_new_tokens_seen = 0;
  bool drop_one = false;

 private:
  std::map<std::string, std::string> answers_;
};

// Continuations for the first two people of biography_synthetic.csv, some
// right, some partly right, some wrong; the scores below are worked by hand.
std::map<std::string, std::string> KnownAnswers() {
  auto q = [](const std::string& field_question, const std::string& name) {
    return field_question + " " + name + "?\nAnswer:";
  };
  const std::string date = "What is the birth date of", city = "What is the birth city of";
  return {
      // Liam Thompson.
      {q(date, "Liam Thompson"), " January 5, 1990\n\nWhat is"},  // EM 1, F1 1
      // {melbourne} vs {melbourne, australia}: P 1, R 1/2, F1 2/3.
      {q(city, "Liam Thompson"), " Melbourne\n"},
      {"Which major did Liam Thompson study?\nAnswer:", " Biomedical Engineering\n"},  // 1, 1
      // {sorbonne} vs {sorbonne, university}: F1 2/3.
      {"Which university did Liam Thompson attend?\nAnswer:", " Sorbonne"},
      // "the" is an article: EM 1.
      {"Which company did Liam Thompson work for?\nAnswer:", " British Museum\nWhich"},
      // Ana Sofia Herrera.
      // {july, 17, 1988} vs {july, 17, 1987}: common 2, P = R = 2/3, F1 2/3.
      {q(date, "Ana Sofia Herrera"), " July 17, 1988"},
      {q(city, "Ana Sofia Herrera"), " Madrid, Spain\n"},  // EM 1, F1 1
      // {marketing} vs {marketing, and, international, business}: P 1,
      // R 1/4, F1 = 2 * 0.25 / 1.25 = 0.4.
      {"Which major did Ana Sofia Herrera study?\nAnswer:", " Marketing"},
      // No accent folding: {university, of, sao, paulo} vs {..., são,
      // paulo}: common 3, P = R = 3/4, F1 0.75, EM 0.
      {"Which university did Ana Sofia Herrera attend?\nAnswer:", " University of Sao Paulo"},
      {"Which company did Ana Sofia Herrera work for?\nAnswer:", " Chemical Solutions Ltd."},
  };
}

StatusOr<std::vector<QaQuestion>> PaperQuestions(size_t people, uint32_t shots) {
  CLUEDROP_ASSIGN_OR_RETURN(QaPromptTable table, ReadQaPromptTable(kPaperData + "/prompts.csv"));
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<corpus::QaItem> pool,
                            ReadQaItems(kPaperData + "/biography_real.csv"));
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<corpus::QaItem> items,
                            ReadQaItems(kPaperData + "/biography_synthetic.csv", people));
  return BuildQaQuestions(table, QaFewShotPool(pool), items, {.shots = shots});
}

TEST(EvaluateQaTest, CheckpointWithKnownAnswersScoresExactlyPerField) {
  StatusOr<std::vector<QaQuestion>> questions = PaperQuestions(2, 5);
  ASSERT_TRUE(questions.ok()) << questions.status();
  LookupGenerator generator(KnownAnswers());
  StatusOr<QaEvalResult> result = EvaluateQa(generator, *questions, {});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(generator.max_new_tokens_seen, 10);  // the default
  EXPECT_THAT(generator.batch_sizes, ElementsAre(8, 2));

  ASSERT_EQ(result->fields.size(), 6u);
  struct Want {
    const char* field;
    double em, f1;
  };
  const Want want[] = {
      {"date", 0.5, (1 + 2.0 / 3) / 2},           // Liam right, Ana 2/3
      {"city", 0.5, (2.0 / 3 + 1) / 2},           // Liam 2/3, Ana right
      {"major", 0.5, (1 + 0.4) / 2},              // Liam right, Ana 0.4
      {"university", 0.0, (2.0 / 3 + 0.75) / 2},  // 2/3 and 0.75
      {"company", 1.0, 1.0},                      // both right
      // 5 of 10 exact; F1 sum = 13/3 + 229/60 = 489/60.
      {"overall", 0.5, 489.0 / 60 / 10},
  };
  for (size_t i = 0; i < 6; ++i) {
    SCOPED_TRACE(want[i].field);
    EXPECT_EQ(result->fields[i].field, want[i].field);
    EXPECT_EQ(result->fields[i].questions, i < 5 ? 2u : 10u);
    EXPECT_DOUBLE_EQ(result->fields[i].exact_match, want[i].em);
    EXPECT_DOUBLE_EQ(result->fields[i].f1, want[i].f1);
  }
  // Per question: the raw continuation, the answer cut at "\n", the score.
  ASSERT_EQ(result->predictions.size(), 10u);
  const QaPrediction& liam_company = result->predictions[8];
  EXPECT_EQ(liam_company.question.subject, "Liam Thompson");
  EXPECT_EQ(liam_company.question.field, "company");
  EXPECT_EQ(liam_company.generated, " British Museum\nWhich");
  EXPECT_EQ(liam_company.prediction, "British Museum");
  EXPECT_EQ(liam_company.score.exact_match, 1.0);
  const QaPrediction& ana_university = result->predictions[7];
  EXPECT_EQ(ana_university.prediction, "University of Sao Paulo");
  EXPECT_THAT(ana_university.question.answers, ElementsAre("the University of São Paulo"));
  EXPECT_DOUBLE_EQ(ana_university.score.f1, 0.75);
}

TEST(EvaluateQaTest, BatchesReportProgressAndPassMaxNewTokens) {
  StatusOr<std::vector<QaQuestion>> questions = PaperQuestions(2, 0);
  ASSERT_TRUE(questions.ok()) << questions.status();
  LookupGenerator generator(KnownAnswers());
  std::vector<std::pair<size_t, size_t>> progress;
  QaEvalOptions options;
  options.batch_size = 4;
  options.max_new_tokens = 3;
  options.progress = [&](size_t done, size_t total) { progress.emplace_back(done, total); };
  StatusOr<QaEvalResult> result = EvaluateQa(generator, *questions, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(generator.batch_sizes, ElementsAre(4, 4, 2));
  EXPECT_EQ(generator.max_new_tokens_seen, 3);
  EXPECT_THAT(progress,
              ElementsAre(std::pair<size_t, size_t>{4, 10}, std::pair<size_t, size_t>{8, 10},
                          std::pair<size_t, size_t>{10, 10}));
  // Zero shots: the prompt is the bare question.
  EXPECT_EQ(result->predictions[0].question.prompt,
            "What is the birth date of Liam Thompson?\nAnswer:");
}

TEST(EvaluateQaTest, NoQuestionsGiveAZeroOverall) {
  LookupGenerator generator({});
  StatusOr<QaEvalResult> result = EvaluateQa(generator, {}, {});
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(generator.batch_sizes.empty());
  ASSERT_EQ(result->fields.size(), 1u);
  EXPECT_EQ(result->fields[0].field, "overall");
  EXPECT_EQ(result->fields[0].questions, 0u);
}

TEST(EvaluateQaTest, GeneratorErrorsAndBadOptions) {
  StatusOr<std::vector<QaQuestion>> questions = PaperQuestions(3, 1);
  ASSERT_TRUE(questions.ok()) << questions.status();
  LookupGenerator partial(KnownAnswers());  // knows nothing of person 3
  StatusOr<QaEvalResult> result = EvaluateQa(partial, *questions, {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("questions 1-8 of 15: no answer for"));

  StatusOr<std::vector<QaQuestion>> known = PaperQuestions(2, 1);
  ASSERT_TRUE(known.ok()) << known.status();
  LookupGenerator short_batch(KnownAnswers());
  short_batch.drop_one = true;
  result = EvaluateQa(short_batch, *known, {});
  EXPECT_EQ(result.status().code(), StatusCode::kInternal);

  QaEvalOptions options;
  options.max_new_tokens = 0;
  EXPECT_EQ(EvaluateQa(partial, *questions, options).status().code(), StatusCode::kInvalidArgument);
  options.max_new_tokens = 10;
  options.batch_size = 0;
  EXPECT_EQ(EvaluateQa(partial, *questions, options).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cluedrop::trainer
