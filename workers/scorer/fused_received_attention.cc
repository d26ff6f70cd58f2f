#include "workers/scorer/fused_received_attention.h"

#include <limits>

#include "workers/scorer/received_attention_launch.h"

namespace cluedrop::scorer {
namespace {

// The tensor as the kernel reads it: head-dim stride 1.
torch::Tensor UnitLastStride(const torch::Tensor& t) {
  return t.stride(3) == 1 ? t : t.contiguous();
}

int CheckedInt(int64_t v, const char* what) {
  TORCH_CHECK(v >= 0 && v <= std::numeric_limits<int>::max(), "fused received attention: ", what,
              " ", v, " does not fit the kernel's int");
  return static_cast<int>(v);
}

}  // namespace

void AddFusedColumnSums(const model::LayerAttention& a, const torch::Tensor& valid,
                        bool include_self, torch::Tensor& column_sum) {
  const torch::Tensor q = UnitLastStride(a.query), k = UnitLastStride(a.key);
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4, "fused received attention: query and key must be 4-d");
  const int64_t b = q.size(0), heads = q.size(1), t = q.size(2), d = q.size(3), kv = k.size(1);
  TORCH_CHECK(a.mask.query_offset == 0 && k.size(0) == b && k.size(2) == t && k.size(3) == d,
              "fused received attention needs a cache-free forward, got query ", q.sizes(),
              ", key ", k.sizes());
  TORCH_CHECK(d > 0, "fused received attention: head dim must be > 0");
  TORCH_CHECK(kv > 0 && heads % kv == 0, "fused received attention: ", kv,
              " key heads do not divide ", heads, " query heads");
  TORCH_CHECK(k.scalar_type() == q.scalar_type() && k.device() == q.device(),
              "fused received attention: query and key differ in dtype or device");
  TORCH_CHECK(valid.scalar_type() == torch::kBool && valid.sizes() == torch::IntArrayRef({b, t}) &&
                  valid.device() == q.device(),
              "fused received attention: valid must be [", b, ", ", t, "] bool on ", q.device());
  TORCH_CHECK(column_sum.scalar_type() == torch::kFloat && column_sum.is_contiguous() &&
                  column_sum.sizes() == torch::IntArrayRef({b, t}) &&
                  column_sum.device() == q.device(),
              "fused received attention: column_sum must be contiguous [", b, ", ", t,
              "] float32 on ", q.device());

  if (b == 0 || t == 0) return;  // nothing to add (a GPU grid cannot be empty)
  const torch::Tensor valid_bytes = valid.contiguous();
  torch::Tensor row_lse = torch::empty({b, heads, t}, column_sum.options());
  kernel::Problem p;
  p.batch = CheckedInt(b, "batch");
  p.heads = CheckedInt(heads, "heads");
  p.kv_heads = CheckedInt(kv, "key heads");
  p.tokens = CheckedInt(t, "tokens");
  p.head_dim = CheckedInt(d, "head dim");
  p.q_stride_b = q.stride(0);
  p.q_stride_h = q.stride(1);
  p.q_stride_t = q.stride(2);
  p.k_stride_b = k.stride(0);
  p.k_stride_h = k.stride(1);
  p.k_stride_t = k.stride(2);
  p.query = q.data_ptr();
  p.key = k.data_ptr();
  // A bool tensor stores one byte per element, 0 or 1.
  p.key_valid = reinterpret_cast<const uint8_t*>(valid_bytes.data_ptr<bool>());
  p.scale = static_cast<float>(a.scale);
  p.softcap = a.softcap ? static_cast<float>(*a.softcap) : 0.0f;
  p.window = a.mask.sliding_window ? *a.mask.sliding_window : 0;
  TORCH_CHECK(!a.mask.sliding_window || p.window > 0,
              "fused received attention: sliding window must be > 0");
  p.include_self = include_self;
  p.column_weight = 1.0f / static_cast<float>(heads);
  p.row_lse = row_lse.data_ptr<float>();
  p.column_sum = column_sum.data_ptr<float>();

  if (q.is_cuda()) {
    internal::LaunchFusedOnCurrentStream(p, q.scalar_type(), q.device());
    return;
  }
  TORCH_CHECK(q.is_cpu() && q.scalar_type() == torch::kFloat,
              "fused received attention: the host emulation takes CPU float32 tensors, got ",
              q.scalar_type(), " on ", q.device());
  kernel::EmulateReceivedAttention(p);
}

}  // namespace cluedrop::scorer
