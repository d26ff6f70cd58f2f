#include "workers/model/kv_cache.h"

namespace cluedrop::model {

std::pair<torch::Tensor, torch::Tensor> KvCache::Append(int64_t layer, const torch::Tensor& k,
                                                        const torch::Tensor& v) {
  torch::Tensor& keys = keys_.at(layer);
  torch::Tensor& values = values_.at(layer);
  if (keys.defined()) {
    keys = torch::cat({keys, k}, 2);
    values = torch::cat({values, v}, 2);
  } else {
    keys = k;
    values = v;
  }
  return {keys, values};
}

void KvCache::Commit(const torch::Tensor& step_valid, const torch::Tensor& next_position) {
  key_valid_ = key_valid_.defined() ? torch::cat({key_valid_, step_valid}, 1) : step_valid;
  next_position_ = next_position;
  length_ = key_valid_.size(1);
}

}  // namespace cluedrop::model
