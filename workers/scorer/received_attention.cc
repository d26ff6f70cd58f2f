#include "workers/scorer/received_attention.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "workers/scorer/fused_received_attention.h"

namespace cluedrop::scorer {

ReceivedAttentionAccumulator::ReceivedAttentionAccumulator(ReceivedAttentionOptions options)
    : options_(std::move(options)) {
  TORCH_CHECK(options_.tile > 0, "received attention: tile must be > 0, got ", options_.tile);
}

void ReceivedAttentionAccumulator::Reset() {
  sum_ = torch::Tensor();
  valid_ = torch::Tensor();
  layers_used_ = 0;
}

bool ReceivedAttentionAccumulator::UsesFusedKernel(const model::LayerAttention& a) const {
  switch (options_.kernel) {
    case AttentionKernel::kFused:
      return true;
    case AttentionKernel::kTiled:
      return false;
    case AttentionKernel::kAuto:
      // The tiles, verified on CUDA; the fused kernel is opt-in until it has
      // passed scripts/gpu_check (attention_kernel.h).
      return false;
  }
  return false;
}

int64_t ReceivedAttentionAccumulator::ProbabilityTile(const model::LayerAttention& a) const {
  if (!options_.reuse_forward_probabilities || UsesFusedKernel(a)) return 0;
  if (!options_.layers.empty() && options_.layers.count(a.layer) == 0) return 0;
  return options_.tile;
}

void ReceivedAttentionAccumulator::OnProbabilities(const model::LayerAttention& a, int64_t q_begin,
                                                   int64_t k_begin, const torch::Tensor& probs) {
  const int64_t n = probs.size(2), kn = probs.size(3);
  torch::Tensor p = probs;
  if (!options_.include_self) {
    auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(probs.device());
    torch::Tensor q_slot = torch::arange(q_begin, q_begin + n, long_opts).unsqueeze(1);
    torch::Tensor k_slot = torch::arange(k_begin, k_begin + kn, long_opts).unsqueeze(0);
    p = p.masked_fill(k_slot.eq(q_slot), 0.0);  // not in place: the layer still needs probs
  }
  torch::Tensor per_row = p.sum(1);  // over heads: [B, n, kn]
  torch::Tensor weight =
      valid_.narrow(1, q_begin, n).to(probs.device(), torch::kFloat).unsqueeze(1);
  torch::Tensor cols = torch::bmm(weight, per_row).squeeze(1);
  sum_.narrow(1, k_begin, kn).add_(cols.div_(static_cast<double>(heads_)).to(sum_.device()));
}

void ReceivedAttentionAccumulator::OnLayer(const model::LayerAttention& a) {
  if (!options_.layers.empty() && options_.layers.count(a.layer) == 0) return;
  const torch::Tensor& q = a.query;
  const torch::Tensor& k = a.key;
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4, "received attention: query and key must be 4-d, got ",
              q.sizes(), " and ", k.sizes());
  const int64_t b = q.size(0), heads = q.size(1), t = q.size(2), d = q.size(3);
  const int64_t kv = k.size(1);
  TORCH_CHECK(a.mask.query_offset == 0 && k.size(2) == t && k.size(0) == b && k.size(3) == d,
              "received attention needs a cache-free forward (keys == queries), got query ",
              q.sizes(), ", key ", k.sizes(), ", query offset ", a.mask.query_offset);
  TORCH_CHECK(kv > 0 && heads % kv == 0, "received attention: ", kv, " key heads do not divide ",
              heads, " query heads");
  const torch::Device device = q.device();

  if (!sum_.defined()) {
    auto f32 = torch::TensorOptions().dtype(torch::kFloat).device(device);
    sum_ = torch::zeros({b, t}, f32);
    valid_ = a.mask.key_valid.defined() ? a.mask.key_valid.to(device, torch::kBool).clone()
                                        : torch::ones({b, t}, f32.dtype(torch::kBool));
  } else {
    TORCH_CHECK(sum_.size(0) == b && sum_.size(1) == t, "received attention: layer ", a.layer,
                " has batch/tokens ", b, "x", t, ", earlier layers ", sum_.size(0), "x",
                sum_.size(1), " (call Reset() between forwards)");
  }
  TORCH_CHECK(valid_.size(0) == b && valid_.size(1) == t, "received attention: key_valid is ",
              valid_.sizes(), ", expected [", b, ", ", t, "]");
  heads_ = heads;
  if (UsesFusedKernel(a)) {
    AddFusedColumnSums(a, valid_, options_.include_self, sum_);
    ++layers_used_;
    return;
  }
  if (options_.reuse_forward_probabilities) {
    ++layers_used_;  // the column sums arrive through OnProbabilities
    return;
  }

  // Recompute the probabilities from the observed queries and keys.
  const torch::Tensor kf = k.to(torch::kFloat);
  for (int64_t r0 = 0; r0 < t; r0 += options_.tile) {
    model::AttentionTile tile =
        model::TileProbabilities(a, kf, r0, std::min(t, r0 + options_.tile));
    OnProbabilities(a, r0, tile.k_begin, tile.probs);
  }
  ++layers_used_;
}

torch::Tensor ReceivedAttentionAccumulator::Result() const {
  TORCH_CHECK(layers_used_ > 0, "received attention: no selected layer was observed");
  torch::Tensor real = valid_.to(torch::kLong);
  torch::Tensor from_here = real.flip({1}).cumsum(1).flip({1});  // real slots >= j
  torch::Tensor queries = options_.include_self ? from_here : from_here - real;
  torch::Tensor out =
      sum_ / (queries.to(torch::kDouble) * static_cast<double>(layers_used_)).to(torch::kFloat);
  out.masked_fill_(queries.eq(0).logical_or(valid_.logical_not()),
                   std::numeric_limits<float>::quiet_NaN());
  return out;
}

}  // namespace cluedrop::scorer
