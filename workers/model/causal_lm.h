// A causal language model of one of the supported families, as a
// torch::nn::Module whose parameter names are the Hugging Face checkpoint
// names. Create with CreateCausalLM (random init, e.g. for pretraining from
// a config) or LoadCausalLM (model_loader.h).
//
// Example:
//   auto model = CreateCausalLM(config);
//   ForwardOptions options;
//   options.attention_mask = mask;  // [B, T], 1 = real token
//   torch::Tensor logits = (*model)->Forward(input_ids, options);  // [B, T, V]
//
// Not thread-safe: one forward at a time per model instance.
#ifndef CLUEDROP_WORKERS_MODEL_CAUSAL_LM_H_
#define CLUEDROP_WORKERS_MODEL_CAUSAL_LM_H_

#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "modelspec/model_config.h"
#include "workers/model/attention.h"
#include "workers/model/kv_cache.h"

namespace cluedrop::model {

struct ForwardOptions {
  // [B, T] (1 = real token, 0 = padding; left or right padding). Undefined:
  // every token is real.
  torch::Tensor attention_mask;
  // [B, T] position ids. Undefined: cumsum(attention_mask) - 1 (clamped at
  // 0), continuing from the cache's positions.
  torch::Tensor position_ids;
  // Incremental decoding: keys/values of earlier steps; this step's are appended.
  KvCache* cache = nullptr;
  // Sees every layer's post-RoPE queries and keys (the scorer's hook).
  AttentionObserver* observer = nullptr;
  // Logits for the last slot only ([B, 1, V]), for generation.
  bool last_token_only = false;
  // Skip the output head (the scorer needs only the observer): returns the
  // final hidden states [B, T, hidden] instead of logits.
  bool skip_lm_head = false;
};

// Where the layers live: layer i on layer_devices[i]; embeddings on the
// first layer's device, final norm and head on the last one's.
struct DeviceMap {
  std::vector<torch::Device> layer_devices;
  // Splits `num_layers` into contiguous, equal-as-possible blocks over `devices`.
  static DeviceMap Even(int64_t num_layers, const std::vector<torch::Device>& devices);
};

class CausalLM : public torch::nn::Module {
 public:
  explicit CausalLM(ModelConfig config);

  // Logits [B, T, V] (float in the model's dtype), see ForwardOptions.
  virtual torch::Tensor Forward(const torch::Tensor& input_ids, const ForwardOptions& options) = 0;

  const ModelConfig& config() const { return config_; }

  // Base-model tensors under their Hugging Face names: no LoRA matrices, no
  // tied output head (transformers re-ties it).
  std::vector<std::pair<std::string, torch::Tensor>> HfTensors();
  // LoRA tensors under PEFT names ("base_model.model.<module>.lora_A.weight").
  std::vector<std::pair<std::string, torch::Tensor>> PeftTensors();

  // Adds LoRA to every linear layer whose attribute name is in `targets`
  // (e.g. q_proj, v_proj; GPT-2: c_attn, c_proj, c_fc). Returns the number of
  // layers adapted; INVALID_ARGUMENT when a target matches nothing.
  StatusOr<int64_t> EnableLora(const std::vector<std::string>& targets, int64_t rank, double alpha);

  // Weight-only int8 for the frozen base under LoRA (Linear::QuantizeInt8)
  // on every linear layer but the output head (as bitsandbytes' 8-bit
  // loading). Call before EnableLora and Place. Returns the layers quantized.
  StatusOr<int64_t> QuantizeBaseInt8();

  // Activation checkpointing while training: layers 0, k, 2k, ... keep only
  // their input and are recomputed in backward (0: none, 1: every layer).
  // Applies to forwards with grad enabled and no cache or observer.
  void SetActivationCheckpointing(int64_t every) { checkpoint_every_ = every; }
  int64_t activation_checkpointing() const { return checkpoint_every_; }

  // Moves layers to the devices of `map` (and converts to `dtype`).
  Status Place(const DeviceMap& map, torch::ScalarType dtype);
  // The device of input ids / the device logits come back on.
  torch::Device input_device() const { return input_device_; }
  torch::Device output_device() const { return output_device_; }
  torch::ScalarType dtype() const { return dtype_; }

 protected:
  // Shared forward prologue: validity mask, position ids and mask spec.
  struct Prologue {
    torch::Tensor valid;          // [B, T] bool
    torch::Tensor position_ids;   // [B, T] long
    AttentionMaskSpec spec;       // sliding window left unset
    torch::Tensor next_position;  // [B]
  };
  Prologue Prepare(const torch::Tensor& input_ids, const ForwardOptions& options) const;
  // Records the step in the cache (after all layers ran).
  static void FinishStep(const ForwardOptions& options, const Prologue& prologue);
  // The checkpoint interval for this forward (0 when it has a cache or an
  // observer, which recomputation would feed twice).
  int64_t checkpoint_every(const ForwardOptions& options) const {
    return options.cache != nullptr || options.observer != nullptr ? 0 : checkpoint_every_;
  }

  // Set by each family's constructor: what Place puts on the first layer's
  // device (embeddings), on each layer's, and on the last layer's (final
  // norm, untied head).
  std::vector<std::shared_ptr<torch::nn::Module>> input_modules_, layer_modules_, output_modules_;
  std::vector<torch::Device> layer_devices_;

  ModelConfig config_;
  torch::Device input_device_ = torch::kCPU;
  torch::Device output_device_ = torch::kCPU;
  torch::ScalarType dtype_ = torch::kFloat;
  int64_t checkpoint_every_ = 0;
};

// A randomly initialised model for `config` on the CPU in float32.
StatusOr<std::shared_ptr<CausalLM>> CreateCausalLM(const ModelConfig& config);

// Parses "float32" / "bf16" / "bfloat16" / "float16" / "fp16".
StatusOr<torch::ScalarType> ParseTorchDtype(const std::string& name);
// Parses "cpu", "cuda", "cuda:1".
StatusOr<torch::Device> ParseTorchDevice(const std::string& name);

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_CAUSAL_LM_H_
