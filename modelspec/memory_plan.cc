#include "modelspec/memory_plan.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace cluedrop::model {
namespace {

constexpr int64_t kF32 = 4;
constexpr int64_t kGpuWorkspace = int64_t{1} << 30;
// Scoring: values per token of a no-grad forward's peak (fitted; see
// ScoringPerToken).
constexpr double kScoreH = 0.5, kScoreQ = 0.5, kScoreKv = 0.25, kScoreM = 4;

// One linear layer of a decoder layer: its attribute name and shape.
struct LinearShape {
  std::string name;
  int64_t in = 0, out = 0;
  bool bias = false;
};

std::vector<LinearShape> LayerLinears(const ModelConfig& c) {
  const int64_t h = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  const int64_t m = c.intermediate_size;
  if (c.family == ModelFamily::kGpt2) {
    return {{"c_attn", h, 3 * h, true},
            {"c_proj", h, h, true},
            {"c_fc", h, m, true},
            {"c_proj", m, h, true}};
  }
  return {{"q_proj", h, q, c.qkv_bias},    {"k_proj", h, kv, c.qkv_bias},
          {"v_proj", h, kv, c.qkv_bias},   {"o_proj", q, h, c.o_bias},
          {"gate_proj", h, m, c.mlp_bias}, {"up_proj", h, m, c.mlp_bias},
          {"down_proj", m, h, c.mlp_bias}};
}

// Norm parameters of one decoder layer.
int64_t LayerNormParams(const ModelConfig& c) {
  if (c.family == ModelFamily::kGpt2) return 4 * c.hidden_size;
  return (c.family == ModelFamily::kGemma2 ? 4 : 2) * c.hidden_size;
}

// Activation values kept per token by one layer without checkpointing.
double LayerActivationPerToken(const ModelConfig& c, bool frozen_base) {
  const double h = static_cast<double>(c.hidden_size);
  const double q = static_cast<double>(c.num_heads * c.head_dim);
  const double kv = static_cast<double>(c.num_kv_heads * c.head_dim);
  const double m = static_cast<double>(c.intermediate_size);
  return frozen_base ? 3 * h + 2 * q + 3 * m + 2 * kv : 6 * h + 2 * q + 4 * m + 2 * kv;
}

// One layer's recomputation in backward (checkpointing).
double LayerRecomputePerToken(const ModelConfig& c) {
  const double h = static_cast<double>(c.hidden_size);
  const double q = static_cast<double>(c.num_heads * c.head_dim);
  const double kv = static_cast<double>(c.num_kv_heads * c.head_dim);
  const double m = static_cast<double>(c.intermediate_size);
  return 6 * h + 2 * q + 7 * m + 2 * kv;
}

}  // namespace

std::string FormatBytes(int64_t bytes) {
  char out[32];
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024) {
    std::snprintf(out, sizeof(out), "%.1f GiB", b / (1024.0 * 1024 * 1024));
  } else if (b >= 1024.0 * 1024) {
    std::snprintf(out, sizeof(out), "%.1f MiB", b / (1024.0 * 1024));
  } else if (b >= 1024.0) {
    std::snprintf(out, sizeof(out), "%.1f KiB", b / 1024.0);
  } else {
    std::snprintf(out, sizeof(out), "%lld B", static_cast<long long>(bytes));
  }
  return out;
}

