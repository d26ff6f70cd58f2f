// The architecture of a Hugging Face causal LM, parsed from its config.json.
//
// One struct covers the three supported families; family-specific fields are
// documented where they apply. Torch-free: the coordinator's validator and the
// trainer's from-scratch path use it too.
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(dir + "/config.json"));
//   if (config.family == ModelFamily::kGemma2) ...
#ifndef CLUEDROP_MODELSPEC_MODEL_CONFIG_H_
#define CLUEDROP_MODELSPEC_MODEL_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cluedrop::model {

enum class ModelFamily {
  kLlama,   // llama, mistral, qwen2 (and TinyLlama / SmolLM, which are llama)
  kGemma2,  // gemma2
  kGpt2,    // gpt2
};

// Rotary position embedding scaling (config.json "rope_scaling").
struct RopeScaling {
  std::string type = "default";  // default | linear | llama3
  double factor = 1.0;
  double low_freq_factor = 1.0;                     // llama3
  double high_freq_factor = 4.0;                    // llama3
  int64_t original_max_position_embeddings = 8192;  // llama3
};

struct ModelConfig {
  ModelFamily family = ModelFamily::kLlama;
  std::string model_type;    // "llama", "mistral", "qwen2", "gemma2", "gpt2"
  std::string architecture;  // "LlamaForCausalLM", ...

  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;  // GPT-2: n_inner or 4 * hidden
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;  // == num_heads without grouped-query attention
  int64_t head_dim = 0;      // config "head_dim" or hidden / heads
  int64_t max_position_embeddings = 0;

  double norm_eps = 1e-5;  // rms_norm_eps, or GPT-2's layer_norm_epsilon
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  std::string hidden_act = "silu";  // silu | gelu_pytorch_tanh | gelu_new | gelu

  bool tie_word_embeddings = false;
  bool qkv_bias = false;  // qwen2, or llama attention_bias
  bool o_bias = false;    // llama attention_bias
  bool mlp_bias = false;  // llama mlp_bias

  // Sliding-window attention: window size (keys within `sliding_window` slots
  // of the query, the query included) on layers where layer_sliding[l].
  std::optional<int64_t> sliding_window;
  std::vector<bool> layer_sliding;

  // Gemma-2.
  std::optional<double> attn_logit_softcapping;
  std::optional<double> final_logit_softcapping;
  std::optional<double> query_pre_attn_scalar;  // attention scale = this ** -0.5

  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> pad_token_id;
  std::string torch_dtype;  // as written in the file ("bfloat16", ...), may be empty

  // Attention softmax scale for this config.
  double AttentionScale() const;
  // Parameters, counting tied embeddings once.
  int64_t NumParameters() const;
};

// Parses config.json text. `display_name` names the file in errors, which
// say which field is wrong ("config.json: num_key_value_heads: 3 does not
// divide num_attention_heads 8"). Unknown model types and unsupported rope
// scalings are INVALID_ARGUMENT / UNIMPLEMENTED, never guessed.
StatusOr<ModelConfig> ParseModelConfig(std::string_view json_text,
                                       const std::string& display_name = "config.json");

// Reads and parses a config.json file.
StatusOr<ModelConfig> LoadModelConfig(const std::string& path);

// The config.json text transformers loads for `config` (architectures,
// model_type and every field above under its Hugging Face name).
std::string ModelConfigToJson(const ModelConfig& config);

// Checks the invariants the models rely on (positive sizes, heads divide,
// window > 0, ...). ParseModelConfig calls it; from-scratch configs should too.
Status ValidateModelConfig(const ModelConfig& config, const std::string& display_name);

const char* FamilyName(ModelFamily family);

}  // namespace cluedrop::model

#endif  // CLUEDROP_MODELSPEC_MODEL_CONFIG_H_
