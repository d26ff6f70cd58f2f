// The QA evaluation's generator for a model held in memory: greedy
// generation with the trained model itself (no export and reload), as the
// training runner's final evaluation uses it. A torch TU behind a
// torch-free interface (QaGenerator, qa_evaluation.h); the model and
// tokenizer must outlive it.
#ifndef CLUEDROP_WORKERS_TRAINER_MODEL_QA_GENERATOR_H_
#define CLUEDROP_WORKERS_TRAINER_MODEL_QA_GENERATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "workers/trainer/qa_evaluation.h"

namespace cluedrop::model {
class CausalLM;
class Tokenizer;
}  // namespace cluedrop::model

namespace cluedrop::trainer {

class ModelQaGenerator : public QaGenerator {
 public:
  ModelQaGenerator(model::CausalLM& model, const model::Tokenizer& tokenizer, int64_t pad_id)
      : model_(model), tokenizer_(tokenizer), pad_id_(pad_id) {}

  StatusOr<std::vector<std::string>> Generate(const std::vector<std::string>& prompts,
                                              int64_t max_new_tokens) override;

 private:
  model::CausalLM& model_;
  const model::Tokenizer& tokenizer_;
  int64_t pad_id_;
};

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_MODEL_QA_GENERATOR_H_
