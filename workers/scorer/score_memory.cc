#include "workers/scorer/score_memory.h"

#include <torch/torch.h>

#include "workers/model/causal_lm.h"
#include "workers/model/cpu_memory_meter.h"
#include "workers/scorer/scorer.h"

namespace cluedrop::scorer {

StatusOr<ScoreMemory> MeasureScoreMemory(const model::ModelConfig& large_config,
                                         const model::ModelConfig& small_config,
                                         int64_t batch_tokens, int64_t docs, int64_t doc_tokens) {
  model::CpuMemoryMeter meter;
  const int64_t base = meter.current_bytes();
  torch::manual_seed(0);
  CLUEDROP_ASSIGN_OR_RETURN(std::shared_ptr<model::CausalLM> large,
                            model::CreateCausalLM(large_config));
  CLUEDROP_ASSIGN_OR_RETURN(std::shared_ptr<model::CausalLM> small,
                            model::CreateCausalLM(small_config));
  ScoreMemory result;
  result.weights_bytes = meter.current_bytes() - base;
  const int64_t vocab = std::min(large_config.vocab_size, small_config.vocab_size);
  std::vector<std::vector<int32_t>> ids(docs, std::vector<int32_t>(doc_tokens));
  for (int64_t d = 0; d < docs; ++d) {
    for (int64_t t = 0; t < doc_tokens; ++t) {
      ids[d][t] = static_cast<int32_t>((t * 37 + d * 11) % (vocab - 3) + 3);
    }
  }
  ScoreOptions options;
  options.batch_tokens = batch_tokens;
  meter.ResetPeak();
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<DocumentScores> scores,
                            Scorer(options).Score(*large, *small, ids));
  result.peak_bytes = meter.peak_bytes() - base;
  (void)scores;
  return result;
}

}  // namespace cluedrop::scorer
