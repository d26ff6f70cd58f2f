#include "workers/model/checkpoint/tensor_info.h"

namespace cluedrop::model {

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return -1;
  }
  for (int64_t dim : shape) {
    if (dim == 0) return 0;
  }
  for (int64_t dim : shape) {
    if (__builtin_mul_overflow(n, dim, &n)) return -1;
  }
  return n;
}

}  // namespace cluedrop::model
