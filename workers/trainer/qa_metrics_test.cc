#include "workers/trainer/qa_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cluedrop::trainer {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(NormalizeAnswerTest, LowercasesDropsPunctuationAndArticles) {
  // lower: "the cat sat!"; punctuation: "the cat sat"; article: " cat sat";
  // whitespace: "cat sat".
  EXPECT_EQ(NormalizeAnswer("The Cat sat!"), "cat sat");
  EXPECT_EQ(ExactMatch("The Cat sat!", "cat sat"), 1.0);
  EXPECT_EQ(TokenF1("The Cat sat!", "cat sat"), 1.0);
}

TEST(NormalizeAnswerTest, ArticlesOnlyAsWholeWords) {
  // "an" and the leading "a" go; "theatre", "anna", "another" stay.
  EXPECT_EQ(NormalizeAnswer("A Theatre an Anna another"), "theatre anna another");
  EXPECT_EQ(NormalizeAnswer("the the THE"), "");
  // Punctuation goes first: "(The)" -> "the" -> "", "the-end" -> "theend".
  EXPECT_EQ(NormalizeAnswer("(The) end"), "end");
  EXPECT_EQ(NormalizeAnswer("the-end"), "theend");
  // Digits and "_" are word characters, but "_" is punctuation and goes.
  EXPECT_EQ(NormalizeAnswer("a1 the_a"), "a1 thea");
}

TEST(NormalizeAnswerTest, PunctuationIsRemovedNotSplit) {
  // string.punctuation characters vanish without leaving a space.
  EXPECT_EQ(NormalizeAnswer("U.S.A."), "usa");
  EXPECT_EQ(NormalizeAnswer("St. John's co-founder, {x}"), "st johns cofounder x");
  EXPECT_EQ(NormalizeAnswer("January 5, 1990"), "january 5 1990");
}

TEST(NormalizeAnswerTest, SqueezesAllPythonWhitespace) {
  EXPECT_EQ(NormalizeAnswer("  New\tYork\r\n "), "new york");
  // U+00A0 (no-break space) and U+3000 are whitespace for str.split().
  EXPECT_EQ(NormalizeAnswer("New\u00a0York\u3000City"), "new york city");
  // \x1c..\x1f too (octal \034 = \x1c).
  EXPECT_EQ(NormalizeAnswer("a\034b"), "b");
}

TEST(NormalizeAnswerTest, NonAsciiLettersOfThePaperData) {
  // Latin-1 uppercase is lowercased (U+00C3 -> U+00E3); other bytes kept.
  EXPECT_EQ(NormalizeAnswer("the University of SÃO PAULO"), "university of são paulo");
  EXPECT_EQ(NormalizeAnswer("Erwin Schrödinger"), "erwin schrödinger");
  EXPECT_EQ(NormalizeAnswer("the Collège Louis-le-Grand"), "collège louislegrand");
  EXPECT_EQ(ExactMatch("São Paulo, Brazil", "SÃO PAULO BRAZIL"), 1.0);
  // Latin Extended-A pairs and U+0130 (Python: "i" + U+0307).
  EXPECT_EQ(NormalizeAnswer("ŁÓDŹ"), "łódź");
  EXPECT_EQ(NormalizeAnswer("İ"), "i\u0307");
  // é is a word character: "aé" is no article; an en dash is not one.
  EXPECT_EQ(NormalizeAnswer("aé a\u2013b"), "aé \u2013b");
}

TEST(NormalizeAnswerTest, DocumentedDivergences) {
  // Greek / Cyrillic uppercase is kept (Python would lowercase it).
  EXPECT_EQ(NormalizeAnswer("ΑΘΗΝΑ"), "ΑΘΗΝΑ");
  // Invalid UTF-8 bytes are kept intact and are not word characters.
  EXPECT_EQ(NormalizeAnswer("Caf\xC3"), "caf\xC3");
  EXPECT_EQ(NormalizeAnswer("\377a\377"), "\377 \377");  // octal \377 = \xFF
}

