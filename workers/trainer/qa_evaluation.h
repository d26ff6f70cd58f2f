// The fact-memorization QA evaluation (DESIGN.md section 1, "Evaluation"),
// torch-free: the model sits behind QaGenerator (greedy generation, batched),
// so the driver runs with a fake in unit tests, with a TextGenerator in
// `cluedrop eval`, and with the trainer's in-memory model after training.
//
// Per question: the model greedily continues the prompt (qa_prompts.h) for
// at most max_new_tokens tokens, the answer is the continuation up to its
// first newline, and it is scored against the gold answers with SQuAD v1.1
// exact match and token F1 (qa_metrics.h); scores are averaged per field
// and overall (FieldScore / EvaluationResult in job.proto).
//
// Example:
//   QaEvalOptions options;  // 5 shots, 10 new tokens
//   CLUEDROP_ASSIGN_OR_RETURN(std::vector<QaQuestion> questions,
//                             BuildQaQuestions(table, pool, items, options.prompts));
//   CLUEDROP_ASSIGN_OR_RETURN(QaEvalResult result,
//                             EvaluateQa(generator, questions, options));
//   // result.fields: date, city, ..., overall
#ifndef CLUEDROP_WORKERS_TRAINER_QA_EVALUATION_H_
#define CLUEDROP_WORKERS_TRAINER_QA_EVALUATION_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "workers/trainer/qa_metrics.h"
#include "workers/trainer/qa_prompts.h"

namespace cluedrop::trainer {

// Greedy text generation for a batch of prompts. Implementations need not be
// thread-safe: EvaluateQa calls Generate from one thread.
class QaGenerator {
 public:
  virtual ~QaGenerator() = default;
  // The greedy continuation of each prompt, in order: new text only
  // (decoded, special tokens skipped), at most `max_new_tokens` tokens,
  // stopping at the model's EOS. Returns exactly prompts.size() strings.
  virtual StatusOr<std::vector<std::string>> Generate(const std::vector<std::string>& prompts,
                                                      int64_t max_new_tokens) = 0;
};

struct QaEvalOptions {
  QaPromptOptions prompts;      // shots (default 5), few-shot seed
  int64_t max_new_tokens = 10;  // greedy tokens per answer (EvaluationSpec)
  size_t batch_size = 8;        // prompts per Generate call (>= 1)
  // Called after every batch with (questions done, questions in total).
  std::function<void(size_t, size_t)> progress;
};

struct QaPrediction {
  QaQuestion question;
  std::string generated;   // the model's raw continuation
  std::string prediction;  // ExtractQaAnswer(generated)
  QaScore score;
};

struct QaEvalResult {
  std::vector<QaPrediction> predictions;  // in question order
  // Per field in question order, then "overall" (QaScoreBoard::Scores).
  std::vector<QaFieldScore> fields;
};

// Runs every question through `generator` in batches and scores it.
// INVALID_ARGUMENT for max_new_tokens < 1 or batch_size 0; the generator's
// error (annotated "questions B-E of N") when it fails, INTERNAL when it returns
// another number of continuations than prompts.
StatusOr<QaEvalResult> EvaluateQa(QaGenerator& generator, const std::vector<QaQuestion>& questions,
                                  const QaEvalOptions& options);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_QA_EVALUATION_H_
