// The dense peak FLOP/s of a training device, the denominator of MFU.
//
// CUDA: the dense bf16 tensor-core peak of known data-center GPUs by name
// (H100/H200 SXM 989 TFLOP/s, A100 312 TFLOP/s, L40S 362 TFLOP/s, L4 121
// TFLOP/s); other GPUs and the CPU: a measured rate, stated as such — the
// best of a few square matmuls (bf16 4096^3 on a GPU, float32 512^3 on the
// CPU with the process's threads), which is what that device reaches on
// dense math here.
//
// Example:
//   const double peak = DevicePeakFlops(torch::Device("cuda:0"));
#ifndef CLUEDROP_WORKERS_TRAINER_DEVICE_PEAK_H_
#define CLUEDROP_WORKERS_TRAINER_DEVICE_PEAK_H_

#include <string>

namespace c10 {
struct Device;
}  // namespace c10

namespace cluedrop::trainer {

// The table value for a GPU name ("NVIDIA H100 80GB HBM3"), or 0.
double KnownGpuPeakFlops(const std::string& name);

// FLOP/s (see above). Never fails: 0 when nothing can be measured.
double DevicePeakFlops(const c10::Device& device);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_DEVICE_PEAK_H_
