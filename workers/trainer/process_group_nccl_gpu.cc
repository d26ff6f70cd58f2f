// CUDA builds: ProcessGroupNCCL factory (libtorch_cuda). Compiled only when
// CLUEDROP_CUDA_ENABLED; CMake adds the wheel's nccl.h to the include path.
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1  // what torch's own build defines; enables the header
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include "workers/trainer/process_group_backend.h"

namespace cluedrop::trainer {

StatusOr<c10::intrusive_ptr<c10d::Backend>> CreateNcclBackend(
    const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size, c10::Device device,
    const ProcessGroupOptions& options) {
  if (c10::cuda::device_count() <= device.index()) {
    return FailedPreconditionError("NCCL process group: no CUDA device " + device.str() + " (" +
                                   std::to_string(c10::cuda::device_count()) + " visible)");
  }
  c10::intrusive_ptr<c10d::Backend> backend;
  Status s = DistCall("NCCL process group (rank " + std::to_string(rank) + " of " +
                          std::to_string(world_size) + " on " + device.str() + ")",
                      [&] {
                        c10::cuda::set_device(device.index());
                        auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
                        nccl_options->timeout = options.timeout;
                        backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(
                            store, rank, world_size, nccl_options);
                      });
  if (!s.ok()) return s;
  return backend;
}

}  // namespace cluedrop::trainer
