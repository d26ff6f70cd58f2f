#include "workers/scorer/received_attention.h"

#include <ATen/Context.h>

#include <algorithm>
#include <limits>
#include <utility>

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

int64_t ReceivedAttentionAccumulator::ProbabilityTile(const model::LayerAttention& a) const {
  if (!options_.reuse_forward_probabilities) return 0;
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
  torch::Tensor weight = valid_.narrow(1, q_begin, n).to(probs.device(), torch::kFloat).unsqueeze(1);
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
  const int64_t group = heads / kv;
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
  if (options_.reuse_forward_probabilities) {
    ++layers_used_;  // the column sums arrive through OnProbabilities
    return;
  }

  // Reduced-precision q/k are exact in TF32 (8-bit bf16 / 10-bit fp16
  // mantissas fit its 10 bits), so their float32 products may use TF32
  // tensor cores without changing a bit of the result.
  const bool reduced = q.scalar_type() == torch::kBFloat16 || q.scalar_type() == torch::kHalf;
  struct Tf32Guard {
    bool saved = at::globalContext().allowTF32CuBLAS();
    explicit Tf32Guard(bool on) {
      if (on) at::globalContext().setAllowTF32CuBLAS(true);
    }
    ~Tf32Guard() { at::globalContext().setAllowTF32CuBLAS(saved); }
  } tf32(reduced && device.is_cuda());
  const torch::Tensor qf = q.to(torch::kFloat);
  const torch::Tensor kf = k.to(torch::kFloat);
  const torch::Tensor row_weight = valid_.to(device, torch::kFloat);  // real query rows
  const float neg_inf = -std::numeric_limits<float>::infinity();
  auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(device);
  torch::Tensor layer_sum =
      torch::zeros({b, t}, torch::TensorOptions().dtype(torch::kFloat).device(device));

  for (int64_t r0 = 0; r0 < t; r0 += options_.tile) {
    const int64_t r1 = std::min(t, r0 + options_.tile), n = r1 - r0;
    // Keys any row of the tile may see: causal up to the last row, and no
    // further back than the first row's window.
    const int64_t k0 =
        a.mask.sliding_window ? std::max<int64_t>(0, r0 - *a.mask.sliding_window + 1) : 0;
    const int64_t k1 = r1, kn = k1 - k0;
    // [B, H, n, D] -> [B, KV, G*n, D]: head h = kv*G + g uses key head kv.
    torch::Tensor qg = qf.narrow(2, r0, n).reshape({b, kv, group * n, d});
    torch::Tensor s = torch::matmul(qg, kf.narrow(2, k0, kn).transpose(-1, -2));
    s = s.view({b, heads, n, kn});
    s.mul_(a.scale);
    if (a.softcap) s.div_(*a.softcap).tanh_().mul_(*a.softcap);
    torch::Tensor allowed = model::AttentionMaskBlock(a.mask, r0, r1, k0, k1, device);
    s.masked_fill_(allowed.logical_not(), neg_inf);
    torch::Tensor lse = torch::logsumexp(s, -1, /*keepdim=*/true);
    s.sub_(lse).exp_();  // probabilities
    if (!options_.include_self) {
      torch::Tensor q_slot = torch::arange(r0, r1, long_opts).unsqueeze(1);
      torch::Tensor k_slot = torch::arange(k0, k1, long_opts).unsqueeze(0);
      s.masked_fill_(k_slot.eq(q_slot), 0.0);
    }
    // Sum over heads, then over real query rows: [B, 1, n] x [B, n, kn].
    torch::Tensor per_row = s.sum(1);
    torch::Tensor cols = torch::bmm(row_weight.narrow(1, r0, n).unsqueeze(1), per_row).squeeze(1);
    layer_sum.narrow(1, k0, kn).add_(cols);
  }
  layer_sum.div_(static_cast<double>(heads));
  sum_.add_(layer_sum.to(sum_.device()));
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
