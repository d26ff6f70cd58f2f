#include "workers/model/checkpoint/dtype.h"

#include <string>

namespace cluedrop::model {
namespace {

struct DTypeRow {
  DType dtype;
  const char* name;
  size_t size;
};

constexpr DTypeRow kDTypes[] = {
    {DType::kF64, "F64", 8},   {DType::kF32, "F32", 4}, {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2}, {DType::kI64, "I64", 8}, {DType::kI32, "I32", 4},
    {DType::kI16, "I16", 2},   {DType::kI8, "I8", 1},   {DType::kU8, "U8", 1},
    {DType::kBool, "BOOL", 1},
};

const DTypeRow& Row(DType dtype) {
  for (const DTypeRow& row : kDTypes) {
    if (row.dtype == dtype) return row;
  }
  return kDTypes[0];  // Unreachable for valid enum values.
}

}  // namespace

StatusOr<DType> ParseDType(std::string_view safetensors_name) {
  for (const DTypeRow& row : kDTypes) {
    if (safetensors_name == row.name) return row.dtype;
  }
  // Names come from untrusted headers: keep the message short.
  std::string shown(safetensors_name.substr(0, 32));
  if (safetensors_name.size() > 32) shown += "...";
  return InvalidArgumentError("unsupported dtype '" + shown +
                              "' (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
}

const char* DTypeName(DType dtype) { return Row(dtype).name; }

size_t DTypeSize(DType dtype) { return Row(dtype).size; }

}  // namespace cluedrop::model
