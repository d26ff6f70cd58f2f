#include "workers/trainer/device_peak.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "workers/model/device_inventory.h"

namespace cluedrop::trainer {

double KnownGpuPeakFlops(const std::string& name) {
  struct Entry {
    const char* key;
    double flops;
  };
  static constexpr Entry kTable[] = {
      {"H200", 989e12}, {"H100", 989e12}, {"A100", 312e12}, {"L40S", 362e12}, {"L4", 121e12}};
  for (const Entry& e : kTable) {
    if (name.find(e.key) != std::string::npos) return e.flops;
  }
  return 0;
}

namespace {

double MeasuredMatmulFlops(const torch::Device& device) {
  try {
    const bool cuda = device.is_cuda();
    const int64_t n = cuda ? 4096 : 512;
    auto options =
        torch::TensorOptions().device(device).dtype(cuda ? torch::kBFloat16 : torch::kFloat);
    torch::NoGradGuard no_grad;
    torch::Tensor a = torch::randn({n, n}, options);
    torch::Tensor b = torch::randn({n, n}, options);
    double best = 0;
    for (int i = 0; i < 5; ++i) {
      if (cuda) torch::cuda::synchronize(device.index() < 0 ? 0 : device.index());
      const auto start = std::chrono::steady_clock::now();
      torch::Tensor c = torch::mm(a, b);
      if (cuda) torch::cuda::synchronize(device.index() < 0 ? 0 : device.index());
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (i > 0 && seconds > 0) best = std::max(best, 2.0 * n * n * n / seconds);
    }
    return best;
  } catch (const c10::Error&) {
    return 0;
  }
}

}  // namespace

double DevicePeakFlops(const c10::Device& device) {
  if (device.is_cuda()) {
    const int index = device.index() < 0 ? 0 : device.index();
    for (const GpuDevice& gpu : QueryDevices().gpus) {
      if (gpu.index == index) {
        const double known = KnownGpuPeakFlops(gpu.name);
        if (known > 0) return known;
      }
    }
  }
  return MeasuredMatmulFlops(device);
}

}  // namespace cluedrop::trainer
