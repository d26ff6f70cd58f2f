// CUDA build: asks the CUDA runtime. Compiled by nvcc; runs on machines
// without a GPU too (then reports why there is none).
#include <cuda_runtime.h>

#include "workers/model/device_inventory.h"

namespace cluedrop {

DeviceInventory QueryDevices() {
  DeviceInventory inventory;
  inventory.cuda_built = true;
  // Neither call needs a GPU; with no driver the driver version stays 0.
  if (cudaRuntimeGetVersion(&inventory.cuda_runtime_version) != cudaSuccess) {
    inventory.cuda_runtime_version = CUDART_VERSION;
  }
  if (cudaDriverGetVersion(&inventory.cuda_driver_version) != cudaSuccess) {
    inventory.cuda_driver_version = 0;
  }
  int count = 0;
  cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess) {
    inventory.note = std::string("CUDA runtime: ") + cudaGetErrorString(error);
    cudaGetLastError();  // clear the sticky error
    return inventory;
  }
  if (count == 0) inventory.note = "CUDA runtime sees no GPU";
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp props{};
    if (cudaGetDeviceProperties(&props, i) != cudaSuccess) continue;
    GpuDevice gpu;
    gpu.index = i;
    gpu.name = props.name;
    gpu.compute_major = props.major;
    gpu.compute_minor = props.minor;
    gpu.total_memory_bytes = props.totalGlobalMem;
    gpu.multiprocessors = props.multiProcessorCount;
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaSetDevice(i) == cudaSuccess &&
        cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
      gpu.free_memory_bytes = free_bytes;
    }
    inventory.gpus.push_back(gpu);
  }
  return inventory;
}

}  // namespace cluedrop
