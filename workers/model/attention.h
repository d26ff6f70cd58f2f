// Causal self-attention shared by the model families: the mask rules
// (causal, key padding, sliding window), Gemma-2 logit soft-capping, grouped
// query attention, and the observer hook through which the scorer sees each
// layer's post-RoPE queries and keys without the model materialising
// attention probabilities.
#ifndef CLUEDROP_WORKERS_MODEL_ATTENTION_H_
#define CLUEDROP_WORKERS_MODEL_ATTENTION_H_

#include <torch/torch.h>

#include <optional>

namespace cluedrop::model {

// What decides which keys a query may attend to. Slots index the sequence as
// stored (cache first, then the new tokens), padding included.
struct AttentionMaskSpec {
  // [B, Tk] bool, true for real tokens; undefined = no padding.
  torch::Tensor key_valid;
  // Slot of the first query (tokens already in the KV cache).
  int64_t query_offset = 0;
  // Keys with query_slot - key_slot >= window are hidden (none if unset).
  std::optional<int64_t> sliding_window;
};

// One layer's attention inputs, handed to an AttentionObserver.
struct LayerAttention {
  int64_t layer = 0;
  torch::Tensor query;  // [B, H, Tq, D] after RoPE
  torch::Tensor key;    // [B, KV, Tk, D] after RoPE (cache included, heads not repeated)
  double scale = 1.0;   // softmax(scale * q.k) ...
  std::optional<double> softcap;  // ... of softcap * tanh(scale * q.k / softcap)
  AttentionMaskSpec mask;
};

// Receives every layer's queries and keys during a forward pass, on the
// calling thread, before the layer's attention runs. The tensors are only
// valid during the call (copy what you keep).
class AttentionObserver {
 public:
  virtual ~AttentionObserver() = default;
  virtual void OnLayer(const LayerAttention& attention) = 0;
};

// [B, 1, Tq, Tk] bool mask (true = attend) for the spec, or an undefined
// tensor when plain causal attention with no offset applies. Every query row
// keeps at least its own slot, so padded queries never produce NaN.
torch::Tensor BuildAttentionMask(const AttentionMaskSpec& spec, int64_t tq, int64_t tk,
                                 const torch::Device& device);

// The same mask for one block of it: query rows [q_begin, q_end) of the
// layer's queries (slots query_offset + row) against key slots
// [k_begin, k_end). Always a tensor, [B or 1, 1, q_end - q_begin,
// k_end - k_begin] bool. The scorer's tiles use it so that they see exactly
// the model's rules without building the whole [Tq, Tk] mask.
torch::Tensor AttentionMaskBlock(const AttentionMaskSpec& spec, int64_t q_begin, int64_t q_end,
                                 int64_t k_begin, int64_t k_end, const torch::Device& device);

// softmax(...) @ v for q [B,H,Tq,D], k/v [B,KV,Tk,D]. Uses scaled dot product
// attention (flash / memory-efficient kernels) unless soft-capping needs the
// explicit path.
torch::Tensor Attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     double scale, std::optional<double> softcap, const AttentionMaskSpec& spec);

// The attention probabilities [B, H, Tq, Tk] (float32) a layer computes:
// the explicit reference for tests and small inputs. O(T^2) memory.
torch::Tensor AttentionProbabilities(const LayerAttention& attention);

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_ATTENTION_H_
