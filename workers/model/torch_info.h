// What the linked libtorch provides: version, CUDA availability, threads.
// The only piece of the foundation that includes libtorch headers.
#ifndef CLUEDROP_WORKERS_MODEL_TORCH_INFO_H_
#define CLUEDROP_WORKERS_MODEL_TORCH_INFO_H_

#include <string>

namespace cluedrop {

struct TorchInfo {
  std::string version;   // e.g. "2.11.0"
  int cuda_devices = 0;  // devices libtorch can use now
  int intra_op_threads = 0;
};

// Never throws: libtorch errors become cuda_devices = 0.
TorchInfo QueryTorch();

// "libtorch 2.11.0 (CUDA build, 0 usable GPUs, 2 threads)".
std::string DescribeTorch(const TorchInfo& info);

}  // namespace cluedrop

#endif  // CLUEDROP_WORKERS_MODEL_TORCH_INFO_H_
