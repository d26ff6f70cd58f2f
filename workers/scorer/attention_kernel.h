// Which computation collects received attention (torch-free, so options and
// flags can name it).
//   auto:  the tiles for now. The fused kernel becomes auto's choice for CUDA
//          tensors once it has passed its GPU tests (scripts/gpu_check): until
//          then it has run only as its host emulation (docs/scoring.md).
//   tiled: query tiles against all keys in torch ops (received_attention.h);
//          reuses the forward's probabilities; any device and dtype.
//   fused: the fused two-pass kernel (fused_received_attention.h): CUDA
//          tensors on the GPU; CPU float32 through its slow host emulation.
#ifndef CLUEDROP_WORKERS_SCORER_ATTENTION_KERNEL_H_
#define CLUEDROP_WORKERS_SCORER_ATTENTION_KERNEL_H_

#include <optional>
#include <string>
#include <string_view>

namespace cluedrop::scorer {

enum class AttentionKernel { kAuto, kTiled, kFused };

inline std::optional<AttentionKernel> ParseAttentionKernel(std::string_view name) {
  if (name == "auto") return AttentionKernel::kAuto;
  if (name == "tiled") return AttentionKernel::kTiled;
  if (name == "fused") return AttentionKernel::kFused;
  return std::nullopt;
}

// What a command says when --attention_kernel names none of them.
inline std::string AttentionKernelFlagError(std::string_view got) {
  return "--attention_kernel: expected auto, tiled or fused, got '" + std::string(got) + "'";
}

inline const char* AttentionKernelName(AttentionKernel k) {
  switch (k) {
    case AttentionKernel::kAuto:
      return "auto";
    case AttentionKernel::kTiled:
      return "tiled";
    case AttentionKernel::kFused:
      return "fused";
  }
  return "?";
}

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_ATTENTION_KERNEL_H_
