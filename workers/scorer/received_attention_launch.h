// Launching the fused received-attention kernel (received_attention_kernel.h)
// and its host emulation. Torch-free and CUDA-header-free: the CUDA side is
// compiled only in CUDA builds (received_attention_cuda.cu); the emulation
// is plain C++ and built everywhere.
#ifndef CLUEDROP_WORKERS_SCORER_RECEIVED_ATTENTION_LAUNCH_H_
#define CLUEDROP_WORKERS_SCORER_RECEIVED_ATTENTION_LAUNCH_H_

#include <string>

#include "workers/scorer/received_attention_kernel.h"

namespace cluedrop::scorer::kernel {

enum class ElementType { kFloat32, kFloat16, kBFloat16 };

// Enqueues both passes on `stream` (a cudaStream_t) for device pointers in
// `problem`. Returns "" when both launches were accepted, else the CUDA
// error text (launches are asynchronous: errors of the running kernels
// surface at the next synchronising call).
std::string LaunchReceivedAttention(const Problem& problem, ElementType type, void* stream);

// Runs both passes on the host, block after block and phase after phase,
// for float32 host pointers: the same block code the GPU runs, with a
// float32 product in place of tensor cores. Slow (scalar); for tests.
void EmulateReceivedAttention(const Problem& problem);

}  // namespace cluedrop::scorer::kernel

#endif  // CLUEDROP_WORKERS_SCORER_RECEIVED_ATTENTION_LAUNCH_H_
