#include "workers/model/device_inventory.h"

#include <cstdio>
#include <string>

namespace cluedrop {

namespace {

std::string CudaVersion(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

}  // namespace

std::string DescribeDevices(const DeviceInventory& inventory) {
  std::string out;
  if (inventory.cuda_built) {
    out = "CUDA runtime " + CudaVersion(inventory.cuda_runtime_version) + ", " +
          (inventory.cuda_driver_version > 0
               ? "driver supports CUDA " + CudaVersion(inventory.cuda_driver_version)
               : std::string("no CUDA driver found")) +
          "\n";
  }
  if (inventory.gpus.empty()) return out + "cpu only: " + inventory.note;
  for (const GpuDevice& gpu : inventory.gpus) {
    char line[256];
    std::snprintf(line, sizeof(line), "cuda:%d %s (sm_%d%d, %.1f GiB free of %.1f GiB)\n",
                  gpu.index, gpu.name.c_str(), gpu.compute_major, gpu.compute_minor,
                  gpu.free_memory_bytes / 1073741824.0, gpu.total_memory_bytes / 1073741824.0);
    out += line;
  }
  if (!out.empty()) out.pop_back();
  return out;
}

}  // namespace cluedrop
