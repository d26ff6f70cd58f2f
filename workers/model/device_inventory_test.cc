#include "workers/model/device_inventory.h"

#include <gtest/gtest.h>

namespace cluedrop {
namespace {

TEST(DeviceInventoryTest, EmptyInventoryExplainsWhy) {
  DeviceInventory inventory = QueryDevices();
  if (inventory.gpus.empty()) {
    EXPECT_FALSE(inventory.note.empty());
    EXPECT_EQ(DescribeDevices(inventory), "cpu only: " + inventory.note);
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
  inventory.gpus.push_back({0, "NVIDIA H100", 9, 0, 80ull << 30, 40ull << 30, 132});
  inventory.gpus.push_back({1, "NVIDIA H100", 9, 0, 80ull << 30, 80ull << 30, 132});
  EXPECT_EQ(DescribeDevices(inventory),
            "cuda:0 NVIDIA H100 (sm_90, 40.0 GiB free of 80.0 GiB)\n"
            "cuda:1 NVIDIA H100 (sm_90, 80.0 GiB free of 80.0 GiB)");
}

}  // namespace
}  // namespace cluedrop
