#include "workers/model/torch_dtype.h"

#include <string>

namespace cluedrop::model {

torch::ScalarType TorchDtypeOf(DType dtype) {
  switch (dtype) {
    case DType::kF64:
      return torch::kDouble;
    case DType::kF32:
      return torch::kFloat;
    case DType::kF16:
      return torch::kHalf;
    case DType::kBF16:
      return torch::kBFloat16;
    case DType::kI64:
      return torch::kLong;
    case DType::kI32:
      return torch::kInt;
    case DType::kI16:
      return torch::kShort;
    case DType::kI8:
      return torch::kChar;
    case DType::kU8:
      return torch::kByte;
    case DType::kBool:
      return torch::kBool;
  }
  return torch::kFloat;  // unreachable: the switch covers every DType
}

StatusOr<DType> DTypeOf(torch::ScalarType type) {
  for (DType d : {DType::kF64, DType::kF32, DType::kF16, DType::kBF16, DType::kI64, DType::kI32,
                  DType::kI16, DType::kI8, DType::kU8, DType::kBool}) {
    if (TorchDtypeOf(d) == type) return d;
  }
  return InvalidArgumentError(std::string("torch dtype ") + c10::toString(type) +
                              " has no safetensors dtype");
}

torch::Tensor TensorFromView(const TensorView& view) {
  return torch::from_blob(const_cast<uint8_t*>(view.data), view.info->shape,
                          torch::TensorOptions().dtype(TorchDtypeOf(view.info->dtype)));
}

}  // namespace cluedrop::model
