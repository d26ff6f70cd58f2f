// Llama-family (Llama 2/3/3.1/3.2, Mistral, Qwen2, TinyLlama, SmolLM) and
// Gemma-2 decoders: RoPE, grouped-query attention, gated MLP, RMSNorm; Gemma-2
// adds scaled embeddings, (1 + w) norms around both sublayers, attention and
// final logit soft-capping and alternating sliding-window layers.
#ifndef CLUEDROP_WORKERS_MODEL_DECODER_LM_H_
#define CLUEDROP_WORKERS_MODEL_DECODER_LM_H_

#include <torch/torch.h>

#include "workers/model/causal_lm.h"
#include "workers/model/layers.h"
#include "workers/model/rope.h"

namespace cluedrop::model {

class DecoderAttention : public torch::nn::Module {
 public:
  DecoderAttention(const ModelConfig& config, int64_t layer);
  torch::Tensor forward(const torch::Tensor& x, const RopeTables& rope,
                        const AttentionMaskSpec& spec, const ForwardOptions& options);

 private:
  const ModelConfig& config_;
  int64_t layer_;
  std::shared_ptr<Linear> q_proj_, k_proj_, v_proj_, o_proj_;
};

class DecoderMlp : public torch::nn::Module {
 public:
  explicit DecoderMlp(const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::string act_;
  std::shared_ptr<Linear> gate_proj_, up_proj_, down_proj_;
};

class DecoderLayer : public torch::nn::Module {
 public:
  DecoderLayer(const ModelConfig& config, int64_t layer);
  torch::Tensor forward(const torch::Tensor& x, const RopeTables& rope,
                        const AttentionMaskSpec& spec, const ForwardOptions& options);

 private:
  bool gemma_;
  std::shared_ptr<DecoderAttention> self_attn_;
  std::shared_ptr<DecoderMlp> mlp_;
  std::shared_ptr<RmsNorm> input_layernorm_, post_attention_layernorm_;
  std::shared_ptr<RmsNorm> pre_feedforward_layernorm_, post_feedforward_layernorm_;  // Gemma-2
};

class DecoderLM : public CausalLM {
 public:
  explicit DecoderLM(ModelConfig config);
  torch::Tensor Forward(const torch::Tensor& input_ids, const ForwardOptions& options) override;

 private:
  torch::nn::Module* body_;  // "model"
  std::shared_ptr<Embedding> embed_tokens_;
  std::vector<std::shared_ptr<DecoderLayer>> layers_;
  std::shared_ptr<RmsNorm> norm_;
  std::shared_ptr<Linear> lm_head_;  // null when tied
  torch::Tensor inv_freq_;
};

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_DECODER_LM_H_
