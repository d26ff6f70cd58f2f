#include "workers/model/torch_info.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

namespace cluedrop {

TorchInfo QueryTorch() {
  TorchInfo info;
  info.version = TORCH_VERSION;
  try {
    info.cuda_devices =
        torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
  } catch (const std::exception&) {
    info.cuda_devices = 0;
  }
  info.intra_op_threads = at::get_num_threads();
  return info;
}

std::string DescribeTorch(const TorchInfo& info) {
  return "libtorch " + info.version + " (" + std::to_string(info.cuda_devices) +
         " usable GPU(s), " + std::to_string(info.intra_op_threads) + " CPU threads)";
}

}  // namespace cluedrop
