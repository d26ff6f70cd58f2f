#include "workers/model/attention.h"

#include <ATen/Context.h>

#include <algorithm>
#include <limits>
#include <vector>

namespace cluedrop::model {
namespace {

torch::Tensor RepeatKv(const torch::Tensor& x, int64_t heads) {
  const int64_t kv = x.size(1);
  if (kv == heads) return x;
  return x.repeat_interleave(heads / kv, /*dim=*/1);
}

// Scaled (and soft-capped) scores plus mask, in float32.
torch::Tensor MaskedScores(const torch::Tensor& q, const torch::Tensor& k, double scale,
                           std::optional<double> softcap, const AttentionMaskSpec& spec) {
  torch::Tensor keys = RepeatKv(k, q.size(1));
  torch::Tensor scores = torch::matmul(q, keys.transpose(-1, -2)) * scale;
  if (softcap) scores = torch::tanh(scores / *softcap) * *softcap;
  scores = scores.to(torch::kFloat);
  torch::Tensor mask = AttentionMaskBlock(spec, 0, q.size(2), 0, k.size(2), q.device());
  return scores.masked_fill(mask.logical_not(), -std::numeric_limits<float>::infinity());
}

}  // namespace

torch::Tensor BuildAttentionMask(const AttentionMaskSpec& spec, int64_t tq, int64_t tk,
                                 const torch::Device& device) {
  const bool padded = spec.key_valid.defined();
  if (!padded && !spec.sliding_window && spec.query_offset == 0 && tq == tk) return {};
  if (!padded && !spec.sliding_window && tq == 1) return {};
  return AttentionMaskBlock(spec, 0, tq, 0, tk, device);
}

torch::Tensor AttentionMaskBlock(const AttentionMaskSpec& spec, int64_t q_begin, int64_t q_end,
                                 int64_t k_begin, int64_t k_end, const torch::Device& device) {
  const bool padded = spec.key_valid.defined();
  auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(device);
  torch::Tensor q_slot =
      torch::arange(spec.query_offset + q_begin, spec.query_offset + q_end, long_opts).unsqueeze(1);
  torch::Tensor k_slot = torch::arange(k_begin, k_end, long_opts).unsqueeze(0);
  torch::Tensor allowed = k_slot <= q_slot;  // [Tq, Tk]
  if (spec.sliding_window) allowed = allowed.logical_and((q_slot - k_slot) < *spec.sliding_window);
  allowed = allowed.unsqueeze(0).unsqueeze(0);  // [1, 1, Tq, Tk]
  if (padded) {
    torch::Tensor valid = spec.key_valid.narrow(1, k_begin, k_end - k_begin)
                              .to(device, torch::kBool)
                              .unsqueeze(1)
                              .unsqueeze(1);
    allowed = allowed.logical_and(valid);  // [B, 1, Tq, Tk]
    // A query with nothing to attend to (a pad slot before any real token)
    // keeps its own slot so that softmax stays finite.
    allowed = allowed.logical_or((k_slot == q_slot).unsqueeze(0).unsqueeze(0));
  }
  return allowed;
}

torch::Tensor Attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     double scale, std::optional<double> softcap, const AttentionMaskSpec& spec) {
  if (softcap) {
    torch::Tensor probs = torch::softmax(MaskedScores(q, k, scale, softcap, spec), -1);
    return torch::matmul(probs.to(q.scalar_type()), RepeatKv(v, q.size(1)));
  }
  const int64_t tq = q.size(2), tk = k.size(2);
  torch::Tensor mask = BuildAttentionMask(spec, tq, tk, q.device());
  const bool causal = !mask.defined() && tq == tk && spec.query_offset == 0 && tq > 1;
  const bool gqa = k.size(1) != q.size(1);
  std::optional<torch::Tensor> attn_mask;
  if (mask.defined()) attn_mask = mask;
  return at::scaled_dot_product_attention(q, k, v, attn_mask, 0.0, causal, scale, gqa);
}

