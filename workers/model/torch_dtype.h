// Conversions between safetensors dtypes (checkpoint/dtype.h) and torch
// scalar types, and a tensor view over a mapped checkpoint tensor.
#ifndef CLUEDROP_WORKERS_MODEL_TORCH_DTYPE_H_
#define CLUEDROP_WORKERS_MODEL_TORCH_DTYPE_H_

#include <torch/torch.h>

#include "base/status.h"
#include "workers/model/checkpoint/dtype.h"
#include "workers/model/checkpoint/safetensors_file.h"

namespace cluedrop::model {

// Every safetensors dtype has a torch scalar type.
torch::ScalarType TorchDtypeOf(DType dtype);

// INVALID_ARGUMENT for torch types safetensors cannot hold (complex, ...).
StatusOr<DType> DTypeOf(torch::ScalarType type);

// A CPU tensor over the view's bytes (no copy; valid while the mapping is).
// Read-only in practice: the mapping is; copy or clone before writing.
torch::Tensor TensorFromView(const TensorView& view);

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_TORCH_DTYPE_H_
