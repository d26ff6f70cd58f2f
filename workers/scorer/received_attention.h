// Attention received per key position (docs/design.md section 1), collected
// from a model's forward through the AttentionObserver hook:
//
//   received(j) = 1/(L*H) * sum_{l,h} 1/(T-j) * sum_{i=j..T-1} A[l,h,i,j]
//
// where T is the number of real tokens of a row and i, j range over its real
// tokens (padding, left or right, is neither a query nor a key). With
// include_self = false the inner sum starts at i = j+1 and divides by T-j-1.
//
// This is the portable tiled path (CPU, or any device torch runs on): per
// observed layer, tiles of `tile` query rows against the keys they can see,
// scores (soft-capped, masked exactly as the model masks them: causal by
// slot, key padding, sliding window), the row log-sum-exp, p = exp(s - lse),
// and column sums over the tile's real query rows and all heads, accumulated
// in float32 into [B, T]. Grouped-query attention multiplies each key head
// with its group of query heads without repeating keys. The largest
// temporary is [B, H, tile, T]; nothing of size [H, T, T] is ever built.
//
// The fused kernel (fused_received_attention.h; options.kernel) computes the
// same column sums in two passes of its own (row log-sum-exp, then column
// sums) with O(B * H * T) scratch; the model then keeps its SDPA attention.
// Opt-in (AttentionKernel::kFused) until it has passed its GPU tests.
//
// Example:
//   ReceivedAttentionAccumulator acc({.include_self = true});
//   ForwardOptions forward;
//   forward.attention_mask = mask;      // [B, T], 1 = real token
//   forward.observer = &acc;
//   forward.skip_lm_head = true;
//   model->Forward(ids, forward);
//   torch::Tensor received = acc.Result();  // [B, T] float32, NaN at padding
//
// Not thread-safe; one forward at a time. OnLayer throws c10::Error on
// inputs it cannot score (KV-cache forwards, inconsistent shapes); run the
// forward inside model::TorchCall.
#ifndef CLUEDROP_WORKERS_SCORER_RECEIVED_ATTENTION_H_
#define CLUEDROP_WORKERS_SCORER_RECEIVED_ATTENTION_H_

#include <torch/torch.h>

#include <cstdint>
#include <set>

#include "workers/model/attention.h"
#include "workers/scorer/attention_kernel.h"

namespace cluedrop::scorer {

struct ReceivedAttentionOptions {
  // Count the query i == j (the token attending to itself).
  bool include_self = true;
  // Layer indices (LayerAttention::layer, 0-based) to average over; empty =
  // every layer the forward reports.
  std::set<int64_t> layers;
  // Query rows per tile (> 0). Peak temporary memory is about
  // 3 * B * H * tile * T * 4 bytes.
  int64_t tile = 128;
  // Take the probabilities from the model's own forward (the layer attends
  // in tiles and hands them over: one q.k pass per layer) instead of
  // recomputing q.k from the observed queries and keys (two passes; the
  // model keeps its fused SDPA kernel). Both give the same numbers.
  bool reuse_forward_probabilities = true;
  // Tiles or the fused kernel (attention_kernel.h). With the fused kernel,
  // tile and reuse_forward_probabilities do not apply.
  AttentionKernel kernel = AttentionKernel::kAuto;
};

class ReceivedAttentionAccumulator : public model::AttentionObserver {
 public:
  explicit ReceivedAttentionAccumulator(ReceivedAttentionOptions options);

  // Adds one layer's column sums (skipped when the layer is not selected).
  // Requires a cache-free forward: queries and keys cover the same slots.
  void OnLayer(const model::LayerAttention& attention) override;
  int64_t ProbabilityTile(const model::LayerAttention& attention) const override;
  void OnProbabilities(const model::LayerAttention& attention, int64_t q_begin, int64_t k_begin,
                       const torch::Tensor& probs) override;

  // received[b][slot] as a [B, T] float32 tensor on the device of the first
  // observed layer: the formula above at real slots; NaN at padding and at a
  // key with no eligible query (without include_self: the last real token of
  // a row, which downstream ranks last). Throws when no layer was observed.
  torch::Tensor Result() const;

  // Forgets everything observed (to reuse the accumulator for another batch).
  void Reset();

  // Number of layers added so far.
  int64_t layers_used() const { return layers_used_; }

  // Whether the layer goes through the fused kernel.
  bool UsesFusedKernel(const model::LayerAttention& attention) const;

 private:
  ReceivedAttentionOptions options_;
  torch::Tensor sum_;    // [B, T] float32: sum over layers of (column sum / H)
  torch::Tensor valid_;  // [B, T] bool, real slots
  int64_t layers_used_ = 0;
  int64_t heads_ = 0;  // of the layer being observed
};

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_RECEIVED_ATTENTION_H_