AttentionTile TileProbabilities(const LayerAttention& a, const torch::Tensor& key_f32, int64_t r0,
                                int64_t r1) {
  const torch::Tensor& q = a.query;
  const int64_t b = q.size(0), heads = q.size(1), d = q.size(3), n = r1 - r0;
  const int64_t kv = key_f32.size(1), group = heads / kv;
  // Keys any row of the tile may see: causal up to the last row, and no
  // further back than the first row's window.
  const int64_t k0 =
      a.mask.sliding_window ? std::max<int64_t>(0, r0 - *a.mask.sliding_window + 1) : 0;
  const int64_t kn = r1 - k0;
  // Reduced-precision q/k are exact in TF32 (8-bit bf16 / 10-bit fp16
  // mantissas fit its 10 bits), so their float32 products may use TF32
  // tensor cores without changing a bit of the result.
  const bool reduced = q.scalar_type() == torch::kBFloat16 || q.scalar_type() == torch::kHalf;
  const bool saved_tf32 = at::globalContext().allowTF32CuBLAS();
  if (reduced && q.is_cuda()) at::globalContext().setAllowTF32CuBLAS(true);
  // [B, H, n, D] -> [B, KV, G*n, D]: head h = kv*G + g uses key head kv.
  torch::Tensor qg = q.narrow(2, r0, n).to(torch::kFloat).reshape({b, kv, group * n, d});
  torch::Tensor s = torch::matmul(qg, key_f32.narrow(2, k0, kn).transpose(-1, -2));
  at::globalContext().setAllowTF32CuBLAS(saved_tf32);
  s = s.view({b, heads, n, kn});
  s.mul_(a.scale);
  if (a.softcap) s.div_(*a.softcap).tanh_().mul_(*a.softcap);
  s.masked_fill_(AttentionMaskBlock(a.mask, r0, r1, k0, r1, q.device()).logical_not(),
                 -std::numeric_limits<float>::infinity());
  return {k0, torch::softmax(s, -1)};
}

torch::Tensor AttendInTiles(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            const LayerAttention& a, AttentionObserver& observer, int64_t tile) {
  TORCH_CHECK(a.mask.query_offset == 0 && q.size(2) == k.size(2),
              "tiled attention needs a cache-free forward");
  TORCH_CHECK(tile > 0, "tiled attention: tile must be > 0");
  const int64_t b = q.size(0), heads = q.size(1), t = q.size(2), d = q.size(3);
  const int64_t kv = k.size(1), group = heads / kv;
  const torch::Tensor kf = k.to(torch::kFloat);
  std::vector<torch::Tensor> outputs;
  for (int64_t r0 = 0; r0 < t; r0 += tile) {
    const int64_t r1 = std::min(t, r0 + tile), n = r1 - r0;
    AttentionTile tile_probs = TileProbabilities(a, kf, r0, r1);
    observer.OnProbabilities(a, r0, tile_probs.k_begin, tile_probs.probs);
    const int64_t kn = r1 - tile_probs.k_begin;
    torch::Tensor out =
        torch::matmul(tile_probs.probs.to(v.scalar_type()).view({b, kv, group * n, kn}),
                      v.narrow(2, tile_probs.k_begin, kn));
    outputs.push_back(out.view({b, heads, n, d}));
  }
  return torch::cat(outputs, 2);
}

torch::Tensor ObservedAttend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const LayerAttention& a, AttentionObserver* observer) {
  if (observer != nullptr) {
    observer->OnLayer(a);
    const int64_t tile = observer->ProbabilityTile(a);
    if (tile > 0) return AttendInTiles(q, k, v, a, *observer, tile);
  }
  return Attend(q, k, v, a.scale, a.softcap, a.mask);
}

torch::Tensor AttentionProbabilities(const LayerAttention& a) {
  return torch::softmax(
      MaskedScores(a.query.to(torch::kFloat), a.key.to(torch::kFloat), a.scale, a.softcap, a.mask),
      -1);
}

}  // namespace cluedrop::model