TEST(TokenF1Test, PartialOverlapByHand) {
  // pred {melbourne}, gold {melbourne, australia}: common 1, P = 1/1,
  // R = 1/2, F1 = 2 * 1 * 0.5 / 1.5 = 2/3.
  EXPECT_DOUBLE_EQ(TokenF1("Melbourne", "Melbourne, Australia"), 2.0 / 3);
  EXPECT_EQ(ExactMatch("Melbourne", "Melbourne, Australia"), 0.0);
  // pred {university, of, cambridge, in, england}, gold {university, of,
  // cambridge} ("the" dropped): common 3, P = 3/5, R = 3/3,
  // F1 = 2 * 0.6 * 1 / 1.6 = 0.75.
  EXPECT_DOUBLE_EQ(TokenF1("University of Cambridge in England", "the University of Cambridge"),
                   0.75);
  // Counter intersection: pred {paris x3}, gold {paris, france}: common
  // min(3, 1) = 1, P = 1/3, R = 1/2, F1 = 2 * (1/6) / (5/6) = 0.4.
  EXPECT_DOUBLE_EQ(TokenF1("Paris paris PARIS", "Paris, France"), 0.4);
  EXPECT_EQ(TokenF1("Oxford", "Cambridge"), 0.0);
}

TEST(TokenF1Test, EmptyAnswersFollowSquadV11) {
  // v1.1 returns 0 whenever no token is common, even when both are empty;
  // exact match still compares the (empty) normalised strings.
  EXPECT_EQ(TokenF1("", ""), 0.0);
  EXPECT_EQ(ExactMatch("", ""), 1.0);
  EXPECT_EQ(TokenF1("The", "a"), 0.0);
  EXPECT_EQ(ExactMatch("The", "a"), 1.0);
  EXPECT_EQ(TokenF1("", "Paris"), 0.0);
  EXPECT_EQ(ExactMatch("", "Paris"), 0.0);
  EXPECT_THAT(AnswerTokens(" the !"), IsEmpty());
  EXPECT_THAT(AnswerTokens("the Royal  Society."), ElementsAre("royal", "society"));
}

TEST(ScoreAnswerTest, MaximisesEachMetricOverGolds) {
  QaScore s = ScoreAnswer("Cambridge", {"University of Cambridge", "Cambridge"});
  EXPECT_EQ(s.exact_match, 1.0);
  EXPECT_EQ(s.f1, 1.0);
  // Against "University of Cambridge": P = 1, R = 1/3, F1 = (2/3) / (4/3).
  s = ScoreAnswer("Cambridge", {"Oxford", "the University of Cambridge"});
  EXPECT_EQ(s.exact_match, 0.0);
  EXPECT_DOUBLE_EQ(s.f1, 0.5);
  s = ScoreAnswer("anything", {});
  EXPECT_EQ(s.exact_match, 0.0);
  EXPECT_EQ(s.f1, 0.0);
}

TEST(QaScoreBoardTest, MeansPerFieldInFirstSeenOrderThenOverall) {
  QaScoreBoard board;
  board.Add("city", {1.0, 1.0});
  board.Add("date", {0.0, 0.0});
  board.Add("city", {0.0, 0.5});
  std::vector<QaFieldScore> scores = board.Scores();
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_EQ(scores[0].field, "city");
  EXPECT_EQ(scores[0].questions, 2u);
  EXPECT_DOUBLE_EQ(scores[0].exact_match, 0.5);  // (1 + 0) / 2
  EXPECT_DOUBLE_EQ(scores[0].f1, 0.75);          // (1 + 0.5) / 2
  EXPECT_EQ(scores[1].field, "date");
  EXPECT_EQ(scores[1].questions, 1u);
  EXPECT_EQ(scores[1].f1, 0.0);
  EXPECT_EQ(scores[2].field, "overall");
  EXPECT_EQ(scores[2].questions, 3u);
  EXPECT_DOUBLE_EQ(scores[2].exact_match, 1.0 / 3);  // mean over questions
  EXPECT_DOUBLE_EQ(scores[2].f1, 0.5);               // (1 + 0 + 0.5) / 3
}

TEST(QaScoreBoardTest, EmptyBoardHasOnlyAZeroOverall) {
  std::vector<QaFieldScore> scores = QaScoreBoard().Scores();
  ASSERT_EQ(scores.size(), 1u);
  EXPECT_EQ(scores[0].field, "overall");
  EXPECT_EQ(scores[0].questions, 0u);
  EXPECT_EQ(scores[0].exact_match, 0.0);
}

}  // namespace
}  // namespace cluedrop::trainer
