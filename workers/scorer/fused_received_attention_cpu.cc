// Builds without CUDA: the fused kernel exists only as its host emulation.
#include "workers/scorer/fused_received_attention.h"

namespace cluedrop::scorer {

bool FusedKernelHasCuda() { return false; }

namespace internal {

void LaunchFusedOnCurrentStream(const kernel::Problem&, torch::ScalarType,
                                const torch::Device& device) {
  TORCH_CHECK(false, "fused received attention on ", device,
              ": this build has no CUDA kernels (configure with CLUEDROP_WITH_CUDA=ON)");
}

}  // namespace internal
}  // namespace cluedrop::scorer
