// Greedy decoding with a KV cache, batched over left-padded prompts.
#ifndef CLUEDROP_WORKERS_MODEL_GENERATION_H_
#define CLUEDROP_WORKERS_MODEL_GENERATION_H_

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "workers/model/causal_lm.h"

namespace cluedrop::model {

struct GenerationOptions {
  int64_t max_new_tokens = 20;
  // A row stops after producing one of these (it is kept in the output).
  // Generation ends early when every row has stopped.
  std::vector<int64_t> stop_token_ids;
  // Id used to left-pad prompts of different lengths (any id works: padded
  // slots are masked out).
  int64_t pad_token_id = 0;
};

// Greedily continues each prompt; returns the new tokens of each row (up to
// and including a stop token). Prompts must be non-empty and fit, with the
// new tokens, in the model's max_position_embeddings.
StatusOr<std::vector<std::vector<int64_t>>> GreedyGenerate(
    CausalLM& model, const std::vector<std::vector<int64_t>>& prompts,
    const GenerationOptions& options);

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_GENERATION_H_
