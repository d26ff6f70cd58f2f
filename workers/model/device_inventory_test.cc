#include "workers/model/device_inventory.h"

#include <gtest/gtest.h>

#include <string>

namespace cluedrop {
namespace {

TEST(DeviceInventoryTest, EmptyInventoryExplainsWhy) {
  DeviceInventory inventory = QueryDevices();
  const std::string text = DescribeDevices(inventory);
  if (inventory.cuda_built) {
    EXPECT_GT(inventory.cuda_runtime_version, 0);
    EXPECT_EQ(text.rfind("CUDA runtime ", 0), 0u) << text;
  } else {
    EXPECT_EQ(text.find("CUDA runtime"), std::string::npos) << text;
  }
  if (inventory.gpus.empty()) {
    EXPECT_FALSE(inventory.note.empty());
    const std::string tail = "cpu only: " + inventory.note;
    ASSERT_GE(text.size(), tail.size());
    EXPECT_EQ(text.substr(text.size() - tail.size()), tail);
  } else {
    for (const GpuDevice& gpu : inventory.gpus) {
      EXPECT_GT(gpu.total_memory_bytes, 0u);
      EXPECT_LE(gpu.free_memory_bytes, gpu.total_memory_bytes);
    }
  }
#ifdef CLUEDROP_EXPECT_CUDA_BUILD
  EXPECT_TRUE(inventory.cuda_built);
#endif
}

TEST(DeviceInventoryTest, DescribesEachGpuOnItsOwnLine) {
  DeviceInventory inventory;
  inventory.cuda_built = true;
  inventory.cuda_runtime_version = 13000;
  inventory.cuda_driver_version = 13010;
  inventory.gpus.push_back({0, "NVIDIA H100", 9, 0, 80ull << 30, 40ull << 30, 132});
  inventory.gpus.push_back({1, "NVIDIA H100", 9, 0, 80ull << 30, 80ull << 30, 132});
  EXPECT_EQ(DescribeDevices(inventory),
            "CUDA runtime 13.0, driver supports CUDA 13.1\n"
            "cuda:0 NVIDIA H100 (sm_90, 40.0 GiB free of 80.0 GiB)\n"
            "cuda:1 NVIDIA H100 (sm_90, 80.0 GiB free of 80.0 GiB)");
}

TEST(DeviceInventoryTest, CudaBuildWithoutDriverSaysWhichRuntimeItCarries) {
  DeviceInventory inventory;
  inventory.cuda_built = true;
  inventory.cuda_runtime_version = 12080;
  inventory.note = "CUDA runtime: no CUDA-capable device is detected";
  EXPECT_EQ(DescribeDevices(inventory),
            "CUDA runtime 12.8, no CUDA driver found\n"
            "cpu only: CUDA runtime: no CUDA-capable device is detected");
}

TEST(DeviceInventoryTest, CpuBuildSaysOnlyWhyThereIsNoGpu) {
  DeviceInventory inventory;
  inventory.note = "built without CUDA";
  EXPECT_EQ(DescribeDevices(inventory), "cpu only: built without CUDA");
}

}  // namespace
}  // namespace cluedrop
