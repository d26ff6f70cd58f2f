#include "workers/model/device_inventory.h"

#include <cstdio>

namespace cluedrop {

std::string DescribeDevices(const DeviceInventory& inventory) {
  if (inventory.gpus.empty()) return "cpu only: " + inventory.note;
  std::string out;
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
