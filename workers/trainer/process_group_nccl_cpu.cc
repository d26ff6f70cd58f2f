// CPU builds: no NCCL. Linked instead of process_group_nccl_gpu.cc, so the
// CPU build references no NCCL (or libtorch_cuda) symbol.
#include "workers/trainer/process_group_backend.h"

namespace cluedrop::trainer {

StatusOr<c10::intrusive_ptr<c10d::Backend>> CreateNcclBackend(
    const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size, c10::Device device,
    const ProcessGroupOptions& options) {
  return UnimplementedError("NCCL process group for " + device.str() +
                            ": this build has no CUDA (configure with CLUEDROP_WITH_CUDA=ON)");
}

}  // namespace cluedrop::trainer
