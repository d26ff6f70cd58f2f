#include "workers/trainer/device_peak.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace cluedrop::trainer {
namespace {

TEST(DevicePeakTest, KnownGpusByName) {
  EXPECT_EQ(KnownGpuPeakFlops("NVIDIA H100 80GB HBM3"), 989e12);
  EXPECT_EQ(KnownGpuPeakFlops("NVIDIA H200"), 989e12);
  EXPECT_EQ(KnownGpuPeakFlops("NVIDIA A100-SXM4-80GB"), 312e12);
  EXPECT_EQ(KnownGpuPeakFlops("NVIDIA GeForce GTX 1080"), 0);
}

TEST(DevicePeakTest, CpuPeakIsMeasuredAndPlausible) {
  const double peak = DevicePeakFlops(torch::Device(torch::kCPU));
  // Any CPU that runs these tests does between 0.1 GFLOP/s and 100 TFLOP/s
  // of float32 matmul; 0 would mean the measurement failed.
  EXPECT_GT(peak, 1e8);
  EXPECT_LT(peak, 1e14);
}

}  // namespace
}  // namespace cluedrop::trainer
