// Keys and values of earlier tokens, per layer, for incremental decoding.
//
// A model appends each layer's new keys/values during a forward pass that is
// given the cache; the cache also tracks which slots are padding and each
// row's next position id. Not thread-safe; one cache per sequence batch.
#ifndef CLUEDROP_WORKERS_MODEL_KV_CACHE_H_
#define CLUEDROP_WORKERS_MODEL_KV_CACHE_H_

#include <torch/torch.h>

#include <vector>

namespace cluedrop::model {

class KvCache {
 public:
  explicit KvCache(int64_t num_layers) : keys_(num_layers), values_(num_layers) {}

  // Appends k, v [B, KV, T, D] to `layer` and returns all keys and values.
  std::pair<torch::Tensor, torch::Tensor> Append(int64_t layer, const torch::Tensor& k,
                                                 const torch::Tensor& v);

  // Slots stored before the current step (the models call Commit after a step).
  int64_t length() const { return length_; }
  // [B, length] bool, true for real tokens; undefined when empty.
  const torch::Tensor& key_valid() const { return key_valid_; }
  // [B] the position id the next real token of each row gets.
  const torch::Tensor& next_position() const { return next_position_; }

  // Records a finished step: its validity mask [B, T] and next positions.
  void Commit(const torch::Tensor& step_valid, const torch::Tensor& next_position);

 private:
  std::vector<torch::Tensor> keys_, values_;
  torch::Tensor key_valid_, next_position_;
  int64_t length_ = 0;
};

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_KV_CACHE_H_
