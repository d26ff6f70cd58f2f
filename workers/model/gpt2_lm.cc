#include "workers/model/gpt2_lm.h"

#include <cmath>

#include "workers/model/activation_checkpoint.h"

namespace cluedrop::model {

Gpt2Block::Gpt2Block(const ModelConfig& config, int64_t layer) : config_(config), layer_(layer) {
  const int64_t h = config.hidden_size, m = config.intermediate_size;
  ln_1_ = register_module("ln_1", std::make_shared<LayerNorm>(h, config.norm_eps));
  auto attn = register_module("attn", std::make_shared<torch::nn::Module>());
  c_attn_ = attn->register_module("c_attn", std::make_shared<Linear>(h, 3 * h, true, true));
  attn_c_proj_ = attn->register_module("c_proj", std::make_shared<Linear>(h, h, true, true));
  ln_2_ = register_module("ln_2", std::make_shared<LayerNorm>(h, config.norm_eps));
  auto mlp = register_module("mlp", std::make_shared<torch::nn::Module>());
  c_fc_ = mlp->register_module("c_fc", std::make_shared<Linear>(h, m, true, true));
  mlp_c_proj_ = mlp->register_module("c_proj", std::make_shared<Linear>(m, h, true, true));
}

torch::Tensor Gpt2Block::forward(const torch::Tensor& x, const AttentionMaskSpec& spec,
                                 const ForwardOptions& options) {
  const int64_t b = x.size(0), t = x.size(1), h = config_.hidden_size, d = config_.head_dim;
  std::vector<torch::Tensor> qkv = c_attn_->forward(ln_1_->forward(x)).split(h, -1);
  auto heads = [&](const torch::Tensor& y) {
    return y.view({b, t, config_.num_heads, d}).transpose(1, 2);
  };
  torch::Tensor q = heads(qkv[0]), k = heads(qkv[1]), v = heads(qkv[2]);
  if (options.cache != nullptr) std::tie(k, v) = options.cache->Append(layer_, k, v);
  const LayerAttention observed{layer_, q, k, config_.AttentionScale(), std::nullopt, spec};
  torch::Tensor attn = ObservedAttend(q, k, v, observed, options.observer);
  torch::Tensor hidden = x + attn_c_proj_->forward(attn.transpose(1, 2).reshape({b, t, h}));
  torch::Tensor mlp =
      mlp_c_proj_->forward(Activation(config_.hidden_act, c_fc_->forward(ln_2_->forward(hidden))));
  return hidden + mlp;
}

Gpt2LM::Gpt2LM(ModelConfig config) : CausalLM(std::move(config)) {
  const ModelConfig& c = config_;
  auto body = register_module("transformer", std::make_shared<torch::nn::Module>());
  wte_ = body->register_module("wte", std::make_shared<Embedding>(c.vocab_size, c.hidden_size));
  wpe_ = body->register_module(
      "wpe", std::make_shared<Embedding>(c.max_position_embeddings, c.hidden_size));
  auto list = body->register_module("h", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_layers; ++i) {
    blocks_.push_back(std::make_shared<Gpt2Block>(c, i));
    layer_modules_.push_back(blocks_.back());
    list->push_back(blocks_.back());
  }
  ln_f_ = body->register_module("ln_f", std::make_shared<LayerNorm>(c.hidden_size, c.norm_eps));
  if (!c.tie_word_embeddings) {
    lm_head_ =
        register_module("lm_head", std::make_shared<Linear>(c.hidden_size, c.vocab_size, false));
  }
  input_modules_ = {wte_, wpe_};
  output_modules_ = {ln_f_};
  if (lm_head_) output_modules_.push_back(lm_head_);
}

torch::Tensor Gpt2LM::Forward(const torch::Tensor& input_ids, const ForwardOptions& options) {
  torch::Tensor ids = input_ids.to(input_device_);
  Prologue p = Prepare(ids, options);
  TORCH_CHECK(p.position_ids.max().item<int64_t>() < config_.max_position_embeddings, "position ",
              p.position_ids.max().item<int64_t>(), " exceeds n_positions ",
              config_.max_position_embeddings);
  torch::Tensor h = wte_->forward(ids) + wpe_->forward(p.position_ids);
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    AttentionMaskSpec spec = p.spec;
    if (spec.key_valid.defined()) spec.key_valid = spec.key_valid.to(layer_devices_[i]);
    if (CheckpointsLayer(checkpoint_every(options), i)) {
      h = Checkpointed(h.to(layer_devices_[i]),
                       [block = blocks_[i], spec, options](const torch::Tensor& x) {
                         return block->forward(x, spec, options);
                       });
    } else {
      h = blocks_[i]->forward(h.to(layer_devices_[i]), spec, options);
    }
  }
  FinishStep(options, p);
  if (options.last_token_only) h = h.narrow(1, h.size(1) - 1, 1);
  h = ln_f_->forward(h.to(output_device_));
  if (options.skip_lm_head) return h;
  return lm_head_ ? lm_head_->forward(h)
                  : torch::nn::functional::linear(h, wte_->weight.to(h.device()));
}

}  // namespace cluedrop::model
