// SQuAD v1.1 answer scoring, as the official evaluate-v1.1.py computes it
// (the paper's evaluate.py calls it through the `datasets` "squad" metric):
//   normalise: lowercase, drop string.punctuation, replace the words
//              a/an/the (regex \b(a|an|the)\b) with a space, split on
//              whitespace and rejoin with single spaces;
//   exact match: normalised prediction == normalised gold (0 or 1);
//   token F1: bag-of-tokens overlap of the normalised texts; 0 when nothing
//             overlaps, which includes "both empty" (v1.1 has no special
//             case for empty answers; SQuAD 2.0's script returns 1 there);
//   several gold answers: EM and F1 each take the maximum over them.
// Scores are fractions in [0, 1] (FieldScore in job.proto), not the
// script's percentages.
//
// Text is UTF-8. The official script works on Python str; this code matches
// it exactly for code points U+0000..U+017F (ASCII, Latin-1, Latin
// Extended-A: lowercasing, the \b word boundary, whitespace), for every
// Unicode whitespace character, and for combining marks (U+0300..U+036F) and
// General Punctuation (U+2000..U+206F), which are not word characters; the
// oracle test checks these code point by code point against Python.
// Beyond that: uppercase letters of other scripts (Greek, Cyrillic, ...)
// are kept as they are (Python lowercases them), and other non-ASCII code
// points count as word characters. Bytes that are not valid UTF-8 (partial
// characters from undertrained models) are kept and count as non-word
// characters, like the U+FFFD that replaces them in JSON.
//
// Example:
//   NormalizeAnswer("The Cat sat!")         // "cat sat"
//   ExactMatch("The Cat sat!", "cat sat")   // 1
//   TokenF1("Melbourne", "Melbourne, Australia")  // P 1, R 1/2: F1 2/3
//
// All functions are pure and thread-safe; QaScoreBoard is not thread-safe.
#ifndef CLUEDROP_WORKERS_TRAINER_QA_METRICS_H_
#define CLUEDROP_WORKERS_TRAINER_QA_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cluedrop::trainer {

// The field name of the aggregate over all questions.
inline constexpr std::string_view kOverallField = "overall";

// SQuAD's normalize_answer(text).
std::string NormalizeAnswer(std::string_view text);

// normalize_answer(text).split(): the tokens F1 counts.
std::vector<std::string> AnswerTokens(std::string_view text);

// 1 when the normalised texts are equal, else 0.
double ExactMatch(std::string_view prediction, std::string_view gold);

// SQuAD v1.1 f1_score: 2PR/(P+R) over the multiset of common tokens; 0 when
// no token is common (also when both sides normalise to nothing).
double TokenF1(std::string_view prediction, std::string_view gold);

struct QaScore {
  double exact_match = 0;  // 0 or 1 for one question
  double f1 = 0;           // in [0, 1]
};

// EM and F1 each maximised over `golds` (metric_max_over_ground_truths);
// {0, 0} when `golds` is empty.
QaScore ScoreAnswer(std::string_view prediction, const std::vector<std::string>& golds);

// Mean scores of one field (or of "overall") over its questions.
struct QaFieldScore {
  std::string field;
  uint32_t questions = 0;
  double exact_match = 0;  // mean, in [0, 1]
  double f1 = 0;           // mean, in [0, 1]
};

// Sums per-question scores per field and overall.
//
// Example:
//   QaScoreBoard board;
//   board.Add("city", ScoreAnswer(prediction, {gold}));
//   std::vector<QaFieldScore> scores = board.Scores();  // city, overall
class QaScoreBoard {
 public:
  void Add(const std::string& field, const QaScore& score);

  // One entry per field in the order of their first Add, then "overall"
  // (the mean over every question, so fields weigh by their question
  // count); "overall" is always present, with zeros when nothing was added.
  std::vector<QaFieldScore> Scores() const;

 private:
  struct Sum {
    uint32_t questions = 0;
    double exact_match = 0;
    double f1 = 0;
  };
  std::vector<std::string> order_;
  std::map<std::string, Sum> sums_;
  Sum overall_;
};

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_QA_METRICS_H_
