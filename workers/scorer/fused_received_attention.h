// One layer's received-attention column sums through the fused kernel
// (received_attention_kernel.h): no [B, H, tile, T] probabilities, only
// O(B * H * T) scratch for the row log-sum-exp.
//
//   CUDA tensors (float32, float16, bfloat16): the CUDA kernel on the
//     current stream; CUDA builds only.
//   CPU float32 tensors: the kernel's host emulation (the same block code,
//     run thread by thread). Exact but slow; it exists so that every build
//     tests the kernel's algorithm.
//
// Throws c10::Error (run inside model::TorchCall) on anything else.
#ifndef CLUEDROP_WORKERS_SCORER_FUSED_RECEIVED_ATTENTION_H_
#define CLUEDROP_WORKERS_SCORER_FUSED_RECEIVED_ATTENTION_H_

#include <torch/torch.h>

#include "workers/model/attention.h"

namespace cluedrop::scorer {

namespace kernel {
struct Problem;
}  // namespace kernel

// Adds, for every real key slot j of every row b,
//   column_sum[b, j] += 1/H * sum_h sum_{real i >= j} A[h, i, j]
// (without include_self: i > j). attention must be cache-free (keys ==
// queries); valid is [B, T] bool on the same device (true = real token);
// column_sum is [B, T] float32, contiguous, on the same device.
void AddFusedColumnSums(const model::LayerAttention& attention, const torch::Tensor& valid,
                        bool include_self, torch::Tensor& column_sum);

// Whether this build has the CUDA kernel.
bool FusedKernelHasCuda();

namespace internal {
// Implemented by fused_received_attention_gpu.cc (CUDA builds) or _cpu.cc.
void LaunchFusedOnCurrentStream(const kernel::Problem& problem, torch::ScalarType type,
                                const torch::Device& device);
}  // namespace internal

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_FUSED_RECEIVED_ATTENTION_H_
