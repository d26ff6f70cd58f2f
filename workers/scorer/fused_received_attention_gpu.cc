// CUDA builds: the fused kernel on torch's current stream of the tensors'
// device.
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "workers/scorer/fused_received_attention.h"
#include "workers/scorer/received_attention_launch.h"

namespace cluedrop::scorer {

bool FusedKernelHasCuda() { return true; }

namespace internal {

void LaunchFusedOnCurrentStream(const kernel::Problem& problem, torch::ScalarType type,
                                const torch::Device& device) {
  kernel::ElementType element;
  switch (type) {
    case torch::kFloat:
      element = kernel::ElementType::kFloat32;
      break;
    case torch::kHalf:
      element = kernel::ElementType::kFloat16;
      break;
    case torch::kBFloat16:
      element = kernel::ElementType::kBFloat16;
      break;
    default:
      TORCH_CHECK(false, "fused received attention: no CUDA kernel for ", type,
                  " (float32, float16, bfloat16)");
  }
  c10::cuda::CUDAGuard guard(device);
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream(device.index()).stream();
  const std::string error = kernel::LaunchReceivedAttention(problem, element, stream);
  TORCH_CHECK(error.empty(), "fused received attention kernel: ", error);
}

}  // namespace internal
}  // namespace cluedrop::scorer
