// GPT-2: learned position embeddings, pre-LayerNorm blocks, fused QKV
// projection in Conv1D layout ([in, out] weights), tanh-GELU MLP, tied head.
#ifndef CLUEDROP_WORKERS_MODEL_GPT2_LM_H_
#define CLUEDROP_WORKERS_MODEL_GPT2_LM_H_

#include <torch/torch.h>

#include "workers/model/causal_lm.h"
#include "workers/model/layers.h"

namespace cluedrop::model {

class Gpt2Block : public torch::nn::Module {
 public:
  Gpt2Block(const ModelConfig& config, int64_t layer);
  torch::Tensor forward(const torch::Tensor& x, const AttentionMaskSpec& spec,
                        const ForwardOptions& options);

 private:
  const ModelConfig& config_;
  int64_t layer_;
  std::shared_ptr<LayerNorm> ln_1_, ln_2_;
  std::shared_ptr<Linear> c_attn_, attn_c_proj_, c_fc_, mlp_c_proj_;
};

class Gpt2LM : public CausalLM {
 public:
  explicit Gpt2LM(ModelConfig config);
  torch::Tensor Forward(const torch::Tensor& input_ids, const ForwardOptions& options) override;

 private:
  std::shared_ptr<Embedding> wte_, wpe_;
  std::vector<std::shared_ptr<Gpt2Block>> blocks_;
  std::shared_ptr<LayerNorm> ln_f_;
  std::shared_ptr<Linear> lm_head_;  // null when tied
};

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_GPT2_LM_H_
