// The accelerators this process can see, without libtorch: the scorer and
// trainer daemons report them, and `cluedrop devices` prints them.
//
// The CPU build (no CUDA) always reports no GPUs and says why; the CUDA build
// asks the CUDA runtime. Bodies: device_inventory_cpu.cc / _gpu.cu.
#ifndef CLUEDROP_WORKERS_MODEL_DEVICE_INVENTORY_H_
#define CLUEDROP_WORKERS_MODEL_DEVICE_INVENTORY_H_

#include <cstdint>
#include <string>
#include <vector>

namespace cluedrop {

struct GpuDevice {
  int index = 0;
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  uint64_t total_memory_bytes = 0;
  uint64_t free_memory_bytes = 0;
  int multiprocessors = 0;
};

struct DeviceInventory {
  // True when this binary was built with CUDA code.
  bool cuda_built = false;
  // CUDA build only, as the runtime encodes them (1000 * major + 10 * minor):
  // the CUDA runtime this binary carries, and the newest CUDA the installed
  // driver supports (0: no driver found).
  int cuda_runtime_version = 0;
  int cuda_driver_version = 0;
  std::vector<GpuDevice> gpus;
  // Why there are no GPUs (empty when there are some).
  std::string note;
};

// Queries the devices. Never throws or aborts; problems land in `note`.
DeviceInventory QueryDevices();

// One line per device, e.g. "cuda:0 NVIDIA H100 (sm_90, 79.1 GiB free of 79.6 GiB)",
// or "cpu only: <why>"; a CUDA build first says which runtime it carries and
// what the driver supports ("CUDA runtime 13.0, driver supports CUDA 13.0").
std::string DescribeDevices(const DeviceInventory& inventory);

}  // namespace cluedrop

#endif  // CLUEDROP_WORKERS_MODEL_DEVICE_INVENTORY_H_
