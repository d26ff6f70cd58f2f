// The memory a trainer rank needs, per device, before the job runs
// (`cluedrop plan`; issue 19). Torch-free: it works from config.json.
//
// Per device of the rank (one, or the devices of a layer split):
//   weights      the base (float32; int8 linear weights at 1 byte + a float32
//                scale per output row), embeddings on the first device, the
//                final norm and the untied head on the last;
//   trainable    the trainable parameters' bytes (all, or the LoRA adapters);
//   gradients    one float32 copy of them, plus the gradient buckets (the
//                rank's first device holds the flat all-reduce buckets of all
//                trainable parameters);
//   optimizer    AdamW's two moments;
//   activations  what backward keeps at batch_size x max_seq_len tokens, with
//                the job's checkpointing setting, and without it;
//   workspace    a fixed allowance: 1 GiB on a GPU (CUDA context, cuBLAS and
//                allocator slack), 0 on the CPU.
// The peak is the larger of the backward phase (weights + buckets +
// activations) and the optimizer phase (weights + gradients + buckets +
// moments + two temporaries the size of the largest trainable tensor), plus
// the workspace.
//
// Activations are linear in tokens (attention runs in O(T) memory). The
// per-token coefficients were measured with the CPU allocator's exact
// accounting on float32 Llama-shaped models (bench/train_memory.py, 7 shapes
// x 5 modes, fitted to within 0.5%) and are validated on other shapes there:
//   full fine-tuning, per token:  6Lh + 2Lq + 4Lm + 2Lkv + 3h + 4V floats
//   LoRA (frozen base):           3Lh + 2Lq + 3Lm + 2Lkv + 4V
//   checkpointing every k-th layer: h per checkpointed layer, the plain
//     per-layer cost for the others, plus the larger of (3h + 4V) and one
//     layer's recomputation (6h + 2q + 7m + 2kv)
// (L layers on the device, h hidden, q = heads x head_dim, kv = kv heads x
// head_dim, m intermediate, V vocabulary; 4V and 3h on the last device).
// With bf16 autocast (CUDA) activations count 2 bytes per value: an estimate
// not yet checked against a GPU.
//
// Example:
//   TrainMemoryInput in;  in.batch_size = 4;  in.seq_len = 2048;  in.lora_rank = 16;
//   StatusOr<std::vector<DeviceMemory>> plan = PlanTrainerMemory(config, in);
#ifndef CLUEDROP_MODELSPEC_MEMORY_PLAN_H_
#define CLUEDROP_MODELSPEC_MEMORY_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "modelspec/model_config.h"

namespace cluedrop::model {

struct TrainMemoryInput {
  int64_t batch_size = 1;
  int64_t seq_len = 0;  // 0: the model's max_position_embeddings
  int64_t lora_rank = 0;
  std::vector<std::string> lora_targets;  // empty: q_proj, v_proj
  bool int8_base = false;
  int64_t checkpoint_every = 0;
  // Layers per device (sums to the layer count); empty: one device.
  std::vector<int64_t> layer_split;
  bool cuda = false;           // device names cuda:k and the GPU workspace
  bool bf16_autocast = false;  // 2-byte activations
};

struct DeviceMemory {
  std::string device;  // "cuda:0", "cpu"
  int64_t layers = 0;
  int64_t weights = 0, trainable = 0, gradients = 0, optimizer = 0;
  int64_t activations = 0, activations_without_checkpointing = 0;
  int64_t workspace = 0;
  int64_t peak = 0;
};

// INVALID_ARGUMENT for a split that does not sum to the layer count or a
// LoRA target that names no linear layer of the family.
StatusOr<std::vector<DeviceMemory>> PlanTrainerMemory(const ModelConfig& config,
                                                      const TrainMemoryInput& input);

// A scorer holds both reference models (no gradients, no optimizer) and runs
// one batch of up to batch_tokens tokens through one model at a time,
// keeping per layer only what the forward needs next plus the
// received-attention tiles (tile x T keys per head and row: tile 128 on the
// CPU, 1024 on CUDA; docs/scoring.md). The large model's layers go over
// large_split (its first device also holds the small model); without a
// split everything is on one device.
struct ScorerMemoryInput {
  int64_t batch_tokens = 16384;
  int64_t large_dtype_bytes = 2, small_dtype_bytes = 2;
  std::vector<int64_t> large_split;
  bool cuda = false;
};
StatusOr<std::vector<DeviceMemory>> PlanScorerMemory(const ModelConfig& large,
                                                     const ModelConfig& small,
                                                     const ScorerMemoryInput& input);

// "91.2 GiB", "512.0 MiB", "96 B".
std::string FormatBytes(int64_t bytes);

}  // namespace cluedrop::model

#endif  // CLUEDROP_MODELSPEC_MEMORY_PLAN_H_
