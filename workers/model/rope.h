// Rotary position embeddings as Hugging Face computes them for Llama-family
// and Gemma-2 models, including "linear" and "llama3" frequency scaling.
#ifndef CLUEDROP_WORKERS_MODEL_ROPE_H_
#define CLUEDROP_WORKERS_MODEL_ROPE_H_

#include <torch/torch.h>

#include "modelspec/model_config.h"

namespace cluedrop::model {

// The inverse frequencies [head_dim / 2] (float32, CPU) after scaling.
torch::Tensor RopeInverseFrequencies(const ModelConfig& config);

// cos and sin [B, T, head_dim] for position ids [B, T], computed in float32
// and returned in `dtype` (as transformers does).
struct RopeTables {
  torch::Tensor cos;
  torch::Tensor sin;
};
RopeTables RopeCosSin(const torch::Tensor& inv_freq, const torch::Tensor& position_ids,
                      torch::ScalarType dtype);

// Applies the rotation to x [B, heads, T, head_dim] with the "rotate half"
// layout transformers uses.
torch::Tensor ApplyRope(const torch::Tensor& x, const RopeTables& tables);

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_ROPE_H_
