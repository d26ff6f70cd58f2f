#include "workers/model/decoder_lm.h"

#include <cmath>
#include <map>

#include "workers/model/activation_checkpoint.h"

namespace cluedrop::model {

DecoderAttention::DecoderAttention(const ModelConfig& config, int64_t layer)
    : config_(config), layer_(layer) {
  const int64_t h = config.hidden_size, q = config.num_heads * config.head_dim;
  const int64_t kv = config.num_kv_heads * config.head_dim;
  q_proj_ = register_module("q_proj", std::make_shared<Linear>(h, q, config.qkv_bias));
  k_proj_ = register_module("k_proj", std::make_shared<Linear>(h, kv, config.qkv_bias));
  v_proj_ = register_module("v_proj", std::make_shared<Linear>(h, kv, config.qkv_bias));
  o_proj_ = register_module("o_proj", std::make_shared<Linear>(q, h, config.o_bias));
}

torch::Tensor DecoderAttention::forward(const torch::Tensor& x, const RopeTables& rope,
                                        const AttentionMaskSpec& spec,
                                        const ForwardOptions& options) {
  const int64_t b = x.size(0), t = x.size(1), d = config_.head_dim;
  auto heads = [&](const torch::Tensor& y, int64_t n) {
    return y.view({b, t, n, d}).transpose(1, 2);
  };
  torch::Tensor q = ApplyRope(heads(q_proj_->forward(x), config_.num_heads), rope);
  torch::Tensor k = ApplyRope(heads(k_proj_->forward(x), config_.num_kv_heads), rope);
  torch::Tensor v = heads(v_proj_->forward(x), config_.num_kv_heads);
  if (options.cache != nullptr) std::tie(k, v) = options.cache->Append(layer_, k, v);
  AttentionMaskSpec layer_spec = spec;
  if (config_.layer_sliding[layer_]) layer_spec.sliding_window = config_.sliding_window;
  const LayerAttention observed{
      layer_, q, k, config_.AttentionScale(), config_.attn_logit_softcapping, layer_spec};
  torch::Tensor out = ObservedAttend(q, k, v, observed, options.observer);
  return o_proj_->forward(out.transpose(1, 2).reshape({b, t, config_.num_heads * d}));
}

DecoderMlp::DecoderMlp(const ModelConfig& config) : act_(config.hidden_act) {
  const int64_t h = config.hidden_size, m = config.intermediate_size;
  gate_proj_ = register_module("gate_proj", std::make_shared<Linear>(h, m, config.mlp_bias));
  up_proj_ = register_module("up_proj", std::make_shared<Linear>(h, m, config.mlp_bias));
  down_proj_ = register_module("down_proj", std::make_shared<Linear>(m, h, config.mlp_bias));
}

torch::Tensor DecoderMlp::forward(const torch::Tensor& x) {
  return down_proj_->forward(Activation(act_, gate_proj_->forward(x)) * up_proj_->forward(x));
}

DecoderLayer::DecoderLayer(const ModelConfig& config, int64_t layer)
    : gemma_(config.family == ModelFamily::kGemma2) {
  const int64_t h = config.hidden_size;
  self_attn_ = register_module("self_attn", std::make_shared<DecoderAttention>(config, layer));
  mlp_ = register_module("mlp", std::make_shared<DecoderMlp>(config));
  auto norm = [&](const char* name) {
    return register_module(name, std::make_shared<RmsNorm>(h, config.norm_eps, gemma_));
  };
  input_layernorm_ = norm("input_layernorm");
  post_attention_layernorm_ = norm("post_attention_layernorm");
  if (gemma_) {
    pre_feedforward_layernorm_ = norm("pre_feedforward_layernorm");
    post_feedforward_layernorm_ = norm("post_feedforward_layernorm");
  }
}

torch::Tensor DecoderLayer::forward(const torch::Tensor& x, const RopeTables& rope,
                                    const AttentionMaskSpec& spec, const ForwardOptions& options) {
  torch::Tensor attn = self_attn_->forward(input_layernorm_->forward(x), rope, spec, options);
  if (gemma_) {
    torch::Tensor h = x + post_attention_layernorm_->forward(attn);
    return h + post_feedforward_layernorm_->forward(
                   mlp_->forward(pre_feedforward_layernorm_->forward(h)));
  }
  torch::Tensor h = x + attn;
  return h + mlp_->forward(post_attention_layernorm_->forward(h));
}

DecoderLM::DecoderLM(ModelConfig config) : CausalLM(std::move(config)) {
  const ModelConfig& c = config_;
  auto body = register_module("model", std::make_shared<torch::nn::Module>());
  body_ = body.get();
  embed_tokens_ = body->register_module("embed_tokens",
                                        std::make_shared<Embedding>(c.vocab_size, c.hidden_size));
  auto list = body->register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_layers; ++i) {
    layers_.push_back(std::make_shared<DecoderLayer>(c, i));
    layer_modules_.push_back(layers_.back());
    list->push_back(layers_.back());
  }
  norm_ = body->register_module(
      "norm",
      std::make_shared<RmsNorm>(c.hidden_size, c.norm_eps, c.family == ModelFamily::kGemma2));
  if (!c.tie_word_embeddings) {
    lm_head_ =
        register_module("lm_head", std::make_shared<Linear>(c.hidden_size, c.vocab_size, false));
  }
  input_modules_ = {embed_tokens_};
  output_modules_ = {norm_};
  if (lm_head_) output_modules_.push_back(lm_head_);
  inv_freq_ = RopeInverseFrequencies(c);
}

