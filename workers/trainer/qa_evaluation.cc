#include "workers/trainer/qa_evaluation.h"

#include <algorithm>
#include <utility>

namespace cluedrop::trainer {

StatusOr<QaEvalResult> EvaluateQa(QaGenerator& generator, const std::vector<QaQuestion>& questions,
                                  const QaEvalOptions& options) {
  if (options.max_new_tokens < 1) {
    return InvalidArgumentError("max_new_tokens must be at least 1, got " +
                                std::to_string(options.max_new_tokens));
  }
  if (options.batch_size == 0) return InvalidArgumentError("batch_size must be at least 1");
  QaEvalResult result;
  result.predictions.reserve(questions.size());
  QaScoreBoard board;
  for (size_t begin = 0; begin < questions.size(); begin += options.batch_size) {
    const size_t end = std::min(questions.size(), begin + options.batch_size);
    std::vector<std::string> prompts;
    for (size_t i = begin; i < end; ++i) prompts.push_back(questions[i].prompt);
    StatusOr<std::vector<std::string>> generated =
        generator.Generate(prompts, options.max_new_tokens);
    if (!generated.ok()) {
      return generated.status().Annotated("questions " + std::to_string(begin + 1) + "-" +
                                          std::to_string(end) + " of " +
                                          std::to_string(questions.size()));
    }
    if (generated->size() != prompts.size()) {
      return InternalError("the generator returned " + std::to_string(generated->size()) +
                           " continuations for " + std::to_string(prompts.size()) + " prompts");
    }
    for (size_t i = begin; i < end; ++i) {
      QaPrediction p;
      p.question = questions[i];
      p.generated = std::move((*generated)[i - begin]);
      p.prediction = ExtractQaAnswer(p.generated);
      p.score = ScoreAnswer(p.prediction, p.question.answers);
      board.Add(p.question.field, p.score);
      result.predictions.push_back(std::move(p));
    }
    if (options.progress) options.progress(end, questions.size());
  }
  result.fields = board.Scores();
  return result;
}

}  // namespace cluedrop::trainer
