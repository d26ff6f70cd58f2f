// What a safetensors header says about one tensor, and a view of its bytes.
// Plain data; safe to share between threads once built.
#ifndef CLUEDROP_WORKERS_MODEL_CHECKPOINT_TENSOR_INFO_H_
#define CLUEDROP_WORKERS_MODEL_CHECKPOINT_TENSOR_INFO_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "workers/model/checkpoint/dtype.h"

namespace cluedrop::model {

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  // Row-major (C order) dimensions; empty for a scalar.
  std::vector<int64_t> shape;
  // Byte offsets [begin, end) relative to the start of the data section
  // (the byte after the JSON header), as in the header's "data_offsets".
  uint64_t begin = 0;
  uint64_t end = 0;

  // Product of `shape` (1 for a scalar, 0 if any dimension is 0); -1 if a
  // dimension is negative or the product overflows int64 (never for tensors
  // from SafetensorsFile, which rejects such headers).
  int64_t numel() const;
  // end - begin, which SafetensorsFile checked equals numel() * DTypeSize(dtype).
  uint64_t nbytes() const { return end - begin; }
};

// A tensor's bytes inside a mapped file or caller-owned buffer: valid as long
// as the SafetensorsFile / CheckpointReader that returned it is alive.
// Little-endian, row-major. `data` is NOT necessarily aligned to the element
// size (safetensors only aligns the data section start to 8 bytes): memcpy,
// or check alignment before casting. `data` may be non-null with nbytes 0.
struct TensorView {
  const TensorInfo* info = nullptr;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
};

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_CHECKPOINT_TENSOR_INFO_H_
