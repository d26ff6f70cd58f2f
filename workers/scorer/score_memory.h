// Measures the CPU tensor memory of scoring (the memory planner's ground
// truth for scorers; issue 19): random-init large and small models from
// their configs, `docs` documents of `doc_tokens` tokens scored with
// `batch_tokens` per batch under a CpuMemoryMeter.
//
// Example:
//   StatusOr<ScoreMemory> m = MeasureScoreMemory(large, small, 4096, 2, 1024);
#ifndef CLUEDROP_WORKERS_SCORER_SCORE_MEMORY_H_
#define CLUEDROP_WORKERS_SCORER_SCORE_MEMORY_H_

#include <cstdint>

#include "base/status.h"
#include "modelspec/model_config.h"

namespace cluedrop::scorer {

struct ScoreMemory {
  int64_t weights_bytes = 0;  // both models (float32, CPU)
  int64_t peak_bytes = 0;     // the highest total while scoring, above the start
};

StatusOr<ScoreMemory> MeasureScoreMemory(const model::ModelConfig& large,
                                         const model::ModelConfig& small, int64_t batch_tokens,
                                         int64_t docs, int64_t doc_tokens);

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_SCORE_MEMORY_H_