StatusOr<std::vector<DeviceMemory>> PlanTrainerMemory(const ModelConfig& c,
                                                      const TrainMemoryInput& in) {
  const int64_t layers_total = c.num_layers;
  std::vector<int64_t> split = in.layer_split;
  if (split.empty()) split = {layers_total};
  int64_t sum = 0;
  for (int64_t n : split) {
    if (n < 1) return InvalidArgumentError("device_map.layer_split: every entry must be > 0");
    sum += n;
  }
  if (sum != layers_total) {
    return InvalidArgumentError("device_map.layer_split: sums to " + std::to_string(sum) +
                                ", the model has " + std::to_string(layers_total) + " layers");
  }
  const bool lora = in.lora_rank > 0;
  if (in.int8_base && !lora) {
    return InvalidArgumentError("quantization: int8 needs lora.rank > 0 (the int8 base is frozen)");
  }
  std::vector<std::string> targets = in.lora_targets;
  if (targets.empty()) targets = {"q_proj", "v_proj"};
  const std::vector<LinearShape> linears = LayerLinears(c);
  if (lora) {
    for (const std::string& t : targets) {
      if (std::none_of(linears.begin(), linears.end(),
                       [&](const LinearShape& l) { return l.name == t; })) {
        return InvalidArgumentError("lora.target_modules: '" + t +
                                    "' matches no linear layer of this model");
      }
    }
  }
  const int64_t seq = in.seq_len > 0 ? in.seq_len : c.max_position_embeddings;
  const double tokens = static_cast<double>(in.batch_size * seq);
  const double act_bytes = in.bf16_autocast ? 2.0 : 4.0;
  const int64_t h = c.hidden_size, V = c.vocab_size;

  // Per layer: weights and trainable bytes.
  int64_t layer_weights = LayerNormParams(c) * kF32, layer_trainable = 0;
  for (const LinearShape& l : linears) {
    const int64_t w = l.in * l.out;
    layer_weights += in.int8_base ? w + l.out * kF32 : w * kF32;
    if (l.bias) layer_weights += l.out * kF32;
    if (lora && std::find(targets.begin(), targets.end(), l.name) != targets.end()) {
      layer_trainable += in.lora_rank * (l.in + l.out) * kF32;
    }
  }
  const int64_t embed =
      V * h * kF32 + (c.family == ModelFamily::kGpt2 ? c.max_position_embeddings * h * kF32 : 0);
  const int64_t head = (c.tie_word_embeddings ? 0 : V * h * kF32) +
                       (c.family == ModelFamily::kGpt2 ? 2 : 1) * h * kF32;

  // AdamW's update makes temporaries the size of the parameter it updates:
  // two of the largest trainable tensor at the optimizer's peak (measured).
  int64_t largest = 0;
  for (const LinearShape& l : linears) {
    if (!lora) {
      largest = std::max(largest, l.in * l.out * kF32);
    } else if (std::find(targets.begin(), targets.end(), l.name) != targets.end()) {
      largest = std::max(largest, in.lora_rank * std::max(l.in, l.out) * kF32);
    }
  }
  if (!lora) largest = std::max(largest, V * h * kF32);
  std::vector<DeviceMemory> plan(split.size());
  int64_t all_trainable = 0;
  const double per_layer = LayerActivationPerToken(c, lora);
  for (size_t k = 0; k < split.size(); ++k) {
    DeviceMemory& d = plan[k];
    d.device = in.cuda ? "cuda:" + std::to_string(k) : "cpu";
    d.layers = split[k];
    const bool last = k + 1 == split.size();
    d.weights = d.layers * layer_weights + (k == 0 ? embed : 0) + (last ? head : 0);
    // Full fine-tuning trains the weights themselves; LoRA its adapters.
    d.trainable = lora ? d.layers * layer_trainable : d.weights;
    all_trainable += d.trainable;
    // Activations per token on this device.
    const double head_part = last ? 3.0 * h + 4.0 * V : 0.0;
    const double plain = d.layers * per_layer + head_part;
    double with_ckpt = plain;
    if (in.checkpoint_every > 0) {
      // Checkpointed layers are those with global index % k == 0.
      int64_t first = 0;
      for (size_t j = 0; j < k; ++j) first += split[j];
      int64_t checkpointed = 0;
      for (int64_t i = first; i < first + d.layers; ++i) {
        if (i % in.checkpoint_every == 0) ++checkpointed;
      }
      with_ckpt = checkpointed * static_cast<double>(h) + (d.layers - checkpointed) * per_layer +
                  std::max(head_part, checkpointed > 0 ? LayerRecomputePerToken(c) : 0.0);
    }
    d.activations = static_cast<int64_t>(with_ckpt * tokens * act_bytes);
    d.activations_without_checkpointing = static_cast<int64_t>(plain * tokens * act_bytes);
    d.optimizer = 2 * d.trainable;
    d.workspace = in.cuda ? kGpuWorkspace : 0;
  }
  for (size_t k = 0; k < plan.size(); ++k) {
    DeviceMemory& d = plan[k];
    const int64_t buckets = k == 0 ? all_trainable : 0;
    d.gradients = d.trainable + buckets;
    const int64_t weights_all = lora ? d.weights + d.trainable : d.weights;
    const int64_t backward = weights_all + buckets + d.activations;
    const int64_t step = weights_all + d.gradients + d.optimizer + 2 * largest;
    d.peak = std::max(backward, step) + d.workspace;
  }
  return plan;
}

