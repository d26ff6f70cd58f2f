// Element types of safetensors tensors, spelled as the safetensors format
// spells them ("F32", "BF16", ...). Only the types cluedrop's models use are
// supported; others (F8_*, U16/U32/U64, C64) fail to parse.
//
// All functions are pure and thread-safe.
#ifndef CLUEDROP_WORKERS_MODEL_CHECKPOINT_DTYPE_H_
#define CLUEDROP_WORKERS_MODEL_CHECKPOINT_DTYPE_H_

#include <cstddef>
#include <string_view>

#include "base/status.h"

namespace cluedrop::model {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

// The DType spelled `safetensors_name` ("F32", "BF16", "BOOL", ...; case
// sensitive, as in the format). INVALID_ARGUMENT naming the spelling for
// anything else, including safetensors types cluedrop does not support.
StatusOr<DType> ParseDType(std::string_view safetensors_name);

// The safetensors spelling of `dtype`, e.g. "F32". Never null.
const char* DTypeName(DType dtype);

// Bytes per element: 8 for kF64/kI64, 4 for kF32/kI32, 2 for kF16/kBF16/kI16,
// 1 for kI8/kU8/kBool.
size_t DTypeSize(DType dtype);

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_CHECKPOINT_DTYPE_H_