torch::Tensor DecoderLM::Forward(const torch::Tensor& input_ids, const ForwardOptions& options) {
  Prologue p = Prepare(input_ids.to(input_device_), options);
  torch::Tensor h = embed_tokens_->forward(input_ids.to(input_device_));
  if (config_.family == ModelFamily::kGemma2) {
    // transformers rounds the normaliser to the hidden dtype first.
    torch::Tensor normalizer = torch::tensor(std::sqrt(static_cast<double>(config_.hidden_size)),
                                             torch::TensorOptions().dtype(h.scalar_type()));
    h = h * normalizer.to(h.device());
  }
  std::map<std::string, std::pair<RopeTables, AttentionMaskSpec>> per_device;
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    const torch::Device device = layer_devices_[i];
    auto it = per_device.find(device.str());
    if (it == per_device.end()) {
      AttentionMaskSpec spec = p.spec;
      if (spec.key_valid.defined()) spec.key_valid = spec.key_valid.to(device);
      it = per_device
               .emplace(
                   device.str(),
                   std::make_pair(RopeCosSin(inv_freq_, p.position_ids.to(device), dtype_), spec))
               .first;
    }
    if (CheckpointsLayer(checkpoint_every(options), i)) {
      // Captured by value: the recomputation runs after Forward returns.
      h = Checkpointed(h.to(device), [layer = layers_[i], rope = it->second.first,
                                      spec = it->second.second, options](const torch::Tensor& x) {
        return layer->forward(x, rope, spec, options);
      });
    } else {
      h = layers_[i]->forward(h.to(device), it->second.first, it->second.second, options);
    }
  }
  FinishStep(options, p);
  if (options.last_token_only) h = h.narrow(1, h.size(1) - 1, 1);
  h = norm_->forward(h.to(output_device_));
  if (options.skip_lm_head) return h;
  torch::Tensor logits =
      lm_head_ ? lm_head_->forward(h)
               : torch::nn::functional::linear(h, embed_tokens_->weight.to(h.device()));
  if (config_.final_logit_softcapping) {
    const double cap = *config_.final_logit_softcapping;
    logits = torch::tanh(logits / cap) * cap;
  }
  return logits;
}

}  // namespace cluedrop::model