namespace {

// Parameters of one decoder layer (weights, biases, norms).
int64_t LayerParams(const ModelConfig& c) {
  int64_t n = LayerNormParams(c);
  for (const LinearShape& l : LayerLinears(c)) n += l.in * l.out + (l.bias ? l.out : 0);
  return n;
}

// Values a no-grad forward keeps alive per token at its peak, for one model,
// measured with the CPU allocator's accounting (bench/score_memory_bench on
// 7 Llama shapes, fitted within 1%): 0.5h + 0.5q + 0.25kv + 4m (the gated
// MLP's intermediates dominate), plus the received-attention tiles of every
// head (tile x heads).
double ScoringPerToken(const ModelConfig& c, int64_t tile) {
  const double h = static_cast<double>(c.hidden_size);
  const double q = static_cast<double>(c.num_heads * c.head_dim);
  const double kv = static_cast<double>(c.num_kv_heads * c.head_dim);
  const double m = static_cast<double>(c.intermediate_size);
  return kScoreH * h + kScoreQ * q + kScoreKv * kv + kScoreM * m +
         static_cast<double>(tile * c.num_heads);
}

}  // namespace

StatusOr<std::vector<DeviceMemory>> PlanScorerMemory(const ModelConfig& large,
                                                     const ModelConfig& small,
                                                     const ScorerMemoryInput& in) {
  std::vector<int64_t> split = in.large_split;
  if (split.empty()) split = {large.num_layers};
  int64_t sum = 0;
  for (int64_t n : split) sum += n;
  if (sum != large.num_layers) {
    return InvalidArgumentError("device_map.layer_split: sums to " + std::to_string(sum) +
                                ", the model has " + std::to_string(large.num_layers) + " layers");
  }
  const int64_t tile = in.cuda ? 1024 : 128;
  const double tokens = static_cast<double>(in.batch_tokens);
  const int64_t large_layer = LayerParams(large) * in.large_dtype_bytes;
  const int64_t large_rest =
      large.NumParameters() * in.large_dtype_bytes - large.num_layers * large_layer;
  const int64_t small_all = small.NumParameters() * in.small_dtype_bytes;
  // Activations are in the model's dtype; the tiles are float32.
  const double large_act =
      tokens * (ScoringPerToken(large, 0) * static_cast<double>(in.large_dtype_bytes) +
                static_cast<double>(tile * large.num_heads) * 4.0);
  const double small_act =
      tokens * (ScoringPerToken(small, 0) * static_cast<double>(in.small_dtype_bytes) +
                static_cast<double>(tile * small.num_heads) * 4.0);
  std::vector<DeviceMemory> plan(split.size());
  for (size_t k = 0; k < split.size(); ++k) {
    DeviceMemory& d = plan[k];
    d.device = in.cuda ? "cuda:" + std::to_string(k) : "cpu";
    d.layers = split[k];
    d.weights = d.layers * large_layer + (k == 0 ? large_rest + small_all : 0);
    const double act = std::max(large_act, k == 0 ? small_act : 0.0);
    d.activations = d.activations_without_checkpointing = static_cast<int64_t>(act);
    d.workspace = in.cuda ? kGpuWorkspace : 0;
    d.peak = d.weights + d.activations + d.workspace;
  }
  return plan;
}

}  // namespace cluedrop::model
